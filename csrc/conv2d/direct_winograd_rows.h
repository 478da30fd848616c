// direct_winograd_rows.h — what the first-layer F(2, 3) kernels share
// (direct_winograd_avx512.cpp: forward and d-weight by rows,
// direct_winograd_tiles_avx512.cpp: d-weight by 2x2 tiles): the ring of
// input-factor rows and when to prefetch. AVX-512 translation units only.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "conv2d/conv2d.h"

namespace pycnn {
namespace f23 {

// Software prefetching (of the next input row, the output gradient ahead in
// d-weight, the next output row in the forward) pays only when the output
// or its gradient streams from memory: face conv1's 10.5 MB, 1 thread, with
// the other core streaming memory: d-weight 0.15-0.19 -> 0.10 ms per image.
// On smaller layers it cost 3-11 % (mnist conv1's 5.5 MB d-weight 0.239 ->
// 0.266 ms), their data already near.
constexpr int64_t kStreamBytes = int64_t(8) << 20;
inline bool streams(const Conv2dShape& s) { return s.n * s.oh * s.ow * s.k * int64_t(sizeof(float)) > kStreamBytes; }

// Prefetches every cache line of `floats` floats from p on.
inline void prefetch_floats(const float* p, int64_t floats) {
  const char* bytes = reinterpret_cast<const char*>(p);
  for (int64_t b = 0; b < int64_t(sizeof(float)) * floats; b += 64) _mm_prefetch(bytes + b, _MM_HINT_T0);
}

// pick(std::integral_constant<int, kC>()) for kC = c, 1..4 (more read as
// 4): the kernels are compiled per channel count.
template <typename Pick>
auto by_channels(int64_t c, Pick&& pick) {
  switch (c) {
    case 1: return pick(std::integral_constant<int, 1>());
    case 2: return pick(std::integral_constant<int, 2>());
    case 3: return pick(std::integral_constant<int, 3>());
    default: return pick(std::integral_constant<int, 4>());
  }
}

// The input factors of one input row: factor j of the output pair p (the
// windows starting at column q = 2p), channel c, at f[j * stride + p * C + c].
// Along a window row that pair reads d0..d3 = row[q..q+3] through the
// factors (d0 - d2, d1 + d2, d2 - d1, d1 - d3). Every array is computed to a
// whole number of vectors: `stride` floats, past the last pair.
//
// Float e of d0's array (pair e / C, channel r = e % C) is float 2e - r of
// the zero-padded row; d1's, d2's and d3's are C, 2C and 3C floats further.
// So the 16 floats of vector v of each array are one permutation of the 32
// padded floats from 32v - r0 on (r0 = 16v % C: 3 patterns for C = 3, one
// otherwise), and the factors are made from whole vectors, with no
// intermediate arrays (splitting the row into even and odd columns by
// vcompressps first, with overlapping stores, took twice as long).
struct FactorRows {
  static constexpr int kMaxSlots = 17;
  const Conv2dShape& s;
  int64_t stride;             // floats per factor array: the output pairs' channels, rounded to 16
  float* base;                // slots(s) rows x 4 factors x stride
  bool prefetch;              // the next input row when a row is made (streams(s))
  __m512i gather[3];          // the permutation for vector v, v % 3
  int64_t tag[kMaxSlots];     // (n * H + ih) held by each ring slot, -1 = empty

  static int64_t pairs_of(const Conv2dShape& s) { return (s.ow + 1) / 2; }
  static int64_t factor_stride(const Conv2dShape& s) { return (pairs_of(s) * s.c + 15) / 16 * 16; }
  // One slot more than a window's rows: the tile d-weight holds 4 rows of a 3-row window.
  static int64_t slots(const Conv2dShape& s) { return s.kh + 1; }
  static int64_t floats(const Conv2dShape& s) { return slots(s) * 4 * factor_stride(s) + 64; }

  FactorRows(const Conv2dShape& shape, float* scratch)
      : s(shape), stride(factor_stride(shape)), base(scratch), prefetch(streams(shape)) {
    std::fill(tag, tag + kMaxSlots, int64_t(-1));
    const int C = int(shape.c);
    for (int v = 0; v < 3; ++v) {
      alignas(64) int index[16];
      const int r0 = 16 * v % C;
      for (int i = 0; i < 16; ++i) index[i] = 2 * i - (r0 + i) % C + r0;  // 2e - r - (32v - r0), e = 16v + i
      gather[v] = _mm512_load_si512(index);
    }
  }

  // Factors of input row ih of image n (inside the image).
  const float* row(const float* x, int64_t n, int64_t ih) {
    const int64_t key = n * s.h + ih, slot = ih % slots(s);
    float* f = base + slot * 4 * stride;
    if (tag[slot] == key) return f;
    tag[slot] = key;
    const int64_t C = s.c, width = s.w * C, pad = s.pad_left * C;
    const float* src = x + (n * s.h + ih) * width;
    // 16 floats of the padded row from float o on, read in place: masked
    // loads at the borders (a fill and copy into a buffer made every load
    // wait on the stores before it). Left of the image (lo > 0) the row's
    // first floats go to lanes lo on; right of it nothing is read (no
    // address past the row is formed).
    const auto padded = [&](int64_t o) {
      const int64_t at = o - pad;
      if (at >= 0 && at + 16 <= width) return _mm512_loadu_ps(src + at);
      const int64_t lo = std::clamp<int64_t>(-at, 0, 16), hi = std::clamp<int64_t>(width - at, 0, 16);
      if (hi <= lo) return _mm512_setzero_ps();
      const __mmask16 inside = __mmask16(((1u << hi) - 1) & ~((1u << lo) - 1));
      return lo > 0 ? _mm512_maskz_expandloadu_ps(inside, src) : _mm512_maskz_loadu_ps(inside, src + at);
    };
    const auto column = [&](int64_t o, __m512i index) {
      return _mm512_permutex2var_ps(padded(o), index, padded(o + 16));
    };
    for (int64_t v = 0, phase = 0; v < stride / 16; ++v, phase = phase == 2 ? 0 : phase + 1) {
      const __m512i index = gather[C == 3 ? phase : 0];
      const int64_t o = 32 * v - 16 * v % C;
      const __m512 d0 = column(o, index), d1 = column(o + C, index);
      const __m512 d2 = column(o + 2 * C, index), d3 = column(o + 3 * C, index);
      _mm512_storeu_ps(f + 16 * v, _mm512_sub_ps(d0, d2));
      _mm512_storeu_ps(f + stride + 16 * v, _mm512_add_ps(d1, d2));
      _mm512_storeu_ps(f + 2 * stride + 16 * v, _mm512_sub_ps(d2, d1));
      _mm512_storeu_ps(f + 3 * stride + 16 * v, _mm512_sub_ps(d1, d3));
    }
    // Rows are taken in order: start loading the next one, which the loop
    // over this row's output rows would otherwise wait for.
    if (prefetch && ih + 1 < s.h) prefetch_floats(x + (n * s.h + ih + 1) * width, width);
    return f;
  }
};

}  // namespace f23
}  // namespace pycnn
