// cross_entropy.cpp — cross-entropies on probabilities (categorical, sparse
// categorical, binary) and binary cross-entropy on logits.
//
// Categorical (keras/src/backend/numpy/nn.py categorical_crossentropy): with
// S = sum p, q = p/S and q' = clip(q, eps, 1-eps), loss = -sum t_j log q'_j.
// Its gradient through the normalisation: a_j = -t_j/q_j where q_j is inside
// the clip range (0 where the clip is active), then
//   dp_i = (a_i - sum_j a_j q_j) / S.
// Row sums are accumulated in double, serially, in column order.
#include <cmath>

#include "common/check.h"
#include "losses/loss_rows.h"

namespace pycnn {
namespace {

constexpr double kLo = kProbEpsilon, kHi = 1.0 - double(kProbEpsilon);

inline double clip_prob(double q) { return q < kLo ? kLo : (q > kHi ? kHi : q); }
inline bool inside_clip(double q) { return q > kLo && q < kHi; }

// One row of the categorical cross-entropy; `label(j)` is t_j.
template <typename Label>
void categorical_row(float* loss, float* g, const float* p, int64_t C, Label label) {
  double S = 0;
  for (int64_t j = 0; j < C; ++j) S += p[j];
  double acc = 0, dot = 0;
  for (int64_t j = 0; j < C; ++j) {
    double q = p[j] / S, t = label(j);
    acc -= t == 0 ? 0.0 : t * std::log(clip_prob(q));
    double a = inside_clip(q) ? -t / q : 0.0;
    g[j] = float(a);  // a_j, finished below
    dot += a * q;
  }
  *loss = float(acc);
  for (int64_t j = 0; j < C; ++j) g[j] = float((double(g[j]) - dot) / S);
}

}  // namespace

void categorical_cross_entropy(float* loss, float* dprobs, const float* probs, const float* labels,
                               const LossShape& s) {
  const int64_t C = s.cols;
  for_each_row(s, [&](int64_t r) {
    const float* t = labels + r * C;
    categorical_row(loss + r, dprobs + r * C, probs + r * C, C, [t](int64_t j) { return double(t[j]); });
  });
}

void categorical_cross_entropy_sparse(float* loss, float* dprobs, const float* probs, const int32_t* labels,
                                      const LossShape& s) {
  const int64_t C = s.cols;
  for (int64_t r = 0; r < s.rows; ++r)
    check(labels[r] >= 0 && labels[r] < C, "categorical_cross_entropy", "label ", labels[r], " of sample ", r,
          " is outside the valid range [0, ", C, ")");
  for_each_row(s, [&](int64_t r) {
    const int64_t k = labels[r];
    categorical_row(loss + r, dprobs + r * C, probs + r * C, C, [k](int64_t j) { return j == k ? 1.0 : 0.0; });
  });
}

// Probabilities: l_j = -(t log p' + (1-t) log(1-p')), dp_j = (-t/p + (1-t)/(1-p))/C
// inside the clip range, 0 outside.
// Logits: l_j = max(z,0) - z t + log1p(exp(-|z|)), dz_j = (sigmoid(z) - t)/C.
void binary_cross_entropy(float* loss, float* dpred, const float* pred, const float* target, const LossShape& s,
                          bool from_logits) {
  const int64_t C = s.cols;
  const double inv_c = 1.0 / double(C);
  for_each_row(s, [&](int64_t r) {
    const float* p = pred + r * C;
    const float* t = target + r * C;
    float* g = dpred + r * C;
    double acc = 0;
    for (int64_t j = 0; j < C; ++j) {
      double x = p[j], y = t[j];
      if (from_logits) {
        double e = std::exp(-std::fabs(x));  // in (0, 1]: no overflow
        acc += (x > 0 ? x : 0.0) - x * y + std::log1p(e);
        double sig = x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
        g[j] = float((sig - y) * inv_c);
      } else {
        double pc = clip_prob(x);
        acc -= y * std::log(pc) + (1.0 - y) * std::log(1.0 - pc);
        g[j] = inside_clip(x) ? float((-y / x + (1.0 - y) / (1.0 - x)) * inv_c) : 0.f;
      }
    }
    loss[r] = float(acc * inv_c);
  });
}

}  // namespace pycnn
