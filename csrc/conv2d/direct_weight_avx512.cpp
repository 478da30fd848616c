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

#include "conv2d/direct_weight_impl.h"

namespace pycnn {
namespace {

// Taps per pass: 8 accumulators of 32.
constexpr int kMaxTaps = 8;

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

// 3-wide window, stride 1, no dilation: one window row's 3*kCg weight rows
// for one 16-channel block. Walking input column q, x[q] pairs with dy of
// pixels q, q-1, q-2 (taps j = 0, 1, 2), so one broadcast feeds three FMAs
// and dy is loaded once per pixel. pw row (j*kCg + ci) is K floats apart.
template <int kCg>
void accumulate_sliding(float* pw, int64_t K, const float* xrow, int64_t C, const float* dy0, int64_t npix) {
  __m512 acc[3][kCg];
  for (int j = 0; j < 3; ++j)
    for (int ci = 0; ci < kCg; ++ci) acc[j][ci] = _mm512_setzero_ps();
  __m512 d0 = _mm512_setzero_ps(), d1 = d0, d2 = d0;
  for (int64_t q = 0; q < npix + 2; ++q) {
    d2 = d1;
    d1 = d0;
    d0 = q < npix ? _mm512_loadu_ps(dy0 + q * K) : _mm512_setzero_ps();
    const float* xq = xrow + q * C;
#pragma GCC unroll 4
    for (int ci = 0; ci < kCg; ++ci) {
      const __m512 b = _mm512_set1_ps(xq[ci]);
      acc[0][ci] = _mm512_fmadd_ps(b, d0, acc[0][ci]);
      acc[1][ci] = _mm512_fmadd_ps(b, d1, acc[1][ci]);
      acc[2][ci] = _mm512_fmadd_ps(b, d2, acc[2][ci]);
    }
  }
  for (int j = 0; j < 3; ++j)
    for (int ci = 0; ci < kCg; ++ci) {
      float* out = pw + (j * kCg + ci) * K;
      _mm512_storeu_ps(out, _mm512_add_ps(_mm512_loadu_ps(out), acc[j][ci]));
    }
}

void sliding_any(int cg, float* pw, int64_t K, const float* xrow, int64_t C, const float* dy0, int64_t npix) {
  switch (cg) {
    case 1: return accumulate_sliding<1>(pw, K, xrow, C, dy0, npix);
    case 2: return accumulate_sliding<2>(pw, K, xrow, C, dy0, npix);
    case 3: return accumulate_sliding<3>(pw, K, xrow, C, dy0, npix);
    default: return accumulate_sliding<4>(pw, K, xrow, C, dy0, npix);
  }
}

// One group, 3-wide window at width stride 1: kRows window rows x 3 taps x
// kC channels of one 16-channel block in registers across the output row.
// Walking padded column t (input column t - pad_left), x[t] pairs with dy of
// pixels t, t-1, t-2; dy rides in three registers renamed, not moved, by a
// 3x unrolled loop. xrows[r]: window row r at input column 0.
template <int kC, int kRows>
void sliding_rows(float* pw, int64_t K, const float* const* xrows, const float* dy, const Conv2dShape& s) {
  __m512 acc[kRows][3][kC];
  for (int r = 0; r < kRows; ++r)
    for (int j = 0; j < 3; ++j)
      for (int c = 0; c < kC; ++c) acc[r][j][c] = _mm512_setzero_ps();
  const int64_t pl = s.pad_left, ow = s.ow;
  // Columns whose input is inside the width; outside it x is zero.
  const int64_t t_lo = std::max<int64_t>(0, pl), t_hi = std::min(ow + 2, s.w + pl);
  auto dy_at = [&](int64_t t) { return t >= 0 && t < ow ? _mm512_loadu_ps(dy + t * K) : _mm512_setzero_ps(); };
  auto step = [&](int64_t t, __m512 d0, __m512 d1, __m512 d2) {
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 4
      for (int c = 0; c < kC; ++c) {
        const __m512 b = _mm512_set1_ps(xrows[r][(t - pl) * kC + c]);
        acc[r][0][c] = _mm512_fmadd_ps(b, d0, acc[r][0][c]);
        acc[r][1][c] = _mm512_fmadd_ps(b, d1, acc[r][1][c]);
        acc[r][2][c] = _mm512_fmadd_ps(b, d2, acc[r][2][c]);
      }
  };
  __m512 s0, s1 = dy_at(t_lo - 2), s2 = dy_at(t_lo - 1);
  int64_t t = t_lo;
  for (const int64_t end = std::min(t_hi, ow); t + 3 <= end; t += 3) {
    s0 = _mm512_loadu_ps(dy + t * K);
    step(t, s0, s2, s1);
    s1 = _mm512_loadu_ps(dy + (t + 1) * K);
    step(t + 1, s1, s0, s2);
    s2 = _mm512_loadu_ps(dy + (t + 2) * K);
    step(t + 2, s2, s1, s0);
  }
  for (; t < t_hi; ++t) {
    s0 = dy_at(t);
    step(t, s0, s2, s1);
    s1 = s2;
    s2 = s0;
  }
  for (int r = 0; r < kRows; ++r)
    for (int j = 0; j < 3; ++j)
      for (int c = 0; c < kC; ++c) {
        float* out = pw + ((r * 3 + j) * kC + c) * K;
        _mm512_storeu_ps(out, _mm512_add_ps(_mm512_loadu_ps(out), acc[r][j][c]));
      }
}

// Window rows per pass: at most 18 accumulators (3 taps x C x rows).
template <int kC>
void sliding_rows_any(float* pw, int64_t K, const float* const* xrows, int64_t nrows, const float* dy,
                      const Conv2dShape& s) {
  constexpr int kMax = kC == 1 ? 3 : kC <= 3 ? 2 : 1;
  int64_t r = 0;
  for (; r + kMax <= nrows; r += kMax) sliding_rows<kC, kMax>(pw + r * 3 * kC * K, K, xrows + r, dy, s);
  for (; r < nrows; ++r) sliding_rows<kC, 1>(pw + r * 3 * kC * K, K, xrows + r, dy, s);
}

}  // namespace

bool direct_weight_sliding_applies_avx512(const Conv2dShape& s) {
  return direct_sliding_applies_avx512(s) && s.kh <= 64;  // xrows[64] below
}

void direct_weight_sliding_row_avx512(float* pw, const float* x, const float* dy_row, const Conv2dShape& s,
                                      int64_t n, int64_t ih0, int64_t ilo, int64_t ihi) {
  const int64_t K = s.k, C = s.c, nrows = ihi - ilo;
  const float* xrows[64];
  for (int64_t r = 0; r < nrows; ++r) xrows[r] = x + ((n * s.h + ih0 + (ilo + r) * s.dh) * s.w) * C;
  float* pw_rows = pw + ilo * 3 * C * K;
  for (int64_t k0 = 0; k0 < K; k0 += 16) {
    switch (C) {
      case 1: sliding_rows_any<1>(pw_rows + k0, K, xrows, nrows, dy_row + k0, s); break;
      case 2: sliding_rows_any<2>(pw_rows + k0, K, xrows, nrows, dy_row + k0, s); break;
      case 3: sliding_rows_any<3>(pw_rows + k0, K, xrows, nrows, dy_row + k0, s); break;
      default: sliding_rows_any<4>(pw_rows + k0, K, xrows, nrows, dy_row + k0, s);
    }
  }
}

void direct_weight_row_avx512(float* pw, const float* x, const float* dy_row, const Conv2dShape& s,
                              int64_t n, int64_t ih0, int64_t ilo, int64_t ihi, int64_t ow_lo,
                              int64_t ow_hi, int64_t full) {
  const int64_t K = s.k, C = s.c, kg = s.kg;
  const int64_t npix = ow_hi - ow_lo;
  if (npix <= 0 || full <= 0 || ihi <= ilo) return;
  if (kg > 1 && s.kw == 3 && s.sw == 1 && s.dw == 1 && s.cg <= 4) {
    const int64_t cg = s.cg;
    for (int64_t i = ilo; i < ihi; ++i) {
      const float* xrow = x + ((n * s.h + ih0 + i * s.dh) * s.w + ow_lo - s.pad_left) * C;
      for (int64_t g = 0; g < s.groups; ++g)
        for (int64_t m0 = 0; m0 < full; m0 += 16)
          sliding_any(int(cg), pw + i * 3 * cg * K + g * kg + m0, K, xrow + g * cg, C,
                      dy_row + ow_lo * K + g * kg + m0, npix);
    }
    return;
  }
  weight_row_taps<kMaxTaps, accumulate_any<true>, accumulate_any<false>>(pw, x, dy_row, s, n, ih0, ilo, ihi, ow_lo,
                                                                          npix, full);
}

void direct_weight_row_padded_avx512(float* pw, const float* rows, int64_t row_stride,
                                     const float* dy_row, const Conv2dShape& s, int64_t ilo,
                                     int64_t ihi, int64_t full) {
  const int64_t K = s.k, kg = s.kg, cg = s.cg;
  for (int64_t i = ilo; i < ihi; ++i) {
    const float* xrow = rows + (i - ilo) * row_stride;
    for (int64_t g = 0; g < s.groups; ++g)
      for (int64_t m0 = 0; m0 < full; m0 += 16)
        sliding_any(int(cg), pw + i * 3 * cg * K + g * kg + m0, K, xrow + g * cg, s.c, dy_row + g * kg + m0, s.ow);
  }
}

}  // namespace pycnn
#endif
