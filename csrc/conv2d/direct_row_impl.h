// direct_row_impl.h — body of the direct forward row kernel, compiled once per
// ISA (direct_row.cpp baseline, direct_row_avx2.cpp and direct_row_avx512.cpp
// with their flags), and the AVX2 and portable register block (VecBlock).
// Include only from those files: everything here has internal linkage.
//
// Interior pixels (whole window inside the width) go kPix at a time with
// kPix x kBlock accumulators held in registers across the window; border
// pixels and the channel tail take the plain per-pixel loop.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "common/check.h"
#include "common/workspace.h"
#include "conv2d/conv2d.h"
#include "common/simd.h"
#include "conv2d/direct.h"

namespace pycnn {
namespace {

constexpr int kBlock = 16;  // output channels per accumulator row
constexpr int kPix = 8;     // pixels per register block (then 4, then one at a time)

// Where output row (n, oh)'s window rows live: window row i starts at
// base + row0 + i*istride (floats), column 0 of that row is input column
// -pad_left. Either the input itself or a zero-padded copy of its rows.
struct RowWindow {
  const float* base;
  int64_t row0, istride, pad_left;
  int64_t ilo, ihi;  // window rows [ilo, ihi) are inside the height
  const float* row(int64_t i) const { return base + (row0 + i * istride); }
};

// One pixel, channels from `from` on (k when kg == 1, m of every group when
// kg > 1). Weight row of tap (i, j), group channel ci: ((i*KW + j)*cg + ci)*K.
inline void pixel_generic(float* yp, const float* w, const float* bias, const Conv2dShape& s,
                          const RowWindow& rw, int64_t ow, int64_t from) {
  const int64_t K = s.k, C = s.c, kg = s.kg, cg = s.cg;
  const int64_t iw0 = ow * s.sw - s.pad_left;
  for (int64_t g = 0; g < (kg == 1 ? 1 : s.groups); ++g) {
    int64_t k0 = kg == 1 ? from : g * kg + from, k1 = kg == 1 ? K : (g + 1) * kg;
    for (int64_t k = k0; k < k1; ++k) yp[k] = bias ? bias[k] : 0.f;
  }
  for (int64_t i = rw.ilo; i < rw.ihi; ++i) {
    const float* row = rw.row(i);
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

// kPix interior pixels from ow, output channel block starting at k0 (kNb
// blocks of 16); when kg > 1 every lane reads the same input channel. A
// 16-channel row is 16 / Vec::kLanes registers; pixels go 8 registers of
// accumulators at a time (AVX2: 4 pixels of two ymm; portable: 2 of four
// 4-float vectors), held across the whole window. The input value is
// broadcast from memory (Vec::broadcast): set1 of a loaded float made GCC
// index every pixel's address afresh, and mnist conv1's AVX2 forward ran
// 0.77-0.80 against 0.65-0.69 ms. direct_row_avx512.cpp passes its own
// block with the same signature to forward_rows_impl.
template <typename Vec>
struct VecBlock {
  static constexpr int kRegs = kBlock / Vec::kLanes;
  static constexpr int kMaxStep = 8 / kRegs;

  template <bool kPerChannel, int kPix, int kNb>
  static void run(float* y_row, const float* w, const float* bias, const Conv2dShape& s, const RowWindow& rw,
                  int64_t ow, int64_t k0, int64_t g) {
    // First layers: one group of 1 or 3 channels, 3-wide windows at width
    // stride 1. AVX2 (two registers a block) takes run_sliding; the baseline
    // build has no registers to spare for its weights and runs 1 channel on
    // compile-time loops (with run-time trip counts the loop control and
    // address arithmetic outnumbered the multiply-adds: mnist conv1 1.43 ->
    // 1.02 ms), 3 channels as any other shape (with its channel loop
    // unrolled they ran 5-10 % slower).
    if (!kPerChannel && s.groups == 1 && s.kw == 3 && s.sw == 1 && s.dw == 1) {
      if (kRegs <= 2 && (s.c == 1 || s.c == 3)) {
        constexpr int kStep = kPix < kMaxStep ? kPix : kMaxStep;
        for (int b = 0; b < kNb; ++b)
          for (int p0 = 0; p0 < kPix; p0 += kStep) {
            if (s.c == 1) run_sliding<kStep, 1>(y_row, w, bias, s, rw, ow + p0, k0 + kBlock * b);
            else run_sliding<kStep, 3>(y_row, w, bias, s, rw, ow + p0, k0 + kBlock * b);
          }
        return;
      }
      if (s.c == 1) return run_blocks<false, kPix, kNb, 1>(y_row, w, bias, s, rw, ow, k0, g);
    }
    run_blocks<kPerChannel, kPix, kNb, 0>(y_row, w, bias, s, rw, ow, k0, g);
  }

  // kPix pixels from ow of a first layer (above): each input value's
  // broadcast feeds the up to 3 taps that read it, against the window row's
  // 3 x kRegs weight vectors held in registers, so half a load per
  // multiply-add where run_pixels takes 0.75 (AVX2 cifar conv1 0.61-0.62 ->
  // 0.58-0.59 ms, face conv1 1.68-1.72 -> 1.60-1.65). The channel loop stays
  // rolled: unrolled, GCC would hoist every channel's weights and spill.
  // With run_pixels' loop order, unrolling the taps made GCC keep the shared
  // broadcasts live and spill (cifar conv1 1.02 ms).
  template <int kPix, int kCg>
  static void run_sliding(float* y_row, const float* w, const float* bias, const Conv2dShape& s,
                          const RowWindow& rw, int64_t ow, int64_t k0) {
    constexpr int L = Vec::kLanes;
    const int64_t K = s.k;
    typename Vec::V acc[kPix][kRegs];
    for (int h = 0; h < kRegs; ++h) {
      const typename Vec::V init = bias ? Vec::load(bias + k0 + L * h) : Vec::zero();
      for (int p = 0; p < kPix; ++p) acc[p][h] = init;
    }
    const int64_t x0 = (ow - rw.pad_left) * kCg;
    for (int64_t i = rw.ilo; i < rw.ihi; ++i) {
      const float* row = rw.row(i) + x0;
      const float* wrow = w + i * 3 * kCg * K + k0;
#pragma GCC unroll 1
      for (int ci = 0; ci < kCg; ++ci) {
        typename Vec::V wv[3][kRegs];
        for (int j = 0; j < 3; ++j)
          for (int h = 0; h < kRegs; ++h) wv[j][h] = Vec::load(wrow + (j * kCg + ci) * K + L * h);
#pragma GCC unroll 8
        for (int q = 0; q < kPix + 2; ++q) {
          const typename Vec::V xv = Vec::broadcast(row + q * kCg + ci);
#pragma GCC unroll 3
          for (int j = 0; j < 3; ++j) {
            const int p = q - j;
            if (p < 0 || p >= kPix) continue;
            for (int h = 0; h < kRegs; ++h) acc[p][h] = Vec::fmadd(xv, wv[j][h], acc[p][h]);
          }
        }
      }
    }
    for (int p = 0; p < kPix; ++p)
      for (int h = 0; h < kRegs; ++h) Vec::store(y_row + (ow + p) * K + k0 + L * h, acc[p][h]);
  }

  template <bool kPerChannel, int kPix, int kNb, int kCg>
  static void run_blocks(float* y_row, const float* w, const float* bias, const Conv2dShape& s, const RowWindow& rw,
                         int64_t ow, int64_t k0, int64_t g) {
    constexpr int kStep = kPix < kMaxStep ? kPix : kMaxStep;
    for (int b = 0; b < kNb; ++b)
      for (int p0 = 0; p0 < kPix; p0 += kStep)
        run_pixels<kPerChannel, kStep, kCg>(y_row, w, bias, s, rw, ow + p0, k0 + kBlock * b, g);
  }

  // kCg nonzero: a first layer, one group of kCg channels, a 3-wide window
  // at width stride 1, undilated (else the shape from s).
  template <bool kPerChannel, int kPix, int kCg>
  static void run_pixels(float* y_row, const float* w, const float* bias, const Conv2dShape& s,
                         const RowWindow& rw, int64_t ow, int64_t k0, int64_t g) {
    constexpr int L = Vec::kLanes;
    constexpr bool kFixed = kCg != 0;
    const int64_t K = s.k, C = kFixed ? kCg : s.c, cg = kPerChannel ? 1 : kFixed ? kCg : s.cg;
    const int64_t kw = kFixed ? 3 : s.kw, sw = kFixed ? 1 : s.sw, dw = kFixed ? 1 : s.dw;
    typename Vec::V acc[kPix][kRegs];
    for (int h = 0; h < kRegs; ++h) {
      const typename Vec::V init = bias ? Vec::load(bias + k0 + L * h) : Vec::zero();
      for (int p = 0; p < kPix; ++p) acc[p][h] = init;
    }
    const int64_t step = sw * C;
    const int64_t x0 = (ow * sw - rw.pad_left) * C + (kPerChannel ? k0 : g * cg);
    for (int64_t i = rw.ilo; i < rw.ihi; ++i) {
      const float* row = rw.row(i) + x0;
      const float* wrow = w + i * kw * cg * K + k0;
#pragma GCC unroll 4
      for (int64_t j = 0; j < kw; ++j) {
        const float* xj = row + j * dw * C;
#pragma GCC unroll 4
        for (int64_t ci = 0; ci < cg; ++ci) {
          const float* wp = wrow + (j * cg + ci) * K;
          typename Vec::V wv[kRegs];
          for (int h = 0; h < kRegs; ++h) wv[h] = Vec::load(wp + L * h);
          const float* xp = xj + ci;
          for (int p = 0; p < kPix; ++p) {
            if (kPerChannel) {
              for (int h = 0; h < kRegs; ++h)
                acc[p][h] = Vec::fmadd(Vec::load(xp + p * step + L * h), wv[h], acc[p][h]);
            } else {
              const typename Vec::V xv = Vec::broadcast(xp + p * step);
              for (int h = 0; h < kRegs; ++h) acc[p][h] = Vec::fmadd(xv, wv[h], acc[p][h]);
            }
          }
        }
      }
    }
    for (int p = 0; p < kPix; ++p)
      for (int h = 0; h < kRegs; ++h) Vec::store(y_row + (ow + p) * K + k0 + L * h, acc[p][h]);
  }
};

// The output pixel groups of a row (the last may be short) and the pixels
// they span.
inline int64_t pixel_groups(const Conv2dShape& s) { return (s.ow + kPix - 1) / kPix; }
inline int64_t grouped_pixels(const Conv2dShape& s) { return pixel_groups(s) * kPix; }

// The zero-padded rows' width: the windows of ceil(OW / kPix) full pixel
// groups, so every pixel (borders included) takes the register block. False
// when that is much wider than the input: huge strides, dilations or pads
// (which leave a few pixels) go per pixel instead.
inline bool padded_width(const Conv2dShape& s, int64_t& wp) {
  return !__builtin_mul_overflow(grouped_pixels(s) - 1, s.sw, &wp) &&
         !__builtin_add_overflow(wp, (s.kw - 1) * s.dw + 1, &wp) && wp <= 2 * s.w + 1024;
}

// Output row y_row from padded window rows pw: whole 16-channel blocks only,
// a short last pixel group writing into y_tmp (grouped_pixels(s) x K
// floats) first.
template <typename Block>
inline void forward_row_padded(float* y_row, const float* w, const float* bias, const Conv2dShape& s,
                               const RowWindow& pw, float* y_tmp) {
  const int64_t kg = s.kg, full = kg == 1 ? s.k : kg;
  const int64_t groups = pixel_groups(s);
  for (int64_t gi = 0; gi < groups; ++gi) {
    const int64_t ow = gi * kPix;
    float* yd = ow + kPix <= s.ow ? y_row : y_tmp - ow * s.k;
    if (kg == 1) {
      for (int64_t k0 = 0; k0 < full; k0 += kBlock) Block::template run<true, kPix, 1>(yd, w, bias, s, pw, ow, k0, 0);
    } else {
      for (int64_t g = 0; g < s.groups; ++g) {
        int64_t m0 = 0;
        for (; m0 + 2 * kBlock <= full; m0 += 2 * kBlock)
          Block::template run<false, kPix, 2>(yd, w, bias, s, pw, ow, g * kg + m0, g);
        for (; m0 < full; m0 += kBlock) Block::template run<false, kPix, 1>(yd, w, bias, s, pw, ow, g * kg + m0, g);
      }
    }
    if (yd != y_row) std::copy(y_tmp, y_tmp + (s.ow - ow) * s.k, y_row + ow * s.k);
  }
}

// Output row (n, oh) read from the input in place, for channel tails:
// interior pixels kPix (then kPix/2) at a time for the whole blocks, the
// per-pixel loop for borders and the tail channels.
template <typename Block>
inline void forward_row_in_place(float* y_row, const float* x, const float* w, const float* bias,
                                 const Conv2dShape& s, int64_t n, int64_t oh) {
  const int64_t kg = s.kg, C = s.c;
  const int64_t ih0 = oh * s.sh - s.pad_top;
  int64_t ilo, ihi;
  valid_rows(s, ih0, ilo, ihi);
  RowWindow rw{x + n * s.h * s.w * C, ih0 * s.w * C, s.dh * s.w * C, s.pad_left, ilo, ihi};
  const int64_t len = kg == 1 ? s.k : kg, full = len / kBlock * kBlock;
  const int64_t ow_lo = ceil_div(s.pad_left, s.sw);
  const int64_t last = s.w - 1 - (s.kw - 1) * s.dw + s.pad_left;
  const int64_t ow_hi = std::max(ow_lo, last < 0 ? 0 : std::min<int64_t>(s.ow, last / s.sw + 1));
  int64_t ow = 0;
  auto group = [&](auto pixels) {
    constexpr int np = decltype(pixels)::value;
    if (kg == 1) {
      for (int64_t k0 = 0; k0 < full; k0 += kBlock)
        Block::template run<true, np, 1>(y_row, w, bias, s, rw, ow, k0, 0);
    } else {
      for (int64_t g = 0; g < s.groups; ++g)
        for (int64_t m0 = 0; m0 < full; m0 += kBlock)
          Block::template run<false, np, 1>(y_row, w, bias, s, rw, ow, g * kg + m0, g);
    }
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

// Output rows u in [u0, u1) (u = n*OH + oh), all OW pixels each, then
// finish(y_row) on each (the activation, while the row is in L1).
template <typename Block, typename Finish>
inline void forward_rows_impl(float* y, const float* x, const float* w, const float* bias, const Conv2dShape& s,
                              int64_t u0, int64_t u1, Finish&& finish) {
  const int64_t row_out = s.ow * s.k;
  const int64_t len = s.kg == 1 ? s.k : s.kg;
  int64_t wp = 0;
  if (len % kBlock != 0 || !padded_width(s, wp)) {
    for (int64_t u = u0; u < u1; ++u) {
      forward_row_in_place<Block>(y + u * row_out, x, w, bias, s, u / s.oh, u % s.oh);
      finish(y + u * row_out);
    }
    return;
  }
  const int64_t row = padded_row_floats(s, wp), capacity = padded_rows_capacity(s, row);
  float* buf = thread_scratch(kScratchMisc).floats(size_t(capacity * row + grouped_pixels(s) * s.k));
  PaddedRows rows(buf, capacity, row);
  for (int64_t u = u0; u < u1; ++u) {
    const int64_t n = u / s.oh, ih0 = (u % s.oh) * s.sh - s.pad_top;
    int64_t ilo, ihi;
    valid_rows(s, ih0, ilo, ihi);
    const int64_t istride = s.dh * row;
    const RowWindow pw{ilo < ihi ? rows.window(x, s, n, ih0, ilo, ihi, wp) : buf, -ilo * istride, istride, 0, ilo, ihi};
    forward_row_padded<Block>(y + u * row_out, w, bias, s, pw, buf + capacity * row);
    finish(y + u * row_out);
  }
}

}  // namespace
}  // namespace pycnn
