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
  template <bool kPerChannel, int kPix, int kNb>
  static void run(float* y_row, const float* w, const float* bias, const Conv2dShape& s,
                  const RowWindow& rw, int64_t ow, int64_t k0, int64_t g) {
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
