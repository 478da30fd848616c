// direct_weight_avx2.cpp — the register-blocked d-weight of the direct conv
// (direct_weight_avx512.cpp's general form) for AVX2: for one output row
// and one 16-channel block (two ymm), up to 6 taps accumulate in registers
// across the interior pixels, then add once into the partial. Called only
// when active_isa() is kAvx2; border pixels and channel tails stay with the
// caller's plain loop.
#include "conv2d/direct.h"

#if defined(PYCNN_X86)
#include <immintrin.h>

#include <algorithm>

#include "conv2d/direct_weight_impl.h"

namespace pycnn {
namespace {

// 12 accumulators, the two gradient halves and a broadcast: 15 of the 16 ymm.
constexpr int kMaxTaps = 6;

// pw[t*K + 0..16) += sum_p x(p, t) * dy[p*K + 0..16) for t < kTaps.
template <bool kPerChannel, int kTaps>
void accumulate(float* pw, int64_t K, const float* x0, const int64_t* xoff, int64_t px_step, const float* dy0,
                int64_t npix) {
  __m256 acc[kTaps][2];
  for (int t = 0; t < kTaps; ++t) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
  for (int64_t p = 0; p < npix; ++p) {
    const __m256 dy_lo = _mm256_loadu_ps(dy0 + p * K), dy_hi = _mm256_loadu_ps(dy0 + p * K + 8);
    const float* xb = x0 + p * px_step;
    for (int t = 0; t < kTaps; ++t) {
      if (kPerChannel) {
        acc[t][0] = _mm256_fmadd_ps(_mm256_loadu_ps(xb + xoff[t]), dy_lo, acc[t][0]);
        acc[t][1] = _mm256_fmadd_ps(_mm256_loadu_ps(xb + xoff[t] + 8), dy_hi, acc[t][1]);
      } else {
        const __m256 xv = _mm256_broadcast_ss(xb + xoff[t]);
        acc[t][0] = _mm256_fmadd_ps(xv, dy_lo, acc[t][0]);
        acc[t][1] = _mm256_fmadd_ps(xv, dy_hi, acc[t][1]);
      }
    }
  }
  for (int t = 0; t < kTaps; ++t)
    for (int h = 0; h < 2; ++h) {
      float* out = pw + t * K + 8 * h;
      _mm256_storeu_ps(out, _mm256_add_ps(_mm256_loadu_ps(out), acc[t][h]));
    }
}

template <bool kPerChannel>
void accumulate_any(int taps, float* pw, int64_t K, const float* x0, const int64_t* xoff, int64_t px_step,
                    const float* dy0, int64_t npix) {
  switch (taps) {
    case 1: return accumulate<kPerChannel, 1>(pw, K, x0, xoff, px_step, dy0, npix);
    case 2: return accumulate<kPerChannel, 2>(pw, K, x0, xoff, px_step, dy0, npix);
    case 3: return accumulate<kPerChannel, 3>(pw, K, x0, xoff, px_step, dy0, npix);
    case 4: return accumulate<kPerChannel, 4>(pw, K, x0, xoff, px_step, dy0, npix);
    case 5: return accumulate<kPerChannel, 5>(pw, K, x0, xoff, px_step, dy0, npix);
    default: return accumulate<kPerChannel, 6>(pw, K, x0, xoff, px_step, dy0, npix);
  }
}

}  // namespace

void direct_weight_row_avx2(float* pw, const float* x, const float* dy_row, const Conv2dShape& s, int64_t n,
                            int64_t ih0, int64_t ilo, int64_t ihi, int64_t ow_lo, int64_t ow_hi, int64_t full) {
  const int64_t npix = ow_hi - ow_lo;
  if (npix <= 0 || full <= 0 || ihi <= ilo) return;
  weight_row_taps<kMaxTaps, accumulate_any<true>, accumulate_any<false>>(pw, x, dy_row, s, n, ih0, ilo, ihi, ow_lo,
                                                                          npix, full);
}

}  // namespace pycnn
#endif
