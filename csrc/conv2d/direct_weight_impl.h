// direct_weight_impl.h — the tap loop of the register-blocked d-weight for
// interior pixels, shared by direct_weight_avx512.cpp, direct_weight_avx2.cpp
// and direct_weight_portable.cpp: the window's taps go kMaxTaps at a time to
// the ISA's accumulate kernels (kPerChannel for one channel per group,
// kShared for a group's channels against its outputs), and the AVX2 and
// portable accumulate kernels, written over a vector type. Include only from those
// files: everything here has internal linkage.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>

#include "common/simd.h"
#include "conv2d/conv2d.h"

namespace pycnn {
namespace {

// The accumulate kernels' signature: `taps` taps (pw rows K floats apart,
// x offsets xoff from x0) over npix pixels px_step floats apart.
using AccumulateFn = void (*)(int taps, float* pw, int64_t K, const float* x0, const int64_t* xoff,
                              int64_t px_step, const float* dy0, int64_t npix);

// One output row over window rows [ilo, ihi): x0 is its first pixel's
// window origin in window row ilo, window rows lie row_stride floats apart;
// npix pixels from dy0 (dy of that pixel), whole 16-channel blocks [0, full);
// npix, full and ihi - ilo positive.
template <int kMaxTaps, AccumulateFn kPerChannel, AccumulateFn kShared>
void weight_row_taps(float* pw, const float* x0, int64_t row_stride, const float* dy0, const Conv2dShape& s,
                     int64_t ilo, int64_t ihi, int64_t npix, int64_t full) {
  const int64_t K = s.k, C = s.c, kg = s.kg, cg = s.cg;
  // Virtual taps t = (i*KW + j)*cg + ci over window rows [ilo, ihi): pw row
  // t, x offset from x0.
  int64_t xoff[kMaxTaps];
  const int64_t t0 = ilo * s.kw * cg, taps = (ihi - ilo) * s.kw * cg;
  const int64_t px_step = s.sw * C;
  for (int64_t tb = 0; tb < taps; tb += kMaxTaps) {
    const int cnt = int(std::min<int64_t>(kMaxTaps, taps - tb));
    for (int t = 0; t < cnt; ++t) {
      const int64_t v = tb + t, ci = v % cg, tap = v / cg, i = tap / s.kw, j = tap % s.kw;
      xoff[t] = i * row_stride + j * s.dw * C + ci;
    }
    float* pt = pw + (t0 + tb) * K;
    if (kg == 1) {
      for (int64_t k0 = 0; k0 < full; k0 += 16) kPerChannel(cnt, pt + k0, K, x0 + k0, xoff, px_step, dy0 + k0, npix);
    } else {
      for (int64_t g = 0; g < s.groups; ++g)
        for (int64_t m0 = 0; m0 < full; m0 += 16)
          kShared(cnt, pt + g * kg + m0, K, x0 + g * cg, xoff, px_step, dy0 + g * kg + m0, npix);
    }
  }
}

// Output row (n, oh) (window rows [ilo, ihi), ih0 its first input row) of
// the input itself, interior pixels [ow_lo, ow_lo + npix).
template <int kMaxTaps, AccumulateFn kPerChannel, AccumulateFn kShared>
void weight_row_taps(float* pw, const float* x, const float* dy_row, const Conv2dShape& s, int64_t n,
                     int64_t ih0, int64_t ilo, int64_t ihi, int64_t ow_lo, int64_t npix, int64_t full) {
  const float* x0 = x + ((n * s.h + ih0 + ilo * s.dh) * s.w + ow_lo * s.sw - s.pad_left) * s.c;
  weight_row_taps<kMaxTaps, kPerChannel, kShared>(pw, x0, s.dh * s.w * s.c, dy_row + ow_lo * s.k, s, ilo, ihi,
                                                  npix, full);
}

// For one output row and one 16-channel block (16 / kLanes registers), up to
// kMaxTaps taps accumulate in registers across the interior pixels, then add
// once into the partial: 12 accumulators (AVX2: 6 taps of two ymm;
// portable: 3 taps of four 4-float vectors).
template <typename Vec>
struct VecWeightTaps {
  static constexpr int kRegs = 16 / Vec::kLanes;
  static constexpr int kMaxTaps = 12 / kRegs;

  // pw[t*K + 0..16) += sum_p x(p, t) * dy[p*K + 0..16) for t < kTaps.
  template <bool kPerChannel, int kTaps>
  static void accumulate(float* pw, int64_t K, const float* x0, const int64_t* xoff, int64_t px_step,
                         const float* dy0, int64_t npix) {
    constexpr int L = Vec::kLanes;
    typename Vec::V acc[kTaps][kRegs];
    for (int t = 0; t < kTaps; ++t)
      for (int h = 0; h < kRegs; ++h) acc[t][h] = Vec::zero();
    for (int64_t p = 0; p < npix; ++p) {
      typename Vec::V dyv[kRegs];
      for (int h = 0; h < kRegs; ++h) dyv[h] = Vec::load(dy0 + p * K + L * h);
      const float* xb = x0 + p * px_step;
      for (int t = 0; t < kTaps; ++t) {
        if (kPerChannel) {
          for (int h = 0; h < kRegs; ++h) acc[t][h] = Vec::fmadd(Vec::load(xb + xoff[t] + L * h), dyv[h], acc[t][h]);
        } else {
          const typename Vec::V xv = Vec::broadcast(xb + xoff[t]);
          for (int h = 0; h < kRegs; ++h) acc[t][h] = Vec::fmadd(xv, dyv[h], acc[t][h]);
        }
      }
    }
    for (int t = 0; t < kTaps; ++t)
      for (int h = 0; h < kRegs; ++h) {
        float* out = pw + t * K + L * h;
        Vec::store(out, Vec::add(Vec::load(out), acc[t][h]));
      }
  }

  template <bool kPerChannel, int... T>
  static void accumulate_taps(int taps, float* pw, int64_t K, const float* x0, const int64_t* xoff,
                              int64_t px_step, const float* dy0, int64_t npix, std::integer_sequence<int, T...>) {
    ((taps == T + 1 ? accumulate<kPerChannel, T + 1>(pw, K, x0, xoff, px_step, dy0, npix) : void()), ...);
  }

  template <bool kPerChannel>
  static void accumulate_any(int taps, float* pw, int64_t K, const float* x0, const int64_t* xoff, int64_t px_step,
                             const float* dy0, int64_t npix) {
    accumulate_taps<kPerChannel>(taps, pw, K, x0, xoff, px_step, dy0, npix,
                                 std::make_integer_sequence<int, kMaxTaps>());
  }

  // The interior pixels [ow_lo, ow_hi) of output row (n, oh), whole blocks [0, full).
  static void row(float* pw, const float* x, const float* dy_row, const Conv2dShape& s, int64_t n, int64_t ih0,
                  int64_t ilo, int64_t ihi, int64_t ow_lo, int64_t ow_hi, int64_t full) {
    const int64_t npix = ow_hi - ow_lo;
    if (npix <= 0 || full <= 0 || ihi <= ilo) return;
    weight_row_taps<kMaxTaps, accumulate_any<true>, accumulate_any<false>>(pw, x, dy_row, s, n, ih0, ilo, ihi,
                                                                           ow_lo, npix, full);
  }

  // Every pixel of the output row, from its window rows zero-padded
  // (direct_weight_row_padded's contract, direct.h).
  static void padded_row(float* pw, const float* rows, int64_t row_stride, const float* dy_row,
                         const Conv2dShape& s, int64_t ilo, int64_t ihi, int64_t full) {
    if (s.ow <= 0 || full <= 0 || ihi <= ilo) return;
    weight_row_taps<kMaxTaps, accumulate_any<true>, accumulate_any<false>>(pw, rows, row_stride, dy_row, s, ilo,
                                                                           ihi, s.ow, full);
  }
};

}  // namespace
}  // namespace pycnn
