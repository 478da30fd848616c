// channels.h — helpers for the per-ISA loops over NHWC rows (batch norm,
// pooling) whose inner loop runs over the C channels of one pixel.
//
// Everything here is `static`: each per-ISA translation unit keeps its own
// copy (a shared inline one may be compiled with AVX-512 and picked by the
// linker for all), as in activation.h.
#pragma once

#include <cstdint>
#include <type_traits>

#include "common/activation.h"

namespace pycnn {

// Calls f(std::integral_constant<int64_t, kC>) with kC = C for the common
// widths (16, 32, 64, 128), compiled as constants, else kC = 0 (C at run
// time). With C known a short row loop is straight-line code whose
// per-channel operands stay in registers.
template <typename F>
static void with_channels(int64_t C, F&& f) {
  switch (C) {
    case 16: return f(std::integral_constant<int64_t, 16>());
    case 32: return f(std::integral_constant<int64_t, 32>());
    case 64: return f(std::integral_constant<int64_t, 64>());
    case 128: return f(std::integral_constant<int64_t, 128>());
    default: return f(std::integral_constant<int64_t, 0>());
  }
}

// g times the derivative of a relu / leaky_relu (slope alpha) read from the
// activation's output y (kNone: g as it is); the same expressions as
// activations/elementwise_impl.h.
template <Activation kind>
static inline float through_activation(float g, float y, float alpha) {
  if constexpr (kind == Activation::kRelu) return y > 0.f ? g : 0.f;
  if constexpr (kind == Activation::kLeakyRelu) return y > 0.f ? g : g * alpha;
  return g;
}

}  // namespace pycnn
