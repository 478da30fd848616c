// dropout_kernels.h — the per-ISA mask loop behind dropout.h (see dropout_impl.h).
#pragma once

#include <cstdint>

#include "dropout/dropout.h"
#include "dropout/philox.h"

namespace pycnn {

// Elements per Philox block: 64 words of 2 x 16 bits.
constexpr int kDropoutBlock = 2 * kPhiloxWords;

// Elements [begin, end) of the output; begin is a multiple of kDropoutBlock.
using DropoutKernel = void (*)(float* y, const float* x, int64_t begin, int64_t end,
                               const DropoutParams& p);

extern const DropoutKernel dropout_kernel_portable;
#if defined(PYCNN_X86)
extern const DropoutKernel dropout_kernel_avx2;
extern const DropoutKernel dropout_kernel_avx512;
#endif

// The test u * 2^32 >= threshold (1 <= threshold <= 2^32) on the high half h
// first: keep iff h > bound, except where h == bound and tie_low != 0, then
// iff the low half t >= tie_low. (With tie_low == 0 the threshold is
// (bound + 1) * 2^16 and h > bound decides alone; 2^32 keeps nothing.)
struct SplitThreshold {
  uint32_t bound, tie_low;
};

static inline SplitThreshold split_threshold(uint64_t threshold) {
  return {uint32_t((threshold - 1) >> 16), uint32_t(threshold & 0xFFFF)};
}

// t of element i (dropout.h), for the rare ties. `static`, as philox.h's.
static inline uint32_t tie_bits(uint64_t i, const DropoutParams& p) {
  const uint32_t ctr[4] = {uint32_t(i), uint32_t(i >> 32) | 0x80000000u, uint32_t(p.step), uint32_t(p.step >> 32)};
  const uint32_t key[2] = {uint32_t(p.seed), uint32_t(p.seed >> 32)};
  uint32_t out[4];
  philox4x32_10(out, ctr, key);
  return out[0] & 0xFFFF;
}

}  // namespace pycnn
