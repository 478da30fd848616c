// direct_row_avx512.cpp — the direct forward row kernel with an AVX-512
// register block: kPix pixels x (16 or 32) channels in zmm accumulators
// across the whole window. Called only when active_isa() is kAvx512.
#include "conv2d/direct.h"

#if defined(PYCNN_X86)
#include <immintrin.h>

#include "conv2d/direct_row_impl.h"

namespace pycnn {
namespace {

static_assert(kBlock == 16, "one zmm register per accumulator row");

struct Avx512Block {
  // 3-wide window, stride 1, no dilation, 16 channels: the window row's
  // 3*kCg weight vectors stay in registers and each input value is
  // broadcast once for the (up to) three output pixels it feeds, about two
  // FMAs per load instead of one.
  template <int kCg, int kPix>
  static void run_sliding(float* y_row, const float* w, const float* bias, const Conv2dShape& s,
                          const RowWindow& rw, int64_t ow, int64_t k0, int64_t g) {
    const int64_t K = s.k, C = s.c;
    __m512 acc[kPix];
    const __m512 init = bias ? _mm512_loadu_ps(bias + k0) : _mm512_setzero_ps();
    for (int p = 0; p < kPix; ++p) acc[p] = init;
    const float* x0 = rw.x_img + (ow - s.pad_left) * C + g * kCg;
    for (int64_t i = rw.ilo; i < rw.ihi; ++i) {
      const float* row = x0 + (rw.ih0 + i * s.dh) * s.w * C;
      __m512 wv[3][kCg];
#pragma GCC unroll 4
      for (int j = 0; j < 3; ++j)
#pragma GCC unroll 4
        for (int ci = 0; ci < kCg; ++ci) wv[j][ci] = _mm512_loadu_ps(w + ((i * 3 + j) * kCg + ci) * K + k0);
#pragma GCC unroll 16
      for (int q = 0; q < kPix + 2; ++q)
#pragma GCC unroll 4
        for (int ci = 0; ci < kCg; ++ci) {
          const __m512 xv = _mm512_set1_ps(row[q * C + ci]);
#pragma GCC unroll 4
          for (int j = 0; j < 3; ++j) {
            const int p = q - j;
            if (p >= 0 && p < kPix) acc[p] = _mm512_fmadd_ps(xv, wv[j][ci], acc[p]);
          }
        }
    }
    for (int p = 0; p < kPix; ++p) _mm512_storeu_ps(y_row + (ow + p) * K + k0, acc[p]);
  }

  template <bool kPerChannel, int kPix, int kNb>
  static void run(float* y_row, const float* w, const float* bias, const Conv2dShape& s,
                  const RowWindow& rw, int64_t ow, int64_t k0, int64_t g) {
    if (!kPerChannel && s.kw == 3 && s.sw == 1 && s.dw == 1 && s.cg <= 4) {
      for (int b = 0; b < kNb; ++b) {
        const int64_t kb = k0 + 16 * b;
        switch (s.cg) {
          case 1: run_sliding<1, kPix>(y_row, w, bias, s, rw, ow, kb, g); break;
          case 2: run_sliding<2, kPix>(y_row, w, bias, s, rw, ow, kb, g); break;
          case 3: run_sliding<3, kPix>(y_row, w, bias, s, rw, ow, kb, g); break;
          default: run_sliding<4, kPix>(y_row, w, bias, s, rw, ow, kb, g); break;
        }
      }
      return;
    }
    const int64_t K = s.k, C = s.c, cg = kPerChannel ? 1 : s.cg, row_stride = s.w * C;
    __m512 acc[kPix][kNb];
    for (int b = 0; b < kNb; ++b) {
      const __m512 init = bias ? _mm512_loadu_ps(bias + k0 + 16 * b) : _mm512_setzero_ps();
      for (int p = 0; p < kPix; ++p) acc[p][b] = init;
    }
    const int64_t step = s.sw * C;
    const float* x0 = rw.x_img + (ow * s.sw - s.pad_left) * C + (kPerChannel ? k0 : g * cg);
    for (int64_t i = rw.ilo; i < rw.ihi; ++i) {
      const float* row = x0 + (rw.ih0 + i * s.dh) * row_stride;
      const float* wrow = w + i * s.kw * cg * K + k0;
      for (int64_t j = 0; j < s.kw; ++j) {
        const float* xj = row + j * s.dw * C;
        for (int64_t ci = 0; ci < cg; ++ci) {
          __m512 wv[kNb];
          for (int b = 0; b < kNb; ++b) wv[b] = _mm512_loadu_ps(wrow + (j * cg + ci) * K + 16 * b);
          const float* xp = xj + ci;
          for (int p = 0; p < kPix; ++p) {
            const __m512 xv = kPerChannel ? _mm512_loadu_ps(xp + p * step) : _mm512_set1_ps(xp[p * step]);
            for (int b = 0; b < kNb; ++b) acc[p][b] = _mm512_fmadd_ps(xv, wv[b], acc[p][b]);
          }
        }
      }
    }
    for (int p = 0; p < kPix; ++p)
      for (int b = 0; b < kNb; ++b) _mm512_storeu_ps(y_row + (ow + p) * K + k0 + 16 * b, acc[p][b]);
  }
};

}  // namespace

void direct_forward_row_avx512(float* y_row, const float* x, const float* weight,
                               const float* bias, const Conv2dShape& s, int64_t n, int64_t oh,
                               const ActivationSpec& act) {
  forward_row_impl<Avx512Block>(y_row, x, weight, bias, s, n, oh);
  activate_inplace(y_row, s.ow * s.k, act);
}

}  // namespace pycnn
#endif
