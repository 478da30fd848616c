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
  // 3-wide window, stride 1, no dilation, 16 channels: one weight vector
  // per tap against kPix broadcast pixels. kSolid: a single group, so the
  // pixel stride is kCg and every broadcast is an immediate offset from one
  // pointer (a run-time stride needs an index register per pixel, which
  // GCC spills: about 1.5x slower).
  template <int kCg, int kPix, bool kSolid>
  static void run_sliding(float* y_row, const float* w, const float* bias, const Conv2dShape& s,
                          const RowWindow& rw, int64_t ow, int64_t k0, int64_t g) {
    const int64_t K = s.k, C = kSolid ? kCg : s.c;
    __m512 acc[kPix];
    const __m512 init = bias ? _mm512_loadu_ps(bias + k0) : _mm512_setzero_ps();
    for (int p = 0; p < kPix; ++p) acc[p] = init;
    const int64_t x0 = (ow - rw.pad_left) * C + g * kCg;
    for (int64_t i = rw.ilo; i < rw.ihi; ++i) {
      const float* row = rw.row(i) + x0;
      const float* wi = w + i * 3 * kCg * K + k0;
#pragma GCC unroll 3
      for (int j = 0; j < 3; ++j)
#pragma GCC unroll 4
        for (int ci = 0; ci < kCg; ++ci) {
          const __m512 wv = _mm512_loadu_ps(wi + (j * kCg + ci) * K);
#pragma GCC unroll 16
          for (int p = 0; p < kPix; ++p)
            acc[p] = _mm512_fmadd_ps(_mm512_set1_ps(row[(p + j) * C + ci]), wv, acc[p]);
        }
    }
    for (int p = 0; p < kPix; ++p) _mm512_storeu_ps(y_row + (ow + p) * K + k0, acc[p]);
  }

  // run_sliding for the run-time group width s.cg (1..4).
  template <int kPix, bool kSolid>
  static void sliding_any(float* y_row, const float* w, const float* bias, const Conv2dShape& s,
                          const RowWindow& rw, int64_t ow, int64_t k0, int64_t g) {
    switch (s.cg) {
      case 1: return run_sliding<1, kPix, kSolid>(y_row, w, bias, s, rw, ow, k0, g);
      case 2: return run_sliding<2, kPix, kSolid>(y_row, w, bias, s, rw, ow, k0, g);
      case 3: return run_sliding<3, kPix, kSolid>(y_row, w, bias, s, rw, ow, k0, g);
      default: return run_sliding<4, kPix, kSolid>(y_row, w, bias, s, rw, ow, k0, g);
    }
  }

  template <bool kPerChannel, int kPix, int kNb>
  static void run(float* y_row, const float* w, const float* bias, const Conv2dShape& s,
                  const RowWindow& rw, int64_t ow, int64_t k0, int64_t g) {
    if (!kPerChannel && s.kw == 3 && s.sw == 1 && s.dw == 1 && s.cg <= 4) {
      for (int b = 0; b < kNb; ++b) {
        const int64_t kb = k0 + 16 * b;
        if (s.groups == 1) sliding_any<kPix, true>(y_row, w, bias, s, rw, ow, kb, g);
        else sliding_any<kPix, false>(y_row, w, bias, s, rw, ow, kb, g);
      }
      return;
    }
    const int64_t K = s.k, C = s.c, cg = kPerChannel ? 1 : s.cg;
    __m512 acc[kPix][kNb];
    for (int b = 0; b < kNb; ++b) {
      const __m512 init = bias ? _mm512_loadu_ps(bias + k0 + 16 * b) : _mm512_setzero_ps();
      for (int p = 0; p < kPix; ++p) acc[p][b] = init;
    }
    const int64_t step = s.sw * C;
    const int64_t x0 = (ow * s.sw - rw.pad_left) * C + (kPerChannel ? k0 : g * cg);
    for (int64_t i = rw.ilo; i < rw.ihi; ++i) {
      const float* row = rw.row(i) + x0;
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

void direct_forward_rows_avx512(float* y, const float* x, const float* weight, const float* bias,
                                const Conv2dShape& s, int64_t u0, int64_t u1, const ActivationSpec& act) {
  // relu / leaky_relu on each row while it is in L1, 16 lanes at a time (the
  // generic pass is compiled for the baseline ISA).
  const int64_t count = s.ow * s.k;
  const auto finish = [&](float* y_row) {
    if ((act.kind == Activation::kRelu || act.kind == Activation::kLeakyRelu) && count % 16 == 0) {
      const bool relu = act.kind == Activation::kRelu;
      const __m512 zero = _mm512_setzero_ps(), slope = _mm512_set1_ps(act.alpha);
      for (int64_t i = 0; i < count; i += 16) {
        const __m512 v = _mm512_loadu_ps(y_row + i);
        const __mmask16 neg = _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ);  // NaN is not negative: it passes
        _mm512_storeu_ps(y_row + i, relu ? _mm512_mask_mov_ps(v, neg, zero) : _mm512_mask_mul_ps(v, neg, v, slope));
      }
      return;
    }
    activate_inplace(y_row, count, act);
  };
  if (!direct_sliding_applies_avx512(s)) return forward_rows_impl<Avx512Block>(y, x, weight, bias, s, u0, u1, finish);
  for (int64_t u = u0; u < u1; ++u) {
    direct_sliding_row_avx512(y + u * count, x, weight, bias, s, u / s.oh, u % s.oh);
    finish(y + u * count);
  }
}

}  // namespace pycnn
#endif
