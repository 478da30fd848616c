// batchnorm_impl.h — batch-norm loops, compiled once per instruction set.
//
// Included by batchnorm_kernels{,_avx2,_avx512}.cpp inside their own
// namespace (PYCNN_BN_NS) with their own table (PYCNN_BN_TABLE). Channels
// are innermost, so each row is one vector loop over C; the chunk loops keep
// float accumulators (a chunk is at most a few hundred rows, cache resident)
// and hand double results to the caller.
//
// Each loop is a template on kC, the channel count when it is one of the
// common widths (16, 32, 64, 128) and 0 otherwise (C at run time). With C
// known the row loop is straight-line code whose per-channel parameters and
// accumulators stay in registers; with C at run time every short row pays
// the vector loop's set-up and the accumulators go through memory (CIFAR's
// 32-channel layers ran 2-3x below the copy bandwidth).
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "batchnorm/batchnorm_kernels.h"
#include "common/channels.h"

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
// (sum d)^2 / n stay exact-ish even for |mean| >> std. One block of kW
// channels (kW = 0: w at run time) of rows `stride` floats apart.
template <int64_t kW>
void moments_block(double* mean, double* m2, const float* __restrict x, int64_t rows, int64_t stride,
                   int64_t w_runtime, float* __restrict scratch) {
  const int64_t W = kW ? kW : w_runtime;
  // Accumulators: registers for a constant width, else scratch (3*W floats) and `mean`.
  float s_local[kW ? kW : 1], q_local[kW ? kW : 1], p_local[kW ? kW : 1];
  double d_local[kW ? kW : 1];
  float* __restrict s = kW ? s_local : scratch;
  float* __restrict q = kW ? q_local : scratch + W;
  float* __restrict part = kW ? p_local : scratch + 2 * W;
  double* __restrict dsum = kW ? d_local : mean;
#pragma omp simd
  for (int64_t c = 0; c < W; ++c) s[c] = 0.f;
  for (int64_t r = 0; r < rows; ++r) {
    const float* __restrict xr = x + r * stride;
#pragma omp simd
    for (int64_t c = 0; c < W; ++c) s[c] += xr[c];
  }
  const float inv_rows = 1.f / float(rows);
#pragma omp simd
  for (int64_t c = 0; c < W; ++c) {
    s[c] *= inv_rows;  // the shift m'
    q[c] = 0.f;
    dsum[c] = 0.0;
  }
  // sum d goes to double in float partials of 8 rows: double on every row
  // (two conversions and two adds per 16 floats) took half the pass.
  for (int64_t r0 = 0; r0 < rows; r0 += 8) {
#pragma omp simd
    for (int64_t c = 0; c < W; ++c) part[c] = 0.f;
    for (int64_t r = r0; r < std::min(rows, r0 + 8); ++r) {
      const float* __restrict xr = x + r * stride;
#pragma omp simd
      for (int64_t c = 0; c < W; ++c) {
        float d = xr[c] - s[c];
        part[c] += d;
        q[c] += d * d;
      }
    }
#pragma omp simd
    for (int64_t c = 0; c < W; ++c) dsum[c] += part[c];
  }
  const double inv_n = 1.0 / double(rows);
#pragma omp simd
  for (int64_t c = 0; c < W; ++c) {
    const double sd = dsum[c];  // read before mean[c] (dsum may be mean) is written
    mean[c] = double(s[c]) + sd * inv_n;
    m2[c] = std::max(double(q[c]) - sd * sd * inv_n, 0.0);
  }
  // q * 0 stays 0 unless q is inf or NaN (float overflow, |x - m'| > 1.8e19,
  // or a non-finite x): one vector pass decides whether any channel needs the
  // slow path (a scalar isfinite per channel took a third of a 32x128 call).
  float probe = 0.f;
#pragma omp simd reduction(+ : probe)
  for (int64_t c = 0; c < W; ++c) probe += q[c] * 0.f;
  if (probe != 0.f)  // true for NaN too
    for (int64_t c = 0; c < W; ++c)
      if (!std::isfinite(q[c])) channel_moments_double(mean + c, m2 + c, x + c, rows, stride);
}

// The channel blocks of a row of C channels for the reductions, which keep
// three or four accumulators per channel in registers: f(kW, c0) per block,
// kW an integral_constant. 128 channels go in two blocks of 64 (all 128 would
// not fit the 32 registers: the spills made the dense layer's 32x128 moments
// 2x slower and its backward sums 20 %); the other common widths in one
// block of kW = C; any other C in one block of kW = 0 (width C at run time).
template <typename F>
void for_channel_blocks(int64_t C, F&& f) {
  with_channels(C, [&](auto kc) {
    constexpr int64_t kC = decltype(kc)::value;
    constexpr int64_t kW = kC > 64 ? 64 : kC;
    const int64_t width = kW ? kW : C;
    for (int64_t c0 = 0; c0 < C; c0 += width) f(std::integral_constant<int64_t, kW>(), c0);
  });
}

void chunk_moments(double* mean, double* m2, const float* x, int64_t rows, int64_t C, float* scratch) {
  for_channel_blocks(C, [&](auto kw, int64_t c0) {
    constexpr int64_t kW = decltype(kw)::value;
    moments_block<kW>(mean + c0, m2 + c0, x + c0, rows, C, kW ? kW : C, scratch);
  });
}

// Chan et al.: the chunks' (n_b, mean_b, M2_b) merged into the running
// (n_a, mu, M2) in chunk order. The weights depend on the counts alone, so
// the channels form one vector loop (one division a chunk, not a channel).
void merge_moments(double* __restrict mu, double* __restrict m2, const double* __restrict partials,
                   const FixedChunks& ch, int64_t C) {
#pragma omp simd
  for (int64_t c = 0; c < C; ++c) mu[c] = m2[c] = 0.0;
  double n_a = 0;
  for (int64_t i = 0; i < ch.count; ++i) {
    const double n_b = double(ch.end(i) - ch.begin(i)), n = n_a + n_b;
    const double w_mean = n_b / n, w_m2 = n_a * n_b / n;
    const double* __restrict mu_b = partials + 2 * i * C;
    const double* __restrict m2_b = mu_b + C;
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) {
      const double delta = mu_b[c] - mu[c];
      mu[c] += delta * w_mean;
      m2[c] += m2_b[c] + delta * delta * w_m2;
    }
    n_a = n;
  }
}

template <bool kGamma, bool kBeta>
void train_statistics_c(float* __restrict mean, float* __restrict inv_std, float* __restrict scale,
                        float* __restrict shift, float* moving_mean, float* moving_var, const double* __restrict mu,
                        const double* __restrict m2, const float* __restrict gamma, const float* __restrict beta,
                        int64_t rows, float momentum, float eps, int64_t C) {
  const double inv_n = 1.0 / double(rows), keep = double(momentum), take = 1.0 - double(momentum);
#pragma omp simd
  for (int64_t c = 0; c < C; ++c) {
    const double var = m2[c] * inv_n;
    // In double: a variance beyond float's range (|x - mean| above 1.8e19)
    // still has a float inv_std.
    const double is = 1.0 / std::sqrt(var + double(eps));
    const double g = kGamma ? double(gamma[c]) : 1.0;
    const float mean_f = float(mu[c]);
    mean[c] = mean_f;
    inv_std[c] = float(is);
    scale[c] = float(g * is);
    // x - mean[c] is exact near the mean; the shift absorbs mean's rounding.
    shift[c] = float((kBeta ? double(beta[c]) : 0.0) + (double(mean_f) - mu[c]) * g * is);
    moving_mean[c] = float(double(moving_mean[c]) * keep + mu[c] * take);
    moving_var[c] = float(double(moving_var[c]) * keep + var * take);
  }
}

void train_statistics(float* mean, float* inv_std, float* scale, float* shift, float* moving_mean,
                      float* moving_var, const double* partials, const FixedChunks& ch, double* merged,
                      const float* gamma, const float* beta, float momentum, float eps, int64_t C) {
  double* mu = merged;
  double* m2 = merged + C;
  merge_moments(mu, m2, partials, ch, C);
  const int64_t rows = ch.n;
  auto run = [&](auto with_gamma, auto with_beta) {
    train_statistics_c<decltype(with_gamma)::value, decltype(with_beta)::value>(
        mean, inv_std, scale, shift, moving_mean, moving_var, mu, m2, gamma, beta, rows, momentum, eps, C);
  };
  using Yes = std::true_type;
  using No = std::false_type;
  if (gamma) return beta ? run(Yes(), Yes()) : run(Yes(), No());
  return beta ? run(No(), Yes()) : run(No(), No());
}

template <Activation kind, int64_t kC>
void normalize_rows(float* __restrict y, const float* __restrict x, const float* __restrict center,
                    const float* __restrict scale, const float* __restrict shift, int64_t rows,
                    int64_t c_runtime, float alpha) {
  const int64_t C = kC ? kC : c_runtime;
  for (int64_t r = 0; r < rows; ++r) {
    const float* __restrict xr = x + r * C;
    float* __restrict yr = y + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; ++c)
      yr[c] = activate<kind>((xr[c] - center[c]) * scale[c] + shift[c], alpha);
  }
}

template <Activation kind>
void normalize_any(float* y, const float* x, const float* center, const float* scale, const float* shift,
                   int64_t rows, int64_t C, float alpha) {
  with_channels(C, [&](auto kc) {
    normalize_rows<kind, decltype(kc)::value>(y, x, center, scale, shift, rows, C, alpha);
  });
}

void normalize(float* y, const float* x, const float* center, const float* scale,
               const float* shift, int64_t rows, int64_t C, ActivationSpec act) {
  switch (act.kind) {
    case Activation::kNone: return normalize_any<Activation::kNone>(y, x, center, scale, shift, rows, C, 0.f);
    case Activation::kRelu: return normalize_any<Activation::kRelu>(y, x, center, scale, shift, rows, C, 0.f);
    case Activation::kLeakyRelu:
      return normalize_any<Activation::kLeakyRelu>(y, x, center, scale, shift, rows, C, act.alpha);
    default:  // exp-based activations: scalar epilogue
      normalize_any<Activation::kNone>(y, x, center, scale, shift, rows, C, 0.f);
      for (int64_t i = 0; i < rows * C; ++i) y[i] = apply_activation(y[i], act);
  }
}

// One block of kW channels (kW = 0: w at run time) of rows `stride` floats
// apart, as moments_block.
template <Activation kind, int64_t kW>
void grad_sums_block(double* sum_dy, double* sum_dy_xc, double* sum_xc, const float* __restrict dy,
                     const float* __restrict y, const float* __restrict x, const float* __restrict center,
                     int64_t rows, int64_t stride, int64_t w_runtime, float alpha, float* __restrict scratch) {
  const int64_t W = kW ? kW : w_runtime;
  // Accumulators: registers for a constant width, else scratch (3*W floats).
  float s_local[kW ? kW : 1], t_local[kW ? kW : 1], u_local[kW ? kW : 1];
  float* __restrict s = kW ? s_local : scratch;
  float* __restrict t = kW ? t_local : scratch + W;
  float* __restrict u = kW ? u_local : scratch + 2 * W;
#pragma omp simd
  for (int64_t c = 0; c < W; ++c) s[c] = t[c] = u[c] = 0.f;
  for (int64_t r = 0; r < rows; ++r) {
    const float* __restrict g = dy + r * stride;
    const float* __restrict yr = kind == Activation::kNone ? g : y + r * stride;
    const float* __restrict xr = x + r * stride;
#pragma omp simd
    for (int64_t c = 0; c < W; ++c) {
      float xc = xr[c] - center[c];
      float gc = through_activation<kind>(g[c], yr[c], alpha);
      s[c] += gc;
      t[c] += gc * xc;
      u[c] += xc;
    }
  }
  for (int64_t c = 0; c < W; ++c) {
    sum_dy[c] = s[c];
    sum_dy_xc[c] = t[c];
    sum_xc[c] = u[c];
  }
}

template <Activation kind>
void grad_sums_any(double* sum_dy, double* sum_dy_xc, double* sum_xc, const float* dy, const float* y,
                   const float* x, const float* center, int64_t rows, int64_t C, float alpha, float* scratch) {
  for_channel_blocks(C, [&](auto kw, int64_t c0) {
    constexpr int64_t kW = decltype(kw)::value;
    grad_sums_block<kind, kW>(sum_dy + c0, sum_dy_xc + c0, sum_xc + c0, dy + c0, y ? y + c0 : nullptr, x + c0,
                              center + c0, rows, C, kW ? kW : C, alpha, scratch);
  });
}

void chunk_grad_sums(double* sum_dy, double* sum_dy_xc, double* sum_xc, const float* dy, const float* y,
                     const float* x, const float* center, int64_t rows, int64_t C, ActivationSpec act,
                     float* scratch) {
  switch (act.kind) {
    case Activation::kRelu:
      return grad_sums_any<Activation::kRelu>(sum_dy, sum_dy_xc, sum_xc, dy, y, x, center, rows, C, 0.f, scratch);
    case Activation::kLeakyRelu:
      return grad_sums_any<Activation::kLeakyRelu>(sum_dy, sum_dy_xc, sum_xc, dy, y, x, center, rows, C,
                                                   act.alpha, scratch);
    default:
      return grad_sums_any<Activation::kNone>(sum_dy, sum_dy_xc, sum_xc, dy, y, x, center, rows, C, 0.f, scratch);
  }
}

// The chunks' partial sums ([chunk][sum dy | sum dy (x - mean) | sum x - mean][C])
// added in chunk order into total (3 C), then per channel dgamma, dbeta and
// backward_apply's a, b, k. `mean` is the float32 rounding of the batch mean
// mu; with delta = mu - mean = sum(x - mean) / M the sums are re-centred on
// mu exactly:
//   dgamma = inv_std * (sum dy (x - mean) - delta * sum dy)
//   dx = A dy + B (x - mu) + K = A dy + B (x - mean) + (K - B delta)
// with A = g is, B = -g is^2 dgamma / M, K = -A dbeta / M.
template <bool kGamma>
void backward_coefficients_c(float* __restrict dgamma, float* __restrict dbeta, float* __restrict a,
                             float* __restrict b, float* __restrict k, double* __restrict total,
                             const double* __restrict partials, int64_t chunks, int64_t rows,
                             const float* __restrict gamma, const float* __restrict inv_std, int64_t C) {
#pragma omp simd
  for (int64_t e = 0; e < 3 * C; ++e) total[e] = 0.0;
  for (int64_t i = 0; i < chunks; ++i) {
    const double* __restrict p = partials + 3 * i * C;
#pragma omp simd
    for (int64_t e = 0; e < 3 * C; ++e) total[e] += p[e];
  }
  const double inv_m = 1.0 / double(std::max<int64_t>(rows, 1));
#pragma omp simd
  for (int64_t c = 0; c < C; ++c) {
    const double sdy = total[c], sdyx = total[C + c], sx = total[2 * C + c];
    const double is = inv_std[c], g = kGamma ? double(gamma[c]) : 1.0;
    const double delta = sx * inv_m;
    const double dg = (sdyx - delta * sdy) * is;
    const double bb = -g * is * is * dg * inv_m;
    dbeta[c] = float(sdy);
    dgamma[c] = float(dg);
    a[c] = float(g * is);
    b[c] = float(bb);
    k[c] = float(-g * is * sdy * inv_m - bb * delta);
  }
}

void backward_coefficients(float* dgamma, float* dbeta, float* a, float* b, float* k, double* total,
                           const double* partials, int64_t chunks, int64_t rows, const float* gamma,
                           const float* inv_std, int64_t C) {
  if (gamma) return backward_coefficients_c<true>(dgamma, dbeta, a, b, k, total, partials, chunks, rows, gamma, inv_std, C);
  backward_coefficients_c<false>(dgamma, dbeta, a, b, k, total, partials, chunks, rows, gamma, inv_std, C);
}

template <Activation kind, int64_t kC>
void backward_rows(float* __restrict dx, const float* __restrict dy, const float* __restrict y,
                   const float* __restrict x, const float* __restrict center, const float* __restrict a,
                   const float* __restrict b, const float* __restrict k, int64_t rows, int64_t c_runtime,
                   float alpha) {
  const int64_t C = kC ? kC : c_runtime;
  for (int64_t r = 0; r < rows; ++r) {
    const float* __restrict g = dy + r * C;
    const float* __restrict yr = kind == Activation::kNone ? g : y + r * C;
    const float* __restrict xr = x + r * C;
    float* __restrict d = dx + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; ++c)
      d[c] = a[c] * through_activation<kind>(g[c], yr[c], alpha) + b[c] * (xr[c] - center[c]) + k[c];
  }
}

template <Activation kind>
void backward_any(float* dx, const float* dy, const float* y, const float* x, const float* center, const float* a,
                  const float* b, const float* k, int64_t rows, int64_t C, float alpha) {
  with_channels(C, [&](auto kc) {
    backward_rows<kind, decltype(kc)::value>(dx, dy, y, x, center, a, b, k, rows, C, alpha);
  });
}

void backward_apply(float* dx, const float* dy, const float* y, const float* x, const float* center,
                    const float* a, const float* b, const float* k, int64_t rows, int64_t C, ActivationSpec act) {
  switch (act.kind) {
    case Activation::kRelu:
      return backward_any<Activation::kRelu>(dx, dy, y, x, center, a, b, k, rows, C, 0.f);
    case Activation::kLeakyRelu:
      return backward_any<Activation::kLeakyRelu>(dx, dy, y, x, center, a, b, k, rows, C, act.alpha);
    default:
      return backward_any<Activation::kNone>(dx, dy, y, x, center, a, b, k, rows, C, 0.f);
  }
}

}  // namespace
}  // namespace PYCNN_BN_NS

extern const BatchNormKernels PYCNN_BN_TABLE{PYCNN_BN_NS::chunk_moments,    PYCNN_BN_NS::train_statistics,
                                             PYCNN_BN_NS::normalize,        PYCNN_BN_NS::chunk_grad_sums,
                                             PYCNN_BN_NS::backward_coefficients, PYCNN_BN_NS::backward_apply};

}  // namespace pycnn
