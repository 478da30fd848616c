// softmax_xent.cpp — fused softmax + cross-entropy on logits.
//
// Per row, with m = max(z), e_j = exp(z_j - m), S = sum e_j:
//   lse - z_j = log S - (z_j - m)          (never forms lse itself, so large
//                                            logits lose no precision)
//   loss = sum_j t_j·(log S - (z_j - m)),  dz_j = e_j·sum(t)/S - t_j.
// The exponentials come from the activations family's vectorised exp and
// are stored straight into dlogits, then turned into the gradient in place.
#include <cmath>

#include "activations/activations.h"
#include "common/check.h"
#include "losses/loss_rows.h"

namespace pycnn {

LossShape loss_shape(const char* op, int64_t rows, int64_t cols) {
  check(cols >= 1, op, "expected at least one class / output along the last axis, got ", cols);
  check(rows >= 0, op, "negative number of samples ", rows);
  checked_mul(rows, cols, op);
  return {rows, cols};
}

void softmax_cross_entropy(float* loss, float* dlogits, const float* logits, const float* labels,
                           const LossShape& s) {
  const int64_t C = s.cols;
  for_each_row(s, [&](int64_t r) {
    const float* z = logits + r * C;
    const float* t = labels + r * C;
    float* g = dlogits + r * C;
    float m = row_max(z, C);
    float S = exp_shifted_sum(g, z, m, C);
    float log_s = std::log(S);
    float tsum = 0.f, acc = 0.f;
    for (int64_t j = 0; j < C; ++j) {
      tsum += t[j];
      // A class with t_j = 0 adds nothing, even where z_j - m overflows to
      // -inf (logits near ±3e38): 0·inf would make the loss NaN.
      acc += t[j] == 0.f ? 0.f : t[j] * (log_s - (z[j] - m));
    }
    loss[r] = acc;
    float scale = tsum / S;
#pragma omp simd
    for (int64_t j = 0; j < C; ++j) g[j] = g[j] * scale - t[j];
  });
}

void softmax_cross_entropy_sparse(float* loss, float* dlogits, const float* logits, const int32_t* labels,
                                  const LossShape& s) {
  const int64_t C = s.cols;
  for (int64_t r = 0; r < s.rows; ++r)
    check(labels[r] >= 0 && labels[r] < C, "softmax_cross_entropy", "label ", labels[r], " of sample ", r,
          " is outside the valid range [0, ", C, ")");
  for_each_row(s, [&](int64_t r) {
    const float* z = logits + r * C;
    float* g = dlogits + r * C;
    const int64_t k = labels[r];
    float m = row_max(z, C);
    float S = exp_shifted_sum(g, z, m, C);
    loss[r] = std::log(S) - (z[k] - m);
    float inv = 1.f / S;
#pragma omp simd
    for (int64_t j = 0; j < C; ++j) g[j] *= inv;
    g[k] -= 1.f;
  });
}

}  // namespace pycnn
