// dropout.h — inverted dropout with a counter-based mask, float32.
//
// Element i is kept iff u(seed, step, i) >= rate, u uniform in [0, 1) with
// 32 bits: u = (h * 2^16 + t) * 2^-32, both halves from Philox4x32-10
// (philox.h) under key seed.
//  - h, the high 16 bits: half i % 2 (0: low, 1: high) of word (i / 32) % 4 of
//    counter (16 * (i / 128) + (i / 2) % 16, step). One Philox word serves two
//    elements, and the mask is decided by h alone unless h equals the
//    threshold's high half (probability 2^-16).
//  - t, the low 16 bits, drawn only then: the low half of word 0 of counter
//    (i, step) with the top bit of its second word set, a range the first
//    counters never reach.
// Kept elements are scaled by 1 / (1 - rate). The mask is a function of
// (seed, step, i) alone — the same for any thread count or chunking — and the
// backward regenerates it instead of storing it.
#pragma once

#include <cstdint>

namespace pycnn {

struct DropoutParams {
  uint64_t threshold;  // keep iff u * 2^32 >= threshold = ceil(rate * 2^32), <= 2^32
  float scale;         // 1 / (1 - rate)
  uint64_t seed, step;
};

// Validates 0 <= rate < 1. Throws "[op] ...".
DropoutParams dropout_params(const char* op, double rate, uint64_t seed, uint64_t step);

// y[i] = keep(i) ? x[i] * scale : 0 for i in [0, n); with x == nullptr, the
// mask itself (scale or 0). Dropout's backward is this on dy.
void dropout_forward(float* y, const float* x, int64_t n, const DropoutParams& p);

}  // namespace pycnn
