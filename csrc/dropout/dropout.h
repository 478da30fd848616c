// dropout.h — inverted dropout with a counter-based mask, float32.
//
// Element i is kept iff u(seed, step, i) >= rate, u uniform in [0, 1) with
// 32 bits: u = word * 2^-32 from Philox4x32-10 (philox.h), element i being
// word (i / 16) % 4 of counter (16 * (i / 64) + i % 16, step) under key seed.
// Kept elements are scaled by 1 / (1 - rate). The mask is a function of
// (seed, step, i) alone — the same for any thread count or chunking — and the
// backward regenerates it instead of storing it.
#pragma once

#include <cstdint>

namespace pycnn {

struct DropoutParams {
  uint64_t threshold;  // keep iff word >= threshold = ceil(rate * 2^32), <= 2^32
  float scale;         // 1 / (1 - rate)
  uint64_t seed, step;
};

// Validates 0 <= rate < 1. Throws "[op] ...".
DropoutParams dropout_params(const char* op, double rate, uint64_t seed, uint64_t step);

// y[i] = keep(i) ? x[i] * scale : 0 for i in [0, n); with x == nullptr, the
// mask itself (scale or 0). Dropout's backward is this on dy.
void dropout_forward(float* y, const float* x, int64_t n, const DropoutParams& p);

}  // namespace pycnn
