// batchnorm.cpp — validation, row chunking and ISA dispatch.
//
// Reductions over the M rows use fixed_chunks: the chunk size depends on C
// alone, each chunk yields double partials, and the partials are merged in
// chunk order on the calling thread (by the kernels' train_statistics and
// backward_coefficients, vector loops of their instruction set), so 1 and 2
// threads agree bit for bit.
#include "batchnorm/batchnorm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "activations/activations.h"
#include "batchnorm/batchnorm_kernels.h"
#include "common/check.h"
#include "common/cpu_features.h"
#include "common/parallel.h"
#include "common/workspace.h"

namespace pycnn {
namespace {

const BatchNormKernels& kernels() {
#if defined(PYCNN_X86)
  switch (active_isa()) {
    case Isa::kAvx512: return batchnorm_kernels_avx512;
    case Isa::kAvx2: return batchnorm_kernels_avx2;
    case Isa::kPortable: break;
  }
#endif
  return batchnorm_kernels_portable;
}

// Rows per reduction chunk: ~4K elements (L1/L2 resident for the second
// pass), at least 32 rows so the serial merge stays small next to the data.
FixedChunks row_chunks(const BatchNormShape& s) {
  int64_t rows = std::clamp<int64_t>(4096 / std::max<int64_t>(s.channels, 1), 32, 256);
  return fixed_chunks(s.rows, rows);
}

// Runs body(chunk index) over all chunks, forking only for enough work. A
// single chunk is called directly: parallel_for took 5 % of the dense
// layer's 32 x 128 forward.
template <typename Body>
void for_each_chunk(const FixedChunks& ch, int64_t channels, Body&& body) {
  if (ch.count == 1) return body(int64_t(0), thread_scratch(kScratchMisc).floats(size_t(3 * channels)));
  int64_t grain = std::max<int64_t>(1, kSerialElementwise / std::max<int64_t>(ch.chunk * channels, 1));
  parallel_for(ch.count, grain, [&](int64_t b, int64_t e) {
    float* scratch = thread_scratch(kScratchMisc).floats(size_t(3 * channels));
    for (int64_t i = b; i < e; ++i) body(i, scratch);
  });
}

// Runs body(row begin, row count) over all rows, forking only for enough work.
template <typename Body>
void for_rows(const BatchNormShape& s, Body&& body) {
  int64_t grain = std::max<int64_t>(1, kSerialElementwise / std::max<int64_t>(s.channels, 1));
  parallel_for(s.rows, grain, [&](int64_t b, int64_t e) { body(b, e - b); });
}

}  // namespace

BatchNormShape batch_norm_shape(const char* op, int64_t rows, int64_t channels) {
  check(rows >= 0 && channels >= 0, op, "sizes must be >= 0, got ", rows, " rows of ", channels,
        " channels");
  checked_product(op, rows, channels);
  return {rows, channels};
}

void batch_norm_forward_train(float* y, float* mean, float* inv_std, float* moving_mean,
                              float* moving_var, const float* x, const float* gamma,
                              const float* beta, float momentum, float eps, ActivationSpec act,
                              const BatchNormShape& s) {
  const int64_t C = s.channels;
  if (s.rows == 0) {
    for (int64_t c = 0; c < C; ++c) {
      mean[c] = 0.f;
      inv_std[c] = float(1.0 / std::sqrt(double(eps)));
    }
    return;
  }
  const BatchNormKernels& k = kernels();
  const FixedChunks ch = row_chunks(s);
  // partials: [chunk][mean | m2][C], their merge (2 C), then
  // three float vectors of C.
  double* part = static_cast<double*>(thread_scratch(kScratchPartial)
                                          .bytes(sizeof(double) * size_t((2 * ch.count + 2) * C) +
                                                 sizeof(float) * size_t(3 * C)));
  double* merged = part + 2 * ch.count * C;
  float* scale = reinterpret_cast<float*>(merged + 2 * C);
  float* shift = scale + C;
  for_each_chunk(ch, C, [&](int64_t i, float* scratch) {
    k.chunk_moments(part + 2 * i * C, part + (2 * i + 1) * C, x + ch.begin(i) * C, moving_mean,
                    ch.end(i) - ch.begin(i), C, scratch);
  });
  k.train_statistics(mean, inv_std, scale, shift, moving_mean, moving_var, part, ch, merged, gamma, beta, momentum,
                     eps, C);
  for_rows(s, [&](int64_t r, int64_t rows) {
    k.normalize(y + r * C, x + r * C, mean, scale, shift, rows, C, act);
  });
}

void batch_norm_forward_inference(float* y, const float* x, const float* gamma, const float* beta,
                                  const float* moving_mean, const float* moving_var, float eps,
                                  ActivationSpec act, const BatchNormShape& s) {
  const int64_t C = s.channels;
  if (s.rows == 0) return;
  float* scale = thread_scratch(kScratchPartial).floats(size_t(2 * C));
  float* shift = scale + C;
  for (int64_t c = 0; c < C; ++c) {
    double g = gamma ? double(gamma[c]) : 1.0;
    scale[c] = float(g / std::sqrt(double(moving_var[c]) + double(eps)));
    shift[c] = beta ? beta[c] : 0.f;
  }
  const BatchNormKernels& k = kernels();
  for_rows(s, [&](int64_t r, int64_t rows) {
    k.normalize(y + r * C, x + r * C, moving_mean, scale, shift, rows, C, act);
  });
}

void batch_norm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                         const float* gamma, const float* mean, const float* inv_std,
                         const BatchNormShape& s) {
  batch_norm_backward_activation(dx, dgamma, dbeta, dy, nullptr, x, gamma, mean, inv_std, {}, s);
}

void batch_norm_backward_activation(float* dx, float* dgamma, float* dbeta, const float* dy,
                                    const float* y, const float* x, const float* gamma,
                                    const float* mean, const float* inv_std, ActivationSpec act,
                                    const BatchNormShape& s) {
  const int64_t C = s.channels;
  std::vector<float> through;  // exp-based activations: differentiated in a pass of their own
  if (act.kind != Activation::kNone && act.kind != Activation::kRelu && act.kind != Activation::kLeakyRelu) {
    through.resize(size_t(s.rows * C));
    activation_backward_from_output(through.data(), dy, y, s.rows * C, act);
    dy = through.data();
    act = {};
  }
  const BatchNormKernels& k = kernels();
  const FixedChunks ch = row_chunks(s);
  // partials: [chunk][sum dy | sum dy (x - mean) | sum x - mean][C], their
  // totals (3 C), then three float vectors of C.
  double* part = static_cast<double*>(thread_scratch(kScratchPartial)
                                          .bytes(sizeof(double) * size_t((3 * ch.count + 3) * C) +
                                                 sizeof(float) * size_t(3 * C)));
  double* total = part + 3 * ch.count * C;
  float* a = reinterpret_cast<float*>(total + 3 * C);
  float* b = a + C;
  float* kk = b + C;
  for_each_chunk(ch, C, [&](int64_t i, float* scratch) {
    double* p = part + 3 * i * C;
    const int64_t r = ch.begin(i) * C;
    k.chunk_grad_sums(p, p + C, p + 2 * C, dy + r, y ? y + r : nullptr, x + r, mean, ch.end(i) - ch.begin(i), C,
                      act, scratch);
  });
  k.backward_coefficients(dgamma, dbeta, a, b, kk, total, part, ch.count, s.rows, gamma, inv_std, C);
  for_rows(s, [&](int64_t r, int64_t rows) {
    k.backward_apply(dx + r * C, dy + r * C, y ? y + r * C : nullptr, x + r * C, mean, a, b, kk, rows, C, act);
  });
}

}  // namespace pycnn
