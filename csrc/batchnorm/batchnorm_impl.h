// batchnorm_impl.h — batch-norm loops, compiled once per instruction set.
//
// Included by batchnorm_kernels{,_avx2,_avx512}.cpp inside their own
// namespace (PYCNN_BN_NS) with their own table (PYCNN_BN_TABLE). Channels
// are innermost, so each row is one vector loop over C; the chunk loops keep
// float accumulators (a chunk is at most a few hundred rows, cache resident)
// and hand double results to the caller.
#include <cmath>

#include "batchnorm/batchnorm_kernels.h"

namespace pycnn {
namespace PYCNN_BN_NS {
namespace {

// Plain two-pass moments of one channel (stride C) in double: the slow path
// for values whose float sums or squares overflow; double holds (3.4e38)^2.
void channel_moments_double(double* mean, double* m2, const float* x, int64_t rows, int64_t C) {
  double sum = 0, sq = 0;
  for (int64_t r = 0; r < rows; ++r) sum += x[r * C];
  const double mu = sum / double(rows);
  for (int64_t r = 0; r < rows; ++r) {
    double d = double(x[r * C]) - mu;
    sq += d * d;
  }
  *mean = mu;
  *m2 = sq;
}

// Corrected two-pass moments: a float sum gives a shift m'; the second pass
// sums d = x - m' and d^2, so mean = m' + sum d / n and M2 = sum d^2 -
// (sum d)^2 / n stay exact-ish even for |mean| >> std.
void chunk_moments(double* mean, double* m2, const float* __restrict x, int64_t rows, int64_t C,
                   float* __restrict scratch) {
  float* __restrict s = scratch;
  float* __restrict q = scratch + C;
#pragma omp simd
  for (int64_t c = 0; c < C; ++c) s[c] = 0.f;
  for (int64_t r = 0; r < rows; ++r) {
    const float* __restrict xr = x + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) s[c] += xr[c];
  }
  const float inv_rows = 1.f / float(rows);
#pragma omp simd
  for (int64_t c = 0; c < C; ++c) {
    s[c] *= inv_rows;  // the shift m'
    q[c] = 0.f;
    mean[c] = 0.0;
  }
  for (int64_t r = 0; r < rows; ++r) {
    const float* __restrict xr = x + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) {
      float d = xr[c] - s[c];
      mean[c] += d;  // double: sum of small deviations
      q[c] += d * d;
    }
  }
  for (int64_t c = 0; c < C; ++c) {
    if (!std::isfinite(q[c])) {  // float overflow (|x - m'| > 1.8e19) or a non-finite x
      channel_moments_double(mean + c, m2 + c, x + c, rows, C);
      continue;
    }
    double sd = mean[c];
    mean[c] = double(s[c]) + sd / double(rows);
    m2[c] = double(q[c]) - sd * sd / double(rows);
    if (m2[c] < 0.0) m2[c] = 0.0;
  }
}

template <Activation kind>
inline float activate(float v, float alpha) {
  if constexpr (kind == Activation::kRelu) return v < 0.f ? 0.f : v;  // NaN propagates
  if constexpr (kind == Activation::kLeakyRelu) return v < 0.f ? v * alpha : v;
  return v;
}

template <Activation kind>
void normalize_rows(float* __restrict y, const float* __restrict x, const float* __restrict center,
                    const float* __restrict scale, const float* __restrict shift, int64_t rows,
                    int64_t C, float alpha) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* __restrict xr = x + r * C;
    float* __restrict yr = y + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; ++c)
      yr[c] = activate<kind>((xr[c] - center[c]) * scale[c] + shift[c], alpha);
  }
}

void normalize(float* y, const float* x, const float* center, const float* scale,
               const float* shift, int64_t rows, int64_t C, ActivationSpec act) {
  switch (act.kind) {
    case Activation::kNone: return normalize_rows<Activation::kNone>(y, x, center, scale, shift, rows, C, 0.f);
    case Activation::kRelu: return normalize_rows<Activation::kRelu>(y, x, center, scale, shift, rows, C, 0.f);
    case Activation::kLeakyRelu:
      return normalize_rows<Activation::kLeakyRelu>(y, x, center, scale, shift, rows, C, act.alpha);
    default:  // exp-based activations: scalar epilogue
      normalize_rows<Activation::kNone>(y, x, center, scale, shift, rows, C, 0.f);
      for (int64_t i = 0; i < rows * C; ++i) y[i] = apply_activation(y[i], act);
  }
}

// The gradient of the normalised output through a fused activation, from
// its output y (the same expressions as activations/elementwise_impl.h).
template <Activation kind>
inline float through(float g, float y, float alpha) {
  if constexpr (kind == Activation::kRelu) return y > 0.f ? g : 0.f;
  if constexpr (kind == Activation::kLeakyRelu) return y > 0.f ? g : g * alpha;
  return g;
}

template <Activation kind>
void grad_sums_rows(double* sum_dy, double* sum_dy_xc, double* sum_xc, const float* __restrict dy,
                    const float* __restrict y, const float* __restrict x, const float* __restrict center,
                    int64_t rows, int64_t C, float alpha, float* __restrict scratch) {
  float* __restrict s = scratch;
  float* __restrict t = scratch + C;
  float* __restrict u = scratch + 2 * C;
#pragma omp simd
  for (int64_t c = 0; c < C; ++c) s[c] = t[c] = u[c] = 0.f;
  for (int64_t r = 0; r < rows; ++r) {
    const float* __restrict g = dy + r * C;
    const float* __restrict yr = kind == Activation::kNone ? g : y + r * C;
    const float* __restrict xr = x + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) {
      float xc = xr[c] - center[c];
      float gc = through<kind>(g[c], yr[c], alpha);
      s[c] += gc;
      t[c] += gc * xc;
      u[c] += xc;
    }
  }
  for (int64_t c = 0; c < C; ++c) {
    sum_dy[c] = s[c];
    sum_dy_xc[c] = t[c];
    sum_xc[c] = u[c];
  }
}

void chunk_grad_sums(double* sum_dy, double* sum_dy_xc, double* sum_xc, const float* dy, const float* y,
                     const float* x, const float* center, int64_t rows, int64_t C, ActivationSpec act,
                     float* scratch) {
  switch (act.kind) {
    case Activation::kRelu:
      return grad_sums_rows<Activation::kRelu>(sum_dy, sum_dy_xc, sum_xc, dy, y, x, center, rows, C, 0.f, scratch);
    case Activation::kLeakyRelu:
      return grad_sums_rows<Activation::kLeakyRelu>(sum_dy, sum_dy_xc, sum_xc, dy, y, x, center, rows, C,
                                                    act.alpha, scratch);
    default:
      return grad_sums_rows<Activation::kNone>(sum_dy, sum_dy_xc, sum_xc, dy, y, x, center, rows, C, 0.f, scratch);
  }
}

template <Activation kind>
void backward_rows(float* __restrict dx, const float* __restrict dy, const float* __restrict y,
                   const float* __restrict x, const float* __restrict center, const float* __restrict a,
                   const float* __restrict b, const float* __restrict k, int64_t rows, int64_t C, float alpha) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* __restrict g = dy + r * C;
    const float* __restrict yr = kind == Activation::kNone ? g : y + r * C;
    const float* __restrict xr = x + r * C;
    float* __restrict d = dx + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; ++c)
      d[c] = a[c] * through<kind>(g[c], yr[c], alpha) + b[c] * (xr[c] - center[c]) + k[c];
  }
}

void backward_apply(float* dx, const float* dy, const float* y, const float* x, const float* center,
                    const float* a, const float* b, const float* k, int64_t rows, int64_t C, ActivationSpec act) {
  switch (act.kind) {
    case Activation::kRelu:
      return backward_rows<Activation::kRelu>(dx, dy, y, x, center, a, b, k, rows, C, 0.f);
    case Activation::kLeakyRelu:
      return backward_rows<Activation::kLeakyRelu>(dx, dy, y, x, center, a, b, k, rows, C, act.alpha);
    default:
      return backward_rows<Activation::kNone>(dx, dy, y, x, center, a, b, k, rows, C, 0.f);
  }
}

}  // namespace
}  // namespace PYCNN_BN_NS

extern const BatchNormKernels PYCNN_BN_TABLE{PYCNN_BN_NS::chunk_moments, PYCNN_BN_NS::normalize,
                                             PYCNN_BN_NS::chunk_grad_sums, PYCNN_BN_NS::backward_apply};

}  // namespace pycnn
