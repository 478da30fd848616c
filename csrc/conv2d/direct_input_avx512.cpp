// direct_input_avx512.cpp — d-input of first-layer shapes (3-wide window,
// stride 1 across the width, no width dilation, C/G <= 4, K/G a multiple of
// 16) computed directly, one dx row at a time.
//
// dx[iw, g*cg+ci] = sum_{i,j,k} dy[oh_i, iw + pl - j, g*kg+k] * w[i, j, ci, g*kg+k]
// Each dy row that reaches this dx row is first copied with zero columns
// around it, so borders need no special case. Four dx pixels x cg channels
// accumulate 16-lane partial sums in zmm registers (each dy vector feeds up
// to three pixels' taps), reduced horizontally once at the end. Every dx
// element is written exactly once, by the thread that owns its row.
#include "conv2d/direct.h"

#if defined(PYCNN_X86)
#include <immintrin.h>

// GCC 12 reports the deliberately undefined pass-through operand of its own
// _mm512_extractf64x4_pd (_mm512_undefined_pd) as uninitialised.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <algorithm>
#include <cstring>

namespace pycnn {
namespace {

constexpr int kPx = 4;  // dx pixels per register block

template <int kCg>
void input_block(float* dx_px, int64_t C, const float* const* dy_rows, const int64_t* taps_i,
                 int64_t pairs, const float* w, const Conv2dShape& s, int64_t iw0, int64_t g) {
  const int64_t K = s.k, kg = s.kg;
  __m512 acc[kPx][kCg];
  for (int p = 0; p < kPx; ++p)
    for (int ci = 0; ci < kCg; ++ci) acc[p][ci] = _mm512_setzero_ps();
  for (int64_t r = 0; r < pairs; ++r) {
    const float* wi = w + taps_i[r] * 3 * kCg * K + g * kg;
    const float* dyb = dy_rows[r] + iw0 * K + g * kg;
    for (int64_t kb = 0; kb < kg; kb += 16) {
      __m512 wv[3][kCg];
#pragma GCC unroll 4
      for (int j = 0; j < 3; ++j)
#pragma GCC unroll 4
        for (int ci = 0; ci < kCg; ++ci) wv[j][ci] = _mm512_loadu_ps(wi + (j * kCg + ci) * K + kb);
#pragma GCC unroll 8
      for (int q = 0; q < kPx + 2; ++q) {
        const __m512 d = _mm512_loadu_ps(dyb + q * K + kb);
#pragma GCC unroll 4
        for (int j = 0; j < 3; ++j) {
          const int p = q + j - 2;
          if (p < 0 || p >= kPx) continue;
#pragma GCC unroll 4
          for (int ci = 0; ci < kCg; ++ci) acc[p][ci] = _mm512_fmadd_ps(d, wv[j][ci], acc[p][ci]);
        }
      }
    }
  }
  for (int p = 0; p < kPx; ++p)
    for (int ci = 0; ci < kCg; ++ci) dx_px[p * C + ci] = _mm512_reduce_add_ps(acc[p][ci]);
}

}  // namespace

bool direct_input_applies_avx512(const Conv2dShape& s) {
  return s.kw == 3 && s.sw == 1 && s.dw == 1 && s.cg <= 4 && s.kg % 16 == 0 && s.kh <= 16;
}

void direct_input_row_avx512(float* dx_row, const float* dy, const float* w, const Conv2dShape& s,
                             int64_t n, int64_t ih) {
  const int64_t K = s.k, C = s.c, cg = s.cg;
  const int64_t wpad = (s.w + kPx - 1) / kPx * kPx, blen = wpad + 2;
  // Window rows i whose output row oh = (ih + pt - i*dh) / sh exists.
  int64_t taps_i[16], pairs = 0, oh_of[16];
  for (int64_t i = 0; i < s.kh && pairs < 16; ++i) {
    int64_t t = ih + s.pad_top - i * s.dh;
    if (t < 0 || t % s.sh || t / s.sh >= s.oh) continue;
    taps_i[pairs] = i, oh_of[pairs] = t / s.sh, ++pairs;
  }
  Workspace& ws = thread_scratch(kScratchMisc);
  float* buf = ws.floats(size_t(pairs * blen * K + wpad * C + 1));
  float* dx_tmp = buf + pairs * blen * K;
  const float* dy_rows[16];
  for (int64_t r = 0; r < pairs; ++r) {
    // dy row oh_of[r], buffer column b holds output column b + pl - 2.
    float* dst = buf + r * blen * K;
    const float* src = dy + (n * s.oh + oh_of[r]) * s.ow * K;
    for (int64_t b = 0; b < blen; ++b) {
      int64_t ow = b + s.pad_left - 2;
      if (ow >= 0 && ow < s.ow)
        std::memcpy(dst + b * K, src + ow * K, sizeof(float) * K);
      else
        std::memset(dst + b * K, 0, sizeof(float) * K);
    }
    dy_rows[r] = dst;
  }
  float* out = wpad == s.w ? dx_row : dx_tmp;
  for (int64_t iw0 = 0; iw0 < wpad; iw0 += kPx)
    for (int64_t g = 0; g < s.groups; ++g) {
      float* px = out + iw0 * C + g * cg;
      switch (cg) {
        case 1: input_block<1>(px, C, dy_rows, taps_i, pairs, w, s, iw0, g); break;
        case 2: input_block<2>(px, C, dy_rows, taps_i, pairs, w, s, iw0, g); break;
        case 3: input_block<3>(px, C, dy_rows, taps_i, pairs, w, s, iw0, g); break;
        default: input_block<4>(px, C, dy_rows, taps_i, pairs, w, s, iw0, g); break;
      }
    }
  if (out != dx_row) std::memcpy(dx_row, out, sizeof(float) * s.w * C);
}

}  // namespace pycnn
#endif
