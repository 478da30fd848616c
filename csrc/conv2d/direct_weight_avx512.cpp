// direct_weight_avx512.cpp — register-blocked d-weight of the direct
// (few input channels per group) conv for interior pixels: for one output row
// and one 16-channel block, up to 8 taps accumulate in zmm registers across
// all interior pixels, then add once into the partial. Called only when
// active_isa() is kAvx512; border pixels and channel tails stay with the
// caller's plain loop.
#include "conv2d/direct.h"

#if defined(PYCNN_X86)
#include <immintrin.h>

#include <algorithm>

namespace pycnn {
namespace {

// pw[t*K + 0..16) += sum_p x(p, t) * dy[p*K + 0..16) for t < kTaps.
template <bool kPerChannel, int kTaps>
void accumulate(float* pw, int64_t K, const float* x0, const int64_t* xoff, int64_t px_step,
                const float* dy0, int64_t npix) {
  __m512 acc[kTaps];
  for (int t = 0; t < kTaps; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t p = 0; p < npix; ++p) {
    const __m512 dyv = _mm512_loadu_ps(dy0 + p * K);
    const float* xb = x0 + p * px_step;
    for (int t = 0; t < kTaps; ++t) {
      const __m512 xv = kPerChannel ? _mm512_loadu_ps(xb + xoff[t]) : _mm512_set1_ps(xb[xoff[t]]);
      acc[t] = _mm512_fmadd_ps(xv, dyv, acc[t]);
    }
  }
  for (int t = 0; t < kTaps; ++t)
    _mm512_storeu_ps(pw + t * K, _mm512_add_ps(_mm512_loadu_ps(pw + t * K), acc[t]));
}

template <bool kPerChannel>
void accumulate_any(int taps, float* pw, int64_t K, const float* x0, const int64_t* xoff,
                    int64_t px_step, const float* dy0, int64_t npix) {
  switch (taps) {
    case 1: return accumulate<kPerChannel, 1>(pw, K, x0, xoff, px_step, dy0, npix);
    case 2: return accumulate<kPerChannel, 2>(pw, K, x0, xoff, px_step, dy0, npix);
    case 3: return accumulate<kPerChannel, 3>(pw, K, x0, xoff, px_step, dy0, npix);
    case 4: return accumulate<kPerChannel, 4>(pw, K, x0, xoff, px_step, dy0, npix);
    case 5: return accumulate<kPerChannel, 5>(pw, K, x0, xoff, px_step, dy0, npix);
    case 6: return accumulate<kPerChannel, 6>(pw, K, x0, xoff, px_step, dy0, npix);
    case 7: return accumulate<kPerChannel, 7>(pw, K, x0, xoff, px_step, dy0, npix);
    default: return accumulate<kPerChannel, 8>(pw, K, x0, xoff, px_step, dy0, npix);
  }
}

}  // namespace

void direct_weight_row_avx512(float* pw, const float* x, const float* dy_row, const Conv2dShape& s,
                              int64_t n, int64_t ih0, int64_t ilo, int64_t ihi, int64_t ow_lo,
                              int64_t ow_hi, int64_t full) {
  const int64_t K = s.k, C = s.c, kg = s.kg;
  const int64_t npix = ow_hi - ow_lo;
  if (npix <= 0 || full <= 0 || ihi <= ilo) return;
  // Virtual taps t = (i*KW + j)*cg + ci over window rows [ilo, ihi): pw row
  // t, x offset from the first interior pixel's window origin.
  int64_t xoff[8];
  const int64_t cg = s.cg, t0 = ilo * s.kw * cg, taps = (ihi - ilo) * s.kw * cg;
  const float* x0 = x + ((n * s.h + ih0 + ilo * s.dh) * s.w + ow_lo * s.sw - s.pad_left) * C;
  const int64_t px_step = s.sw * C;
  for (int64_t tb = 0; tb < taps; tb += 8) {
    const int cnt = int(std::min<int64_t>(8, taps - tb));
    for (int t = 0; t < cnt; ++t) {
      int64_t v = tb + t, ci = v % cg, tap = v / cg, i = tap / s.kw, j = tap % s.kw;
      xoff[t] = (i * s.dh * s.w + j * s.dw) * C + ci;
    }
    float* pt = pw + (t0 + tb) * K;
    const float* dy0 = dy_row + ow_lo * K;
    if (kg == 1) {
      for (int64_t k0 = 0; k0 < full; k0 += 16)
        accumulate_any<true>(cnt, pt + k0, K, x0 + k0, xoff, px_step, dy0 + k0, npix);
    } else {
      for (int64_t g = 0; g < s.groups; ++g)
        for (int64_t m0 = 0; m0 < full; m0 += 16)
          accumulate_any<false>(cnt, pt + g * kg + m0, K, x0 + g * cg, xoff, px_step, dy0 + g * kg + m0, npix);
    }
  }
}

}  // namespace pycnn
#endif
