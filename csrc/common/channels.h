// channels.h — helpers for the per-ISA loops over NHWC rows (batch norm,
// pooling) whose inner loop runs over the C channels of one pixel.
//
// Everything here is `static`: each per-ISA translation unit keeps its own
// copy (a shared inline one may be compiled with AVX-512 and picked by the
// linker for all), as in activation.h.
#pragma once

#include <cstdint>
#include <cstring>
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

// keep ? a : b by bitwise ands, both computed. Written as a conditional
// (keep ? g : g * alpha, or g * (keep ? 1 : alpha), which GCC folds back),
// GCC 12 kept a branch per element in the AVX2 and baseline builds of the
// loops below (it may not evaluate a possibly trapping multiply that the
// condition skips): batch norm with a fused leaky_relu ran 28-40x slower on
// AVX2 than on AVX-512. Dropout's select uses it too.
static inline float bit_select(bool keep, float a, float b) {
  uint32_t ua, ub;
  std::memcpy(&ua, &a, sizeof ua);
  std::memcpy(&ub, &b, sizeof ub);
  const uint32_t m = 0u - uint32_t(keep);
  ua = (ua & m) | (ub & ~m);
  std::memcpy(&a, &ua, sizeof ua);
  return a;
}

// g times the derivative of a relu / leaky_relu (slope alpha) read from the
// activation's output y (kNone: g as it is): the values of
// activations/elementwise_impl.h's expressions, branch-free.
template <Activation kind>
static inline float through_activation(float g, float y, float alpha) {
  if constexpr (kind == Activation::kRelu) return bit_select(y > 0.f, g, 0.f);
  if constexpr (kind == Activation::kLeakyRelu) return bit_select(y > 0.f, g, g * alpha);
  return g;
}

// relu / leaky_relu of v (kNone: v), branch-free; NaN propagates.
template <Activation kind>
static inline float activate(float v, float alpha) {
  if constexpr (kind == Activation::kRelu) return bit_select(v < 0.f, 0.f, v);
  if constexpr (kind == Activation::kLeakyRelu) return bit_select(v < 0.f, v * alpha, v);
  return v;
}

}  // namespace pycnn
