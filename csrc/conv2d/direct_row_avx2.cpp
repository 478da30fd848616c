// direct_row_avx2.cpp — the direct forward row kernel with an AVX2 register
// block: 4 pixels x 16 channels (two ymm each) in accumulators across the
// whole window, 8 of the 16 ymm. Called only when active_isa() is kAvx2.
#include "conv2d/direct.h"

#if defined(PYCNN_X86)
#include <immintrin.h>

#include "conv2d/direct_row_impl.h"

namespace pycnn {
namespace {

static_assert(kBlock == 16, "two ymm registers per accumulator row");

struct Avx2Block {
  template <bool kPerChannel, int kPix, int kNb>
  static void run(float* y_row, const float* w, const float* bias, const Conv2dShape& s, const RowWindow& rw,
                  int64_t ow, int64_t k0, int64_t g) {
    constexpr int kStep = kPix < 4 ? kPix : 4;
    for (int b = 0; b < kNb; ++b)
      for (int p0 = 0; p0 < kPix; p0 += kStep)
        run_pixels<kPerChannel, kStep>(y_row, w, bias, s, rw, ow + p0, k0 + kBlock * b, g);
  }

  template <bool kPerChannel, int kPix>
  static void run_pixels(float* y_row, const float* w, const float* bias, const Conv2dShape& s,
                         const RowWindow& rw, int64_t ow, int64_t k0, int64_t g) {
    const int64_t K = s.k, C = s.c, cg = kPerChannel ? 1 : s.cg;
    __m256 acc[kPix][2];
    for (int h = 0; h < 2; ++h) {
      const __m256 init = bias ? _mm256_loadu_ps(bias + k0 + 8 * h) : _mm256_setzero_ps();
      for (int p = 0; p < kPix; ++p) acc[p][h] = init;
    }
    const int64_t step = s.sw * C;
    const int64_t x0 = (ow * s.sw - rw.pad_left) * C + (kPerChannel ? k0 : g * cg);
    for (int64_t i = rw.ilo; i < rw.ihi; ++i) {
      const float* row = rw.row(i) + x0;
      const float* wrow = w + i * s.kw * cg * K + k0;
      for (int64_t j = 0; j < s.kw; ++j) {
        const float* xj = row + j * s.dw * C;
        for (int64_t ci = 0; ci < cg; ++ci) {
          const float* wp = wrow + (j * cg + ci) * K;
          const __m256 w0 = _mm256_loadu_ps(wp), w1 = _mm256_loadu_ps(wp + 8);
          const float* xp = xj + ci;
          for (int p = 0; p < kPix; ++p) {
            if (kPerChannel) {
              acc[p][0] = _mm256_fmadd_ps(_mm256_loadu_ps(xp + p * step), w0, acc[p][0]);
              acc[p][1] = _mm256_fmadd_ps(_mm256_loadu_ps(xp + p * step + 8), w1, acc[p][1]);
            } else {
              const __m256 xv = _mm256_broadcast_ss(xp + p * step);
              acc[p][0] = _mm256_fmadd_ps(xv, w0, acc[p][0]);
              acc[p][1] = _mm256_fmadd_ps(xv, w1, acc[p][1]);
            }
          }
        }
      }
    }
    for (int p = 0; p < kPix; ++p)
      for (int h = 0; h < 2; ++h) _mm256_storeu_ps(y_row + (ow + p) * K + k0 + 8 * h, acc[p][h]);
  }
};

}  // namespace

void direct_forward_row_avx2(float* y_row, const float* x, const float* weight, const float* bias,
                             const Conv2dShape& s, int64_t n, int64_t oh, const ActivationSpec& act) {
  forward_row_impl<Avx2Block>(y_row, x, weight, bias, s, n, oh);
  activate_inplace(y_row, s.ow * s.k, act);
}

}  // namespace pycnn
#endif
