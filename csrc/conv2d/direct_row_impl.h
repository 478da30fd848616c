// direct_row_impl.h — body of the direct forward row kernel, compiled once per
// ISA (direct_row.cpp baseline, direct_row_avx512.cpp with AVX-512 flags).
// Include only from those files: everything here has internal linkage.
//
// Interior pixels (whole window inside the width) go kPix at a time with
// kPix x kBlock accumulators held in registers across the window; border
// pixels and the channel tail take the plain per-pixel loop.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "conv2d/conv2d.h"

namespace pycnn {
namespace {

constexpr int kBlock = 16;  // output channels per accumulator row
constexpr int kPix = 8;     // pixels per register block (then 4, then one at a time)

struct RowWindow {
  const float* x_img;
  int64_t ih0, ilo, ihi;  // window rows [ilo, ihi) are inside the height
};

// One pixel, channels from `from` on (k when kg == 1, m of every group when
// kg > 1). Weight row of tap (i, j), group channel ci: ((i*KW + j)*cg + ci)*K.
inline void pixel_generic(float* yp, const float* w, const float* bias, const Conv2dShape& s,
                          const RowWindow& rw, int64_t ow, int64_t from) {
  const int64_t K = s.k, C = s.c, kg = s.kg, cg = s.cg, row_stride = s.w * C;
  const int64_t iw0 = ow * s.sw - s.pad_left;
  for (int64_t g = 0; g < (kg == 1 ? 1 : s.groups); ++g) {
    int64_t k0 = kg == 1 ? from : g * kg + from, k1 = kg == 1 ? K : (g + 1) * kg;
    for (int64_t k = k0; k < k1; ++k) yp[k] = bias ? bias[k] : 0.f;
  }
  for (int64_t i = rw.ilo; i < rw.ihi; ++i) {
    const float* row = rw.x_img + (rw.ih0 + i * s.dh) * row_stride;
    for (int64_t j = 0; j < s.kw; ++j) {
      int64_t iw = iw0 + j * s.dw;
      if (iw < 0 || iw >= s.w) continue;
      const float* xp = row + iw * C;
      const float* wp = w + (i * s.kw + j) * cg * K;
      if (kg == 1) {
#pragma omp simd
        for (int64_t k = from; k < K; ++k) yp[k] += xp[k] * wp[k];
      } else {
        for (int64_t g = 0; g < s.groups; ++g)
          for (int64_t ci = 0; ci < cg; ++ci) {
            const float xv = xp[g * cg + ci];
            float* yg = yp + g * kg;
            const float* wc = wp + ci * K + g * kg;
#pragma omp simd
            for (int64_t m = from; m < kg; ++m) yg[m] += xv * wc[m];
          }
      }
    }
  }
}

// kPix interior pixels from ow, output channel block starting at k0; when
// kg > 1 every lane reads the same input channel c. The portable block; an
// ISA file may pass its own with the same signature to forward_row_impl.
struct PortableBlock {
template <bool kPerChannel, int kPix, int kNb>
static void run(float* y_row, const float* w, const float* bias, const Conv2dShape& s,
                const RowWindow& rw, int64_t ow, int64_t k0, int64_t g) {
  for (int b = 0; b < kNb; ++b) run_one<kPerChannel, kPix>(y_row, w, bias, s, rw, ow, k0 + b * kBlock, g);
}
template <bool kPerChannel, int kPix>
static void run_one(float* y_row, const float* w, const float* bias, const Conv2dShape& s,
                    const RowWindow& rw, int64_t ow, int64_t k0, int64_t g) {
  const int64_t K = s.k, C = s.c, cg = kPerChannel ? 1 : s.cg, row_stride = s.w * C;
  float acc[kPix][kBlock];
  for (int p = 0; p < kPix; ++p)
    for (int t = 0; t < kBlock; ++t) acc[p][t] = bias ? bias[k0 + t] : 0.f;
  int64_t off[kPix];
  for (int p = 0; p < kPix; ++p)
    off[p] = ((ow + p) * s.sw - s.pad_left) * C + (kPerChannel ? k0 : g * cg);
  for (int64_t i = rw.ilo; i < rw.ihi; ++i) {
    const float* row = rw.x_img + (rw.ih0 + i * s.dh) * row_stride;
    for (int64_t j = 0; j < s.kw; ++j) {
      const float* xj = row + j * s.dw * C;
      for (int64_t ci = 0; ci < cg; ++ci) {
        const float* wp = w + ((i * s.kw + j) * cg + ci) * K + k0;
        for (int p = 0; p < kPix; ++p) {
          const float* xp = xj + off[p] + ci;
          if (kPerChannel) {
            for (int t = 0; t < kBlock; ++t) acc[p][t] += xp[t] * wp[t];
          } else {
            const float xv = xp[0];
            for (int t = 0; t < kBlock; ++t) acc[p][t] += xv * wp[t];
          }
        }
      }
    }
  }
  for (int p = 0; p < kPix; ++p) {
    float* yp = y_row + (ow + p) * K + k0;
    for (int t = 0; t < kBlock; ++t) yp[t] = acc[p][t];
  }
}
};

template <typename Block>
inline void forward_row_impl(float* y_row, const float* x, const float* w, const float* bias,
                             const Conv2dShape& s, int64_t n, int64_t oh) {
  const int64_t kg = s.kg;
  RowWindow rw{x + n * s.h * s.w * s.c, oh * s.sh - s.pad_top, 0, s.kh};
  if (rw.ih0 < 0) rw.ilo = std::min<int64_t>(s.kh, (-rw.ih0 + s.dh - 1) / s.dh);
  {
    int64_t room = s.h - 1 - rw.ih0;
    rw.ihi = room < 0 ? 0 : std::min<int64_t>(s.kh, room / s.dh + 1);
    rw.ihi = std::max(rw.ihi, rw.ilo);
  }
  // Interior pixels: ow*sw - pl >= 0 and ow*sw - pl + (kw-1)*dw <= W-1.
  const int64_t ow_lo = (s.pad_left + s.sw - 1) / s.sw;
  const int64_t last = s.w - 1 - (s.kw - 1) * s.dw + s.pad_left;
  const int64_t ow_hi = std::max(ow_lo, last < 0 ? 0 : std::min<int64_t>(s.ow, last / s.sw + 1));
  const int64_t len = kg == 1 ? s.k : kg, full = len / kBlock * kBlock;
  int64_t ow = 0;
  auto group = [&](auto pixels) {
    constexpr int np = decltype(pixels)::value;
    // Two 16-channel blocks at once where possible: each broadcast input
    // value then feeds two FMAs.
    auto blocks = [&](int64_t base, int64_t g) {
      int64_t m0 = 0;
      for (; m0 + 2 * kBlock <= full; m0 += 2 * kBlock)
        Block::template run<false, np, 2>(y_row, w, bias, s, rw, ow, base + m0, g);
      for (; m0 < full; m0 += kBlock) Block::template run<false, np, 1>(y_row, w, bias, s, rw, ow, base + m0, g);
    };
    if (kg == 1) {
      for (int64_t k0 = 0; k0 < full; k0 += kBlock)
        Block::template run<true, np, 1>(y_row, w, bias, s, rw, ow, k0, 0);
    } else {
      for (int64_t g = 0; g < s.groups; ++g) blocks(g * kg, g);
    }
    if (full < len)
      for (int p = 0; p < np; ++p) pixel_generic(y_row + (ow + p) * s.k, w, bias, s, rw, ow + p, full);
    ow += np;
  };
  while (ow < s.ow) {
    const bool interior = ow >= ow_lo && full > 0;
    if (interior && ow + kPix <= ow_hi) {
      group(std::integral_constant<int, kPix>());
    } else if (interior && ow + kPix / 2 <= ow_hi) {
      group(std::integral_constant<int, kPix / 2>());
    } else {
      pixel_generic(y_row + ow * s.k, w, bias, s, rw, ow, 0);
      ow += 1;
    }
  }
}

}  // namespace
}  // namespace pycnn
