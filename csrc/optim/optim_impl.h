// optim_impl.h — the element-wise optimizer updates, written once and
// compiled per ISA (optim_{portable,avx2,avx512}.cpp define
// PYCNN_ISA_NAMESPACE first; see activations/elementwise_impl.h). Options
// are template parameters so every inner loop is branch-free and vectorises.
#include <cmath>
#include <cstdint>

#include "optim/optim_table.h"

// sqrt vectorises because CMake builds csrc/optim/ with -fno-math-errno.

namespace pycnn {
namespace PYCNN_ISA_NAMESPACE {
namespace {

// keras/src/optimizers/sgd.py:
//   momentum == 0: p -= g·lr
//   else:          v = v·momentum - g·lr;  p += v   (nesterov: p += v·momentum - g·lr)
template <bool kVelocity, bool kNesterov>
void sgd_kernel(float* p, const float* g, float* vel, int64_t n, const SgdScalars& s) {
  const float lr = s.lr, mu = s.momentum;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (!kVelocity) {
      p[i] -= g[i] * lr;
    } else {
      float v = vel[i] * mu - g[i] * lr;
      vel[i] = v;
      p[i] += kNesterov ? v * mu - g[i] * lr : v;
    }
  }
}

void sgd(float* p, const float* g, float* vel, int64_t n, const SgdScalars& s) {
  if (!s.use_velocity) return sgd_kernel<false, false>(p, g, vel, n, s);
  if (s.nesterov) return sgd_kernel<true, true>(p, g, vel, n, s);
  sgd_kernel<true, false>(p, g, vel, n, s);
}

// keras/src/optimizers/rmsprop.py:
//   v = rho·v + (1-rho)·g²
//   centered: a = rho·a + (1-rho)·g;  denom = v - a² + eps   else denom = v + eps
//   inc = lr·g / sqrt(denom)          (epsilon inside the square root)
//   momentum > 0: mom = momentum·mom + inc; p -= mom      else p -= inc
template <bool kMomentum, bool kCentered>
void rmsprop_kernel(float* p, const float* g, float* vel, float* mom, float* avg, int64_t n,
                    const RmspropScalars& s) {
  const float lr = s.lr, rho = s.rho, k = s.one_minus_rho, eps = s.epsilon, mu = s.momentum;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    float gi = g[i];
    float v = rho * vel[i] + k * (gi * gi);
    vel[i] = v;
    float denom = v + eps;
    if constexpr (kCentered) {
      float a = rho * avg[i] + k * gi;
      avg[i] = a;
      denom = v - a * a + eps;
    }
    float inc = lr * gi / std::sqrt(denom);
    if constexpr (kMomentum) {
      float mo = mu * mom[i] + inc;
      mom[i] = mo;
      p[i] -= mo;
    } else {
      p[i] -= inc;
    }
  }
}

void rmsprop(float* p, const float* g, float* vel, float* mom, float* avg, int64_t n, const RmspropScalars& s) {
  if (s.use_momentum) {
    if (s.centered) return rmsprop_kernel<true, true>(p, g, vel, mom, avg, n, s);
    return rmsprop_kernel<true, false>(p, g, vel, mom, avg, n, s);
  }
  if (s.centered) return rmsprop_kernel<false, true>(p, g, vel, mom, avg, n, s);
  rmsprop_kernel<false, false>(p, g, vel, mom, avg, n, s);
}

// keras/src/optimizers/adam.py (+ base_optimizer.py weight decay, applied first):
//   p -= p·(weight_decay·lr)                               (AdamW, decay > 0)
//   alpha = lr·sqrt(1 - beta_2^t) / (1 - beta_1^t)
//   m += (g - m)·(1 - beta_1);  v += (g² - v)·(1 - beta_2)
//   amsgrad: v_hat = max(v_hat, v), used in place of v
//   p -= m·alpha / (sqrt(v) + eps)
template <bool kDecay, bool kAmsgrad>
void adam_kernel(float* p, const float* g, float* m, float* v, float* vh, int64_t n, const AdamScalars& s) {
  const float alpha = s.alpha, k1 = s.one_minus_beta_1, k2 = s.one_minus_beta_2, eps = s.epsilon, decay = s.decay;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    float pi = p[i], gi = g[i];
    if constexpr (kDecay) pi -= pi * decay;
    float mi = m[i] + (gi - m[i]) * k1;
    float vi = v[i] + (gi * gi - v[i]) * k2;
    m[i] = mi;
    v[i] = vi;
    if constexpr (kAmsgrad) {
      vi = vh[i] > vi ? vh[i] : vi;
      vh[i] = vi;
    }
    p[i] = pi - mi * alpha / (std::sqrt(vi) + eps);
  }
}

void adam(float* p, const float* g, float* m, float* v, float* vh, int64_t n, const AdamScalars& s) {
  bool decay = s.decay != 0.f;
  if (decay) {
    if (s.amsgrad) return adam_kernel<true, true>(p, g, m, v, vh, n, s);
    return adam_kernel<true, false>(p, g, m, v, vh, n, s);
  }
  if (s.amsgrad) return adam_kernel<false, true>(p, g, m, v, vh, n, s);
  adam_kernel<false, false>(p, g, m, v, vh, n, s);
}

// g[k * ldg + j] = sum_r a[r * a_stride + k] · b[r * b_stride + j] for
// k < NI rows, j < n. Summed in r order from zero, as the GEMM's tiles sum a
// dense layer's x^T · dy, so a factored gradient rounds like the stored one.
// Register tiles of NI rows x 4 vectors: each b vector loaded serves NI
// FMAs and 4 * NI independent chains hide the FMA latency (one row at a
// time, each FMA waited on a load: 10752 x 512 at batch 16 ran 1.5x slower).
template <int NI>
void factored_tile(float* __restrict g, int64_t ldg, const float* a, int64_t a_stride, const float* __restrict b,
                   int64_t b_stride, int64_t rows, int64_t n) {
  // NI x kCols accumulators: 16 of the 32 zmm on AVX-512; 8 of the 16 ymm
  // (xmm) on AVX2 (SSE2), where 16 left no register for b and spilled (AVX2:
  // 4.7 ms of the face network's 54 ms step, 2.5 ms on AVX-512).
#if defined(__AVX512F__)
  constexpr int64_t kCols = 4 * 16;
#elif defined(__AVX__)
  constexpr int64_t kCols = 2 * 8;
#elif defined(__SSE2__)
  constexpr int64_t kCols = 2 * 4;
#else
  constexpr int64_t kCols = 4 * 4;
#endif
  int64_t j0 = 0;
  for (; j0 + kCols <= n; j0 += kCols) {
    float acc[NI][kCols];
    for (int k = 0; k < NI; ++k)
#pragma omp simd
      for (int64_t j = 0; j < kCols; ++j) acc[k][j] = 0.f;
    for (int64_t r = 0; r < rows; ++r) {
      const float* __restrict br = b + r * b_stride + j0;
      for (int k = 0; k < NI; ++k) {
        const float ak = a[r * a_stride + k];
#pragma omp simd
        for (int64_t j = 0; j < kCols; ++j) acc[k][j] += ak * br[j];
      }
    }
    for (int k = 0; k < NI; ++k)
#pragma omp simd
      for (int64_t j = 0; j < kCols; ++j) g[k * ldg + j0 + j] = acc[k][j];
  }
  if (j0 == n) return;
  for (int k = 0; k < NI; ++k) {
    float* __restrict gk = g + k * ldg;
#pragma omp simd
    for (int64_t j = j0; j < n; ++j) gk[j] = 0.f;
    for (int64_t r = 0; r < rows; ++r) {
      const float ak = a[r * a_stride + k];
      const float* __restrict br = b + r * b_stride;
#pragma omp simd
      for (int64_t j = j0; j < n; ++j) gk[j] += ak * br[j];
    }
  }
}

void factored_rows(float* g, int64_t ldg, const float* a, int64_t a_stride, const float* b, int64_t b_stride,
                   int64_t rows, int row_count, int64_t n) {
  if (row_count == 1) return factored_tile<1>(g, ldg, a, a_stride, b, b_stride, rows, n);
  factored_tile<kFactoredRows>(g, ldg, a, a_stride, b, b_stride, rows, n);
}

}  // namespace

const OptimTable kOptimTable = {sgd, rmsprop, adam, factored_rows};

}  // namespace PYCNN_ISA_NAMESPACE
}  // namespace pycnn
