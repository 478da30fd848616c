// dropout_impl.h — the dropout loop, compiled once per instruction set.
//
// Included by dropout_kernels{,_avx2,_avx512}.cpp inside their own namespace
// (PYCNN_DROPOUT_NS) with their own symbol (PYCNN_DROPOUT_KERNEL). Per block
// of 128 elements: one vectorised Philox pass (16 lanes x 4 words), the
// words split into their 16-bit halves, then one compare-and-select pass and,
// in the rare block with a tie, a fix-up of the tied elements.
#include <algorithm>

#include "common/channels.h"
#include "dropout/dropout_kernels.h"
#include "dropout/philox.h"

namespace pycnn {
namespace PYCNN_DROPOUT_NS {
namespace {

// y = keep ? x * scale : 0 on the high halves h; returns the number of ties.
// The product is selected by bit_select (common/channels.h): written as a
// conditional, GCC 12 moved the multiply into a branch and left the loop
// scalar, mispredicted half the time (4 ns an element on AVX2, 12-14 times
// the AVX-512 kernel). h and bound are int32 (< 2^16), which AVX2 compares
// directly.
int select(float* __restrict y, const float* __restrict x, const int32_t* __restrict h, int64_t count, int32_t bound,
           float scale) {
  int ties = 0;
  if (x) {
#pragma omp simd reduction(+ : ties)
    for (int64_t i = 0; i < count; ++i) {
      y[i] = bit_select(h[i] > bound, x[i] * scale, 0.f);
      ties += h[i] == bound;
    }
  } else {
#pragma omp simd reduction(+ : ties)
    for (int64_t i = 0; i < count; ++i) {
      y[i] = h[i] > bound ? scale : 0.f;
      ties += h[i] == bound;
    }
  }
  return ties;
}

void kernel(float* y, const float* x, int64_t begin, int64_t end, const DropoutParams& p) {
  alignas(64) uint32_t words[kPhiloxWords];
  alignas(64) int32_t high[kDropoutBlock];
  const SplitThreshold split = split_threshold(p.threshold);
  for (int64_t b = begin; b < end; b += kDropoutBlock) {
    philox_block(words, uint64_t(b) / kDropoutBlock, p.seed, p.step);
#pragma omp simd
    for (int w = 0; w < kPhiloxWords; ++w) {
      high[2 * w] = int32_t(words[w] & 0xFFFF);
      high[2 * w + 1] = int32_t(words[w] >> 16);
    }
    const int64_t count = std::min<int64_t>(kDropoutBlock, end - b);
    float* yb = y + b;
    const float* xb = x ? x + b : nullptr;
    if (select(yb, xb, high, count, int32_t(split.bound), p.scale) == 0 || split.tie_low == 0) continue;
    for (int64_t i = 0; i < count; ++i) {
      if (high[i] == int32_t(split.bound) && tie_bits(uint64_t(b + i), p) >= split.tie_low)
        yb[i] = xb ? xb[i] * p.scale : p.scale;
    }
  }
}

}  // namespace
}  // namespace PYCNN_DROPOUT_NS

extern const DropoutKernel PYCNN_DROPOUT_KERNEL = PYCNN_DROPOUT_NS::kernel;

}  // namespace pycnn
