// direct_weight_impl.h — the tap loop of the register-blocked d-weight for
// interior pixels, shared by direct_weight_avx512.cpp and
// direct_weight_avx2.cpp: the window's taps go kMaxTaps at a time to the
// ISA's accumulate kernels (kPerChannel for one channel per group, kShared
// for a group's channels against its outputs). Include only from those
// files: everything here has internal linkage.
#pragma once

#include <algorithm>
#include <cstdint>

#include "conv2d/conv2d.h"

namespace pycnn {
namespace {

// The accumulate kernels' signature: `taps` taps (pw rows K floats apart,
// x offsets xoff from x0) over npix pixels px_step floats apart.
using AccumulateFn = void (*)(int taps, float* pw, int64_t K, const float* x0, const int64_t* xoff,
                              int64_t px_step, const float* dy0, int64_t npix);

// Output row (n, oh) (window rows [ilo, ihi), ih0 its first input row),
// interior pixels [ow_lo, ow_lo + npix), whole 16-channel blocks [0, full);
// npix, full and ihi - ilo positive.
template <int kMaxTaps, AccumulateFn kPerChannel, AccumulateFn kShared>
void weight_row_taps(float* pw, const float* x, const float* dy_row, const Conv2dShape& s, int64_t n,
                     int64_t ih0, int64_t ilo, int64_t ihi, int64_t ow_lo, int64_t npix, int64_t full) {
  const int64_t K = s.k, C = s.c, kg = s.kg, cg = s.cg;
  // Virtual taps t = (i*KW + j)*cg + ci over window rows [ilo, ihi): pw row
  // t, x offset from the first interior pixel's window origin.
  int64_t xoff[kMaxTaps];
  const int64_t t0 = ilo * s.kw * cg, taps = (ihi - ilo) * s.kw * cg;
  const float* x0 = x + ((n * s.h + ih0 + ilo * s.dh) * s.w + ow_lo * s.sw - s.pad_left) * C;
  const int64_t px_step = s.sw * C;
  for (int64_t tb = 0; tb < taps; tb += kMaxTaps) {
    const int cnt = int(std::min<int64_t>(kMaxTaps, taps - tb));
    for (int t = 0; t < cnt; ++t) {
      const int64_t v = tb + t, ci = v % cg, tap = v / cg, i = tap / s.kw, j = tap % s.kw;
      xoff[t] = (i * s.dh * s.w + j * s.dw) * C + ci;
    }
    float* pt = pw + (t0 + tb) * K;
    const float* dy0 = dy_row + ow_lo * K;
    if (kg == 1) {
      for (int64_t k0 = 0; k0 < full; k0 += 16) kPerChannel(cnt, pt + k0, K, x0 + k0, xoff, px_step, dy0 + k0, npix);
    } else {
      for (int64_t g = 0; g < s.groups; ++g)
        for (int64_t m0 = 0; m0 < full; m0 += 16)
          kShared(cnt, pt + g * kg + m0, K, x0 + g * cg, xoff, px_step, dy0 + g * kg + m0, npix);
    }
  }
}

}  // namespace
}  // namespace pycnn
