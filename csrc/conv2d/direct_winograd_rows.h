// direct_winograd_rows.h — what the first-layer F(2, 3) kernels share
// (direct_winograd_avx512.cpp: forward and d-weight by rows,
// direct_winograd_tiles_avx512.cpp: d-weight by 2x2 tiles): the ring of
// input-factor rows and when to prefetch. AVX-512 translation units only.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>

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

// The input factors of one input row: factor j of the output pair p (the
// windows starting at column q = 2p), channel c, at f[j * stride + p * C + c].
// Along a window row that pair reads d0..d3 = row[q..q+3] through the
// factors (d0 - d2, d1 + d2, d2 - d1, d1 - d3). The zero-padded row is first
// split into its even and odd columns (vcompressps), so that the factors of
// the even q alone are whole vectors over p. Every array is computed to a
// whole number of vectors: `stride` floats, past the last pair.
struct FactorRows {
  static constexpr int kMaxSlots = 17;
  const Conv2dShape& s;
  int64_t pairs, stride;      // output pairs per row; floats per factor array (rounded to 16)
  int64_t parity_floats;      // floats per parity array: >= stride + C, whole vectors (stride + 16)
  float* base;                // slots(s) rows x 4 factors x stride, then the two parities
  bool prefetch;              // the next input row when a row is made (streams(s))
  __mmask16 even_lanes[3];    // floats of even columns in vector i of the padded row, i % 3
  int even_count[3];          // and how many
  int64_t tag[kMaxSlots];     // (n * H + ih) held by each ring slot, -1 = empty

  static int64_t pairs_of(const Conv2dShape& s) { return (s.ow + 1) / 2; }
  static int64_t factor_stride(const Conv2dShape& s) { return (pairs_of(s) * s.c + 15) / 16 * 16; }
  static int64_t parity_of(const Conv2dShape& s) { return factor_stride(s) + 16; }
  // One slot more than a window's rows: the tile d-weight holds 4 rows of a 3-row window.
  static int64_t slots(const Conv2dShape& s) { return s.kh + 1; }
  static int64_t floats(const Conv2dShape& s) { return slots(s) * 4 * factor_stride(s) + 2 * parity_of(s) + 64; }

  FactorRows(const Conv2dShape& shape, float* scratch)
      : s(shape), pairs(pairs_of(shape)), stride(factor_stride(shape)), parity_floats(parity_of(shape)),
        base(scratch), prefetch(streams(shape)) {
    std::fill(tag, tag + kMaxSlots, int64_t(-1));
    // The pattern repeats every lcm(16, 2C) floats: 1 vector for C = 1, 2, 4; 3 for C = 3.
    for (int i = 0; i < 3; ++i) {
      unsigned bits = 0;
      for (int j = 0; j < 16; ++j) bits |= unsigned((16 * i + j) / shape.c % 2 == 0) << j;
      even_lanes[i] = __mmask16(bits);
      even_count[i] = __builtin_popcount(bits);
    }
  }

  // Factors of input row ih of image n (inside the image).
  const float* row(const float* x, int64_t n, int64_t ih) {
    const int64_t key = n * s.h + ih, slot = ih % slots(s);
    float* f = base + slot * 4 * stride;
    if (tag[slot] == key) return f;
    tag[slot] = key;
    const int64_t C = s.c, row_floats = 2 * parity_floats, width = s.w * C;
    float* even = base + slots(s) * 4 * stride;
    // Each parity takes parity_floats floats, give or take 8, and the last
    // whole-vector store writes up to 16 past its start: 32 floats of room.
    float* odd = even + parity_floats + 32;
    // The row from column -pad_left on, zero outside the image, read in
    // place: masked loads at the borders (a fill and copy into a buffer made
    // every load wait on the stores before it).
    const float* src = x + (n * s.h + ih) * width;
    int64_t ne = 0, no = 0;  // floats stored to each parity so far
    for (int64_t v = 0, phase = 0; v < row_floats / 16; ++v, phase = phase == 2 ? 0 : phase + 1) {
      const int64_t at = 16 * v - s.pad_left * C;  // offset of lane 0 in the image row
      const int64_t lo = std::clamp<int64_t>(-at, 0, 16), hi = std::clamp<int64_t>(width - at, 0, 16);
      const __mmask16 inside = hi > lo ? __mmask16(((1u << hi) - 1) & ~((1u << lo) - 1)) : __mmask16(0);
      // Left of the image (lo > 0), the row's first floats go to lanes lo on;
      // right of it nothing is read (no address past the row is formed).
      const __m512 in = inside == 0 ? _mm512_setzero_ps()
                        : lo > 0    ? _mm512_maskz_expandloadu_ps(inside, src)
                                    : _mm512_maskz_loadu_ps(inside, src + at);
      const __mmask16 m = even_lanes[phase];
      _mm512_storeu_ps(even + ne, _mm512_maskz_compress_ps(m, in));
      _mm512_storeu_ps(odd + no, _mm512_maskz_compress_ps(__mmask16(~m), in));
      ne += even_count[phase];
      no += 16 - even_count[phase];
    }
    // Rows are taken in order: start loading the next one, which the loop
    // over this row's output rows would otherwise wait for.
    if (prefetch && ih + 1 < s.h) prefetch_floats(x + (n * s.h + ih + 1) * width, width);
    float* f0 = f;
    float* f1 = f + stride;
    float* f2 = f + 2 * stride;
    float* f3 = f + 3 * stride;
#pragma omp simd
    for (int64_t i = 0; i < stride; ++i) {
      const float d0 = even[i], d1 = odd[i], d2 = even[i + C], d3 = odd[i + C];
      f0[i] = d0 - d2;
      f1[i] = d1 + d2;
      f2[i] = d2 - d1;
      f3[i] = d1 - d3;
    }
    return f;
  }
};

}  // namespace f23
}  // namespace pycnn
