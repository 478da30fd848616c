// direct_input_avx512.cpp — the first-layer d-input (direct_input_impl.h)
// with its zmm register block: 4 dx pixels x cg channels in 16-lane partial
// sums, the window's weight vectors of one 16-channel block in registers.
// Called only when active_isa() is kAvx512.
#include "conv2d/direct.h"

#if defined(PYCNN_X86)
#include <immintrin.h>

// GCC 12 reports the deliberately undefined pass-through operand of its own
// _mm512_extractf64x4_pd (_mm512_undefined_pd) as uninitialised.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include "conv2d/direct_input_impl.h"

namespace pycnn {
namespace {

struct Avx512InputBlock {
  template <int kCg>
  static void run(float* dx_px, int64_t C, const float* const* dy_rows, const int64_t* taps_i, int64_t pairs,
                  const float* w, const Conv2dShape& s, int64_t iw0, int64_t g);
};

template <int kCg>
void Avx512InputBlock::run(float* dx_px, int64_t C, const float* const* dy_rows, const int64_t* taps_i,
                           int64_t pairs, const float* w, const Conv2dShape& s, int64_t iw0, int64_t g) {
  const int64_t K = s.k, kg = s.kg;
  __m512 acc[kInputPixels][kCg];
  for (int p = 0; p < kInputPixels; ++p)
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
      for (int q = 0; q < kInputPixels + 2; ++q) {
        const __m512 d = _mm512_loadu_ps(dyb + q * K + kb);
#pragma GCC unroll 4
        for (int j = 0; j < 3; ++j) {
          const int p = q + j - 2;
          if (p < 0 || p >= kInputPixels) continue;
#pragma GCC unroll 4
          for (int ci = 0; ci < kCg; ++ci) acc[p][ci] = _mm512_fmadd_ps(d, wv[j][ci], acc[p][ci]);
        }
      }
    }
  }
  for (int p = 0; p < kInputPixels; ++p)
    for (int ci = 0; ci < kCg; ++ci) dx_px[p * C + ci] = _mm512_reduce_add_ps(acc[p][ci]);
}

}  // namespace

void direct_input_row_avx512(float* dx_row, const float* dy, const float* w, const Conv2dShape& s,
                             int64_t n, int64_t ih) {
  first_layer_input_row<Avx512InputBlock>(dx_row, dy, w, s, n, ih);
}

}  // namespace pycnn
#endif
