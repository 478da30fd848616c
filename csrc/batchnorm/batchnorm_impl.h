// batchnorm_impl.h — batch-norm loops, compiled once per instruction set.
//
// Included by batchnorm_kernels{,_avx2,_avx512}.cpp inside their own
// namespace (PYCNN_BN_NS) with their own table (PYCNN_BN_TABLE) and vector
// (PYCNN_BN_VEC, simd.h). Channels are innermost, so each row is one vector
// loop over C; the chunk loops keep float accumulators (a chunk is at most a
// few hundred rows, cache resident) and hand double results to the caller.
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
#include "common/simd.h"

namespace pycnn {
namespace PYCNN_BN_NS {
namespace {

using Vec = PYCNN_BN_VEC;  // this unit's vector (simd.h)

// Channels per block of the reductions (for_channel_blocks): the backward
// sums keep 3 accumulators per channel, the moments 3 vectors per vector of
// channels (moments_vectors). AVX-512 has 32 vector registers, the others
// 16.
constexpr int64_t kBlockWidth = 4 * Vec::kLanes;
constexpr int64_t kMomentsWidth = (Vec::kLanes == 16 ? 8 : 4) * Vec::kLanes;

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

// mean = m' + sum d / n, M2 = sum d^2 - (sum d)^2 / n from the shift m'
// (s), sum d^2 (q) and sum d (dsum, which may be `mean` itself) of W
// channels over `rows` rows of x (`stride` floats apart).
void finish_moments(double* mean, double* m2, const float* __restrict s, const float* __restrict q,
                    const double* dsum, const float* x, int64_t rows, int64_t stride, int64_t W) {
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

// Corrected two-pass moments: a float sum gives a shift m'; the second pass
// sums d = x - m' and d^2, so mean = m' + sum d / n and M2 = sum d^2 -
// (sum d)^2 / n stay exact-ish even for |mean| >> std. sum d goes to double
// in float partials of 8 rows: double on every row (two conversions and two
// adds per 16 floats) took half the pass.
//
// With a `guess` of the mean (the moving mean) the first pass is skipped:
// the sums are taken about the guess, and kept when (sum d)^2 / n <= sum
// d^2 / 2 in every channel of the block, so that M2 >= sum d^2 / 2 and its
// error is at most twice the two-pass one. Otherwise (a guess off by more
// than about a standard deviation, as in a first training step, or
// non-finite sums) the block is taken in two passes after all.
//
// This is the form for a width of kV vectors, whose accumulators are
// registers: written as omp simd loops over float arrays, GCC kept them in
// registers only inside each loop and stored and reloaded all of them around
// every 8 rows (the dense layer's 32 x 128 moments: 1000 -> 780 cycles).
template <int kV>
void moments_vectors(double* mean, double* m2, const float* __restrict x, const float* guess, int64_t rows,
                     int64_t stride) {
  using V = typename Vec::V;
  constexpr int kL = Vec::kLanes;
  V s[kV], q[kV];
  double dsum[kV * kL];
  // sum d (dsum) and sum d^2 (q) about the shift s. sum d alternates
  // between an add and an fma by 1 (the same sum, bit for bit): adds and
  // subtractions share two of the four FP pipes (Zen 4), fmas the other two.
  const auto deviation_sums = [&] {
    const V one = Vec::set1(1.f);
#pragma GCC unroll 8
    for (int v = 0; v < kV; ++v) q[v] = Vec::zero();
    std::fill(dsum, dsum + kV * kL, 0.0);
    for (int64_t r0 = 0; r0 < rows; r0 += 8) {
      V part[kV];
#pragma GCC unroll 8
      for (int v = 0; v < kV; ++v) part[v] = Vec::zero();
      for (int64_t r = r0; r < std::min(rows, r0 + 8); ++r)
#pragma GCC unroll 8
        for (int v = 0; v < kV; ++v) {
          const V d = Vec::sub(Vec::load(x + r * stride + v * kL), s[v]);
          part[v] = v % 2 ? Vec::fmadd(d, one, part[v]) : Vec::add(part[v], d);
          q[v] = Vec::fmadd(d, d, q[v]);
        }
#pragma GCC unroll 8
      for (int v = 0; v < kV; ++v) Vec::add_to_doubles(dsum + v * kL, part[v]);
    }
  };
  float s_out[kV * kL], q_out[kV * kL];
  const auto store_sums = [&] {
#pragma GCC unroll 8
    for (int v = 0; v < kV; ++v) {
      Vec::store(s_out + v * kL, s[v]);
      Vec::store(q_out + v * kL, q[v]);
    }
  };
  if (guess) {
#pragma GCC unroll 8
    for (int v = 0; v < kV; ++v) s[v] = Vec::load(guess + v * kL);
    deviation_sums();
    store_sums();
    int close = 1;  // false for NaN, and q * 0 != 0 for inf
    const double half_n = 0.5 * double(rows);
#pragma omp simd reduction(& : close)
    for (int c = 0; c < kV * kL; ++c)
      close &= int(dsum[c] * dsum[c] <= half_n * double(q_out[c])) & int(q_out[c] * 0.f == 0.f);
    if (close) return finish_moments(mean, m2, s_out, q_out, dsum, x, rows, stride, kV * kL);
  }
#pragma GCC unroll 8
  for (int v = 0; v < kV; ++v) s[v] = Vec::zero();
  for (int64_t r = 0; r < rows; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < kV; ++v) s[v] = Vec::add(s[v], Vec::load(x + r * stride + v * kL));
  const V inv_rows = Vec::set1(1.f / float(rows));
#pragma GCC unroll 8
  for (int v = 0; v < kV; ++v) s[v] = Vec::mul(s[v], inv_rows);  // the shift m'
  deviation_sums();
  store_sums();
  finish_moments(mean, m2, s_out, q_out, dsum, x, rows, stride, kV * kL);
}

// The same for a width W known at run time, its accumulators in scratch
// (3*W floats) and `mean`.
void moments_any(double* mean, double* m2, const float* __restrict x, int64_t rows, int64_t stride, int64_t W,
                 float* __restrict scratch) {
  float* __restrict s = scratch;
  float* __restrict q = scratch + W;
  float* __restrict part = scratch + 2 * W;
  double* __restrict dsum = mean;
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
  finish_moments(mean, m2, s, q, dsum, x, rows, stride, W);
}

// The channel blocks of a row of C channels for the reductions, which keep
// three accumulators per channel in registers: f(kW, c0) per block, kW an
// integral_constant. A common width goes in blocks of at most kMaxWidth
// channels (the backward sums over all 128 channels at once spilled and ran
// 20 % slower); any other C in one block of kW = 0 (width C at run time).
template <int64_t kMaxWidth = kBlockWidth, typename F>
void for_channel_blocks(int64_t C, F&& f) {
  with_channels(C, [&](auto kc) {
    constexpr int64_t kC = decltype(kc)::value;
    constexpr int64_t kW = kC > kMaxWidth ? kMaxWidth : kC;
    const int64_t width = kW ? kW : C;
    for (int64_t c0 = 0; c0 < C; c0 += width) f(std::integral_constant<int64_t, kW>(), c0);
  });
}

void chunk_moments(double* mean, double* m2, const float* x, const float* guess, int64_t rows, int64_t C,
                   float* scratch) {
  for_channel_blocks<kMomentsWidth>(C, [&](auto kw, int64_t c0) {
    constexpr int64_t kW = decltype(kw)::value;
    if constexpr (kW != 0)
      moments_vectors<int(kW / Vec::kLanes)>(mean + c0, m2 + c0, x + c0, guess ? guess + c0 : nullptr, rows, C);
    else moments_any(mean + c0, m2 + c0, x + c0, rows, C, C, scratch);
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

// The statistics in double: exact for any finite variance (one beyond
// float's range, |x - mean| above 1.8e19, still has a float inv_std).
template <bool kGamma, bool kBeta>
void statistics_double(float* __restrict mean, float* __restrict inv_std, float* __restrict scale,
                       float* __restrict shift, float* __restrict moving_mean, float* __restrict moving_var,
                       const double* __restrict mu, const double* __restrict m2, const float* __restrict gamma,
                       const float* __restrict beta, int64_t rows, float momentum, float eps, int64_t C) {
  const double inv_n = 1.0 / double(rows), keep = double(momentum), take = 1.0 - double(momentum);
#pragma omp simd
  for (int64_t c = 0; c < C; ++c) {
    const double var = m2[c] * inv_n;
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

// The same in float once var + eps is known to be in [kFloatLow,
// kFloatHigh]: inv_std within 2 ulp of the double one's rounding. Double's
// square roots, divisions and conversions took 330 cycles of the dense
// layer's 32 x 128 call (about 2200), float 170.
constexpr double kFloatLow = 0x1p-100, kFloatHigh = 0x1p100;

template <bool kGamma, bool kBeta>
void statistics_float(float* __restrict mean, float* __restrict inv_std, float* __restrict scale,
                      float* __restrict shift, float* __restrict moving_mean, float* __restrict moving_var,
                      const double* __restrict mu, const double* __restrict m2, const float* __restrict gamma,
                      const float* __restrict beta, int64_t rows, float momentum, float eps, int64_t C) {
  const double inv_n = 1.0 / double(rows);
  const float keep = momentum, take = 1.f - momentum;
#pragma omp simd
  for (int64_t c = 0; c < C; ++c) {
    const double var = m2[c] * inv_n;
    const float is = 1.f / std::sqrt(float(var + double(eps)));
    const float g = kGamma ? gamma[c] : 1.f;
    const float mean_f = float(mu[c]);
    mean[c] = mean_f;
    inv_std[c] = is;
    scale[c] = g * is;
    shift[c] = (kBeta ? beta[c] : 0.f) + float(double(mean_f) - mu[c]) * (g * is);
    moving_mean[c] = moving_mean[c] * keep + mean_f * take;
    moving_var[c] = moving_var[c] * keep + float(var) * take;
  }
}

// train_statistics from the batch's moments mu, M2 over `rows` rows.
void batch_statistics(float* mean, float* inv_std, float* scale, float* shift, float* moving_mean, float* moving_var,
                      const double* mu, const double* m2, int64_t rows, const float* gamma, const float* beta,
                      float momentum, float eps, int64_t C) {
  const double inv_n = 1.0 / double(rows);
  int in_float = 1;  // every var + eps in statistics_float's range (false for NaN)
#pragma omp simd reduction(& : in_float)
  for (int64_t c = 0; c < C; ++c) {
    const double v = m2[c] * inv_n + double(eps);
    in_float &= int(v >= kFloatLow) & int(v <= kFloatHigh);
  }
  auto run = [&](auto with_gamma, auto with_beta) {
    constexpr bool kGamma = decltype(with_gamma)::value, kBeta = decltype(with_beta)::value;
    (in_float ? statistics_float<kGamma, kBeta> : statistics_double<kGamma, kBeta>)(
        mean, inv_std, scale, shift, moving_mean, moving_var, mu, m2, gamma, beta, rows, momentum, eps, C);
  };
  using Yes = std::true_type;
  using No = std::false_type;
  if (gamma) return beta ? run(Yes(), Yes()) : run(Yes(), No());
  return beta ? run(No(), Yes()) : run(No(), No());
}

void train_statistics(float* mean, float* inv_std, float* scale, float* shift, float* moving_mean,
                      float* moving_var, const double* partials, const FixedChunks& ch, double* merged,
                      const float* gamma, const float* beta, float momentum, float eps, int64_t C) {
  // One chunk's moments are the batch's (a merge into zeros would copy them).
  const double* mu = partials;
  if (ch.count > 1) {
    merge_moments(merged, merged + C, partials, ch, C);
    mu = merged;
  }
  batch_statistics(mean, inv_std, scale, shift, moving_mean, moving_var, mu, mu + C, ch.n, gamma, beta, momentum, eps,
                   C);
}

// Whether stores to y would stall later loads of x: a load whose address
// matches an older, still pending store's in bits 0-11 waits for it (4K
// aliasing). With y 64-1024 bytes past x modulo 4096, each store to y
// matches a load of x a few vectors later, and the dense layer's 32 x 128
// normalisation took 1.5-4x as long (where numpy's allocator happens to put
// y). Walking the rows backwards, those loads come before the stores.
inline bool stores_alias_later_loads(const float* y, const float* x) {
  const uintptr_t d = (reinterpret_cast<uintptr_t>(y) - reinterpret_cast<uintptr_t>(x)) % 4096;
  return d != 0 && d < 2048;
}

// y = act((x - center) * scale + shift) over kV vectors of channels per row,
// the channel parameters in registers, rows (and each row's vectors) in
// descending order when kBackward.
template <Activation kind, int kV, bool kBackward>
void normalize_vectors(float* __restrict y, const float* __restrict x, const float* __restrict center,
                       const float* __restrict scale, const float* __restrict shift, int64_t rows, int64_t stride,
                       float alpha) {
  using V = typename Vec::V;
  constexpr int kL = Vec::kLanes;
  constexpr int kAct = kind == Activation::kRelu ? 1 : kind == Activation::kLeakyRelu ? 2 : 0;
  V m[kV], a[kV], b[kV];
#pragma GCC unroll 8
  for (int v = 0; v < kV; ++v) {
    m[v] = Vec::load(center + v * kL);
    a[v] = Vec::load(scale + v * kL);
    b[v] = Vec::load(shift + v * kL);
  }
  const V slope = Vec::set1(alpha);
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t r = kBackward ? rows - 1 - i : i;
    const float* __restrict xr = x + r * stride;
    float* __restrict yr = y + r * stride;
#pragma GCC unroll 8
    for (int j = 0; j < kV; ++j) {
      const int v = kBackward ? kV - 1 - j : j;
      const V t = Vec::fmadd(Vec::sub(Vec::load(xr + v * kL), m[v]), a[v], b[v]);
      Vec::store(yr + v * kL, Vec::activate(t, kAct, slope));
    }
  }
}

// y = act((x - center) * scale + shift) for rows of kC channels (kC = 0: C
// at run time).
template <Activation kind, int64_t kC>
void normalize_rows(float* __restrict y, const float* __restrict x, const float* __restrict center,
                    const float* __restrict scale, const float* __restrict shift, int64_t rows,
                    int64_t c_runtime, float alpha) {
  if constexpr (kC != 0 && kC / Vec::kLanes <= 8) {  // 24 registers of parameters at most
    constexpr int kV = int(kC / Vec::kLanes);
    if (stores_alias_later_loads(y, x))
      return normalize_vectors<kind, kV, true>(y, x, center, scale, shift, rows, kC, alpha);
    return normalize_vectors<kind, kV, false>(y, x, center, scale, shift, rows, kC, alpha);
  }
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
