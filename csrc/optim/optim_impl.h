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

}  // namespace

const OptimTable kOptimTable = {sgd, rmsprop, adam};

}  // namespace PYCNN_ISA_NAMESPACE
}  // namespace pycnn
