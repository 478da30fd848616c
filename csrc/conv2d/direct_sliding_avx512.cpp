// direct_sliding_avx512.cpp — the first-layer forward row kernel (an RGB or
// gray image: one group of at most 4 input channels, 3-wide windows, width
// stride 1). Called only when active_isa() is kAvx512.
//
// Per window row and input channel the 3 x NB weight vectors sit in
// registers, and each input value is broadcast once and feeds the (up to)
// three pixels whose windows hold it: PIX + 2 broadcasts and 3*NB weight
// loads per 3*NB*PIX FMAs. A broadcast per tap and pixel (the generic
// register block) made the loads, not the FMAs, the bound.
#include "conv2d/direct.h"

#if defined(PYCNN_X86)
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace pycnn {
namespace {

// PIX consecutive pixels x NB channel blocks, the first `store` pixels
// stored. rows: the first pixel's window column 0 in its first window row
// (nrows rows, row_stride floats apart); w: the weight of that window row
// at the block's first channel.
template <int kC, int kNb, int kPix>
void sliding_pixels(float* y, int64_t K, const float* rows, int64_t row_stride, int64_t nrows, const float* w,
                    const float* bias, int store) {
  __m512 acc[kPix][kNb];
#pragma GCC unroll 2
  for (int b = 0; b < kNb; ++b) {
    const __m512 init = bias ? _mm512_loadu_ps(bias + 16 * b) : _mm512_setzero_ps();
#pragma GCC unroll 16
    for (int p = 0; p < kPix; ++p) acc[p][b] = init;
  }
  const int64_t tap = kC * K;  // floats from window column j to j + 1
  for (int64_t r = 0; r < nrows; ++r, rows += row_stride, w += 3 * tap) {
    // The channel loop stays rolled: unrolled, GCC hoists the next channel's
    // weight loads and spills accumulators.
#pragma GCC unroll 1
    for (int c = 0; c < kC; ++c) {
      const float* xc = rows + c;
      __m512 wv[3][kNb];
#pragma GCC unroll 3
      for (int j = 0; j < 3; ++j)
#pragma GCC unroll 2
        for (int b = 0; b < kNb; ++b) wv[j][b] = _mm512_loadu_ps(w + j * tap + c * K + 16 * b);
#pragma GCC unroll 32
      for (int q = 0; q < kPix + 2; ++q) {
        const __m512 xv = _mm512_set1_ps(xc[q * kC]);
#pragma GCC unroll 3
        for (int j = 0; j < 3; ++j) {
          const int p = q - j;
          if (p < 0 || p >= kPix) continue;
#pragma GCC unroll 2
          for (int b = 0; b < kNb; ++b) acc[p][b] = _mm512_fmadd_ps(xv, wv[j][b], acc[p][b]);
        }
      }
    }
  }
#pragma GCC unroll 16
  for (int p = 0; p < kPix; ++p) {
    if (p == store) break;
#pragma GCC unroll 2
    for (int b = 0; b < kNb; ++b) _mm512_storeu_ps(y + p * K + 16 * b, acc[p][b]);
  }
}

using PixelsFn = decltype(&sliding_pixels<1, 1, 4>);

// Pixels per group: 16 for one block (16 accumulators), 8 for two (16
// accumulators + 6 weights); a short last group rounds up to 4, 8 or 12.
constexpr int kWidePix = 16, kPairPix = 8;

template <int kC>
PixelsFn pick_for(int nb, int pix) {
  if (nb == 2) return pix == 4 ? &sliding_pixels<kC, 2, 4> : &sliding_pixels<kC, 2, 8>;
  switch (pix) {
    case 4: return &sliding_pixels<kC, 1, 4>;
    case 8: return &sliding_pixels<kC, 1, 8>;
    case 12: return &sliding_pixels<kC, 1, 12>;
    default: return &sliding_pixels<kC, 1, 16>;
  }
}

PixelsFn pick(int64_t c, int nb, int pix) {
  switch (c) {
    case 1: return pick_for<1>(nb, pix);
    case 2: return pick_for<2>(nb, pix);
    case 3: return pick_for<3>(nb, pix);
    default: return pick_for<4>(nb, pix);
  }
}

}  // namespace

bool direct_sliding_applies_avx512(const Conv2dShape& s) {
  return s.groups == 1 && s.c <= 4 && s.kw == 3 && s.sw == 1 && s.dw == 1 && s.k % 16 == 0;
}

void direct_sliding_row_avx512(float* y_row, const float* x, const float* weight, const float* bias,
                               const Conv2dShape& s, int64_t n, int64_t oh) {
  const int64_t K = s.k, C = s.c;
  const int64_t ih0 = oh * s.sh - s.pad_top;
  int64_t ilo, ihi;
  valid_rows(s, ih0, ilo, ihi);
  const int64_t nrows = ihi - ilo;
  // Window rows are read from x in place; a pixel group whose columns
  // [ow - pad_left, ow - pad_left + pix + 2) leave the width reads a
  // zero-padded copy of just those columns.
  const int64_t patch_row = (kWidePix + 2) * C;
  float* patch = thread_scratch(kScratchMisc).floats(size_t(std::max<int64_t>(nrows * patch_row, 1)));
  const float* x_rows = x + ((n * s.h + ih0 + ilo * s.dh) * s.w) * C;
  const int64_t x_stride = s.dh * s.w * C;
  const float* w_rows = weight + ilo * 3 * C * K;
  const int nb_max = K >= 32 ? 2 : 1, group = nb_max == 2 ? kPairPix : kWidePix;
  for (int64_t ow = 0; ow < s.ow; ow += group) {
    const int store = int(std::min<int64_t>(group, s.ow - ow));
    const int pix = store == group ? group : (store + 3) / 4 * 4;
    const int64_t col0 = ow - s.pad_left, cols = pix + 2;
    const float* rows = patch;
    int64_t stride = patch_row;
    if (col0 >= 0 && col0 + cols <= s.w) {
      rows = x_rows + col0 * C, stride = x_stride;
    } else {
      const int64_t lo = std::max<int64_t>(col0, 0), hi = std::min(col0 + cols, s.w);
      for (int64_t r = 0; r < nrows; ++r) {
        float* dst = patch + r * patch_row;
        std::fill(dst, dst + cols * C, 0.f);
        if (lo < hi) std::copy(x_rows + r * x_stride + lo * C, x_rows + r * x_stride + hi * C, dst + (lo - col0) * C);
      }
    }
    for (int64_t k0 = 0; k0 < K;) {
      const int nb = K - k0 >= 32 ? 2 : 1;
      pick(C, nb, pix)(y_row + ow * K + k0, K, rows, stride, nrows, w_rows + k0, bias ? bias + k0 : nullptr, store);
      k0 += 16 * nb;
    }
  }
}

}  // namespace pycnn
#endif
