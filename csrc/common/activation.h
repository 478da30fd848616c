// activation.h — the activation functions that kernels can fuse into their
// epilogues (GEMM, conv2d, dense, batch norm). Scalar forms, used by epilogues
// and by the reference paths; activations/ has the vectorised array versions.
#pragma once

#include <cmath>

namespace pycnn {

enum class Activation : int { kNone = 0, kRelu, kLeakyRelu, kElu, kSigmoid, kTanh };

struct ActivationSpec {
  Activation kind = Activation::kNone;
  float alpha = 0.f;  // leaky_relu negative slope, or elu alpha
};

// `static`: the per-ISA translation units each keep their own copy (a shared
// inline one may be compiled with AVX-512 and picked by the linker for all).
static inline float apply_activation(float v, const ActivationSpec& a) {
  switch (a.kind) {
    case Activation::kNone: return v;
    case Activation::kRelu: return v < 0.f ? 0.f : v;  // NaN propagates, as in Keras
    case Activation::kLeakyRelu: return v < 0.f ? v * a.alpha : v;
    case Activation::kElu: return v < 0.f ? a.alpha * std::expm1(v) : v;
    case Activation::kSigmoid: return 1.f / (1.f + std::exp(-v));
    case Activation::kTanh: return std::tanh(v);
  }
  return v;
}

}  // namespace pycnn
