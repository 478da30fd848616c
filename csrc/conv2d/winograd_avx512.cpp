// winograd_avx512.cpp — the tile transforms of the Winograd schemes
// (winograd.h), 16 channels per zmm register. Called only when active_isa() is kAvx512.
#include "conv2d/winograd.h"

#if defined(PYCNN_X86)
#include <immintrin.h>

namespace pycnn {
namespace {

// The 1-D transforms take their values `step` registers apart, so one
// function serves a patch's columns (step = points per row) and rows (1).

// B^T applied to four values: d0 - d2, d1 + d2, d2 - d1, d1 - d3.
inline void input_1d(__m512* d, int step) {
  const __m512 d0 = d[0], d1 = d[step], d2 = d[2 * step], d3 = d[3 * step];
  d[0] = _mm512_sub_ps(d0, d2);
  d[step] = _mm512_add_ps(d1, d2);
  d[2 * step] = _mm512_sub_ps(d2, d1);
  d[3 * step] = _mm512_sub_ps(d1, d3);
}

// A^T on four values: (m0 + m1 + m2, m1 - m2 - m3).
inline void output_1d(const __m512* m, int step, __m512* o) {
  o[0] = _mm512_add_ps(_mm512_add_ps(m[0], m[step]), m[2 * step]);
  o[1] = _mm512_sub_ps(_mm512_sub_ps(m[step], m[2 * step]), m[3 * step]);
}

// A on two values: (e0, e0 + e1, e0 - e1, -e1).
inline void grad_1d(const __m512* e, __m512* h, int step) {
  h[0] = e[0];
  h[step] = _mm512_add_ps(e[0], e[1]);
  h[2 * step] = _mm512_sub_ps(e[0], e[1]);
  h[3 * step] = _mm512_sub_ps(_mm512_setzero_ps(), e[1]);
}

// The stride-2 scheme's B^T on five values: d0 - d2, d2, d4 - d2, d1, d3.
inline void strided_input_1d(__m512* d, int step) {
  const __m512 d1 = d[step], d2 = d[2 * step], d3 = d[3 * step];
  d[0] = _mm512_sub_ps(d[0], d2);
  d[step] = d2;
  d[2 * step] = _mm512_sub_ps(d[4 * step], d2);
  d[3 * step] = d1;
  d[4 * step] = d3;
}

// Its A^T on five values: (m0 + m1 + m3, m1 + m2 + m4).
inline void strided_output_1d(const __m512* m, int step, __m512* o) {
  o[0] = _mm512_add_ps(_mm512_add_ps(m[0], m[step]), m[3 * step]);
  o[1] = _mm512_add_ps(_mm512_add_ps(m[step], m[2 * step]), m[4 * step]);
}

// Its B on five values (the adjoint of B^T): (g0, g3, g1 - g0 - g2, g4, g2).
inline void strided_input_adjoint_1d(__m512* g, int step) {
  const __m512 g0 = g[0], g1 = g[step], g2 = g[2 * step], g3 = g[3 * step], g4 = g[4 * step];
  g[step] = g3;
  g[2 * step] = _mm512_sub_ps(_mm512_sub_ps(g1, g0), g2);
  g[3 * step] = g4;
  g[4 * step] = g2;
}

// Its A on two values: (e0, e0 + e1, e1, e0, e1).
inline void strided_grad_1d(const __m512* e, __m512* h, int step) {
  h[0] = e[0];
  h[step] = _mm512_add_ps(e[0], e[1]);
  h[2 * step] = e[1];
  h[3 * step] = e[0];
  h[4 * step] = e[1];
}

// F(4x4, 3x3) (points 0, 1, -1, 2, -2, inf; Lavin & Gray), B^T on six values:
//   4 d0 - 5 d2 + d4,  (d4 - 4 d2) +- (d3 - 4 d1),  (d4 - d2) +- 2 (d3 - d1),
//   4 d1 - 5 d3 + d5.
inline void f43_input_1d(__m512* d, int step) {
  const __m512 d0 = d[0], d1 = d[step], d2 = d[2 * step], d3 = d[3 * step], d4 = d[4 * step], d5 = d[5 * step];
  const __m512 four = _mm512_set1_ps(4.f), five = _mm512_set1_ps(5.f), two = _mm512_set1_ps(2.f);
  const __m512 t0 = _mm512_fnmadd_ps(four, d2, d4), t1 = _mm512_fnmadd_ps(four, d1, d3);
  const __m512 t2 = _mm512_sub_ps(d4, d2), t3 = _mm512_sub_ps(d3, d1);
  d[0] = _mm512_fmadd_ps(four, d0, _mm512_fnmadd_ps(five, d2, d4));
  d[step] = _mm512_add_ps(t0, t1);
  d[2 * step] = _mm512_sub_ps(t0, t1);
  d[3 * step] = _mm512_fmadd_ps(two, t3, t2);
  d[4 * step] = _mm512_fnmadd_ps(two, t3, t2);
  d[5 * step] = _mm512_fmadd_ps(four, d1, _mm512_fnmadd_ps(five, d3, d5));
}

// Its A^T on six values: m0 + (m1 + m2) + (m3 + m4), (m1 - m2) + 2 (m3 - m4),
// (m1 + m2) + 4 (m3 + m4), (m1 - m2) + 8 (m3 - m4) + m5.
inline void f43_output_1d(const __m512* m, int step, __m512* o) {
  const __m512 s12 = _mm512_add_ps(m[step], m[2 * step]), d12 = _mm512_sub_ps(m[step], m[2 * step]);
  const __m512 s34 = _mm512_add_ps(m[3 * step], m[4 * step]), d34 = _mm512_sub_ps(m[3 * step], m[4 * step]);
  o[0] = _mm512_add_ps(_mm512_add_ps(m[0], s12), s34);
  o[1] = _mm512_fmadd_ps(_mm512_set1_ps(2.f), d34, d12);
  o[2] = _mm512_fmadd_ps(_mm512_set1_ps(4.f), s34, s12);
  o[3] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8.f), d34, d12), m[5 * step]);
}

// Its A on four values: e0, (e0 + e2) +- (e1 + e3), (e0 + 4 e2) +- 2 (e1 + 4 e3), e3.
inline void f43_grad_1d(const __m512* e, __m512* h, int step) {
  const __m512 four = _mm512_set1_ps(4.f), two = _mm512_set1_ps(2.f);
  const __m512 a = _mm512_add_ps(e[0], e[2]), b = _mm512_add_ps(e[1], e[3]);
  const __m512 c = _mm512_fmadd_ps(four, e[2], e[0]), d = _mm512_fmadd_ps(four, e[3], e[1]);
  h[0] = e[0];
  h[step] = _mm512_add_ps(a, b);
  h[2 * step] = _mm512_sub_ps(a, b);
  h[3 * step] = _mm512_fmadd_ps(two, d, c);
  h[4 * step] = _mm512_fnmadd_ps(two, d, c);
  h[5 * step] = e[3];
}

// Bias, then relu/leaky (act 1/2, slope alpha).
inline __m512 epilogue(__m512 out, __m512 b, int act, __m512 slope) {
  const __m512 zero = _mm512_setzero_ps();
  out = _mm512_add_ps(out, b);
  const __mmask16 negative = _mm512_cmp_ps_mask(out, zero, _CMP_LT_OQ);  // false for NaN: it propagates
  if (act == 1) out = _mm512_mask_mov_ps(out, negative, zero);
  else if (act == 2) out = _mm512_mask_mul_ps(out, negative, out, slope);
  return out;
}

// Taps of the kP x kP patch at (ih0, iw0) outside the image read as zero;
// their addresses are never formed.
template <int kP>
struct Patch {
  bool inside[kP][kP];
  int64_t offset[kP][kP];
  Patch(int64_t h, int64_t w, int64_t C, int64_t ih0, int64_t iw0) {
    for (int i = 0; i < kP; ++i)
      for (int j = 0; j < kP; ++j) {
        inside[i][j] = ih0 + i >= 0 && ih0 + i < h && iw0 + j >= 0 && iw0 + j < w;
        offset[i][j] = inside[i][j] ? ((ih0 + i) * w + iw0 + j) * C : 0;
      }
  }
  __m512 load(const float* image, int i, int j, int64_t c) const {
    return inside[i][j] ? _mm512_loadu_ps(image + offset[i][j] + c) : _mm512_setzero_ps();
  }
};

// V_xi = (B^T d B)[xi] for a scheme of kP x kP points (the kP x kP patch at
// (ih0, iw0)) whose B^T is kInput. Each patch column is transformed as it is
// loaded and parked in a stack buffer, then each buffer row is transformed
// and stored: a 6x6 patch (36 vectors) does not fit the registers, and this
// order spills nothing else (F(4x4, 3x3) layers 1-8 % faster than loading
// the whole patch first; the 5x5 and 4x4 patches the same either way).
template <int kP, void (*kInput)(__m512*, int)>
void input_tile(float* v, int64_t vstride, const float* image, int64_t h, int64_t w, int64_t C, int64_t ih0,
                int64_t iw0) {
  const Patch<kP> patch(h, w, C, ih0, iw0);
  for (int64_t c = 0; c < C; c += 16) {
    __m512 columns[kP][kP];  // [j][i]: row i of the transformed column j
    for (int j = 0; j < kP; ++j) {
      __m512 col[kP];
      for (int i = 0; i < kP; ++i) col[i] = patch.load(image, i, j, c);
      kInput(col, 1);
      for (int i = 0; i < kP; ++i) columns[j][i] = col[i];
    }
    for (int i = 0; i < kP; ++i) {
      __m512 row[kP];
      for (int j = 0; j < kP; ++j) row[j] = columns[j][i];
      kInput(row, 1);
      for (int j = 0; j < kP; ++j) _mm512_storeu_ps(v + (kP * i + j) * vstride + c, row[j]);
    }
  }
}

// The rows x cols (<= kT x kT) outputs (A^T M A) + bias, activated, for a
// scheme of kP x kP points whose A^T is kOutput (kP values in, kT out).
template <int kP, int kT, void (*kOutput)(const __m512*, int, __m512*)>
void output_tile(float* y, int64_t yrow, int rows, int cols, const float* m, int64_t mstride, int64_t K,
                 const float* bias, int act, float alpha) {
  const __m512 slope = _mm512_set1_ps(alpha);
  for (int64_t k = 0; k < K; k += 16) {
    __m512 s[kT][kP];
    for (int j = 0; j < kP; ++j) {
      __m512 col[kP], o[kT];
      for (int i = 0; i < kP; ++i) col[i] = _mm512_loadu_ps(m + (kP * i + j) * mstride + k);
      kOutput(col, 1, o);
      for (int r = 0; r < kT; ++r) s[r][j] = o[r];
    }
    const __m512 b = bias ? _mm512_loadu_ps(bias + k) : _mm512_setzero_ps();
    for (int r = 0; r < rows; ++r) {
      __m512 o[kT];
      kOutput(s[r], 1, o);
      for (int q = 0; q < cols; ++q) _mm512_storeu_ps(y + r * yrow + q * K + k, epilogue(o[q], b, act, slope));
    }
  }
}

// D_xi = (A e A^T)[xi] for a scheme of kP x kP points whose A, applied to
// kT values, is kGrad (writing kP values `step` apart); e is the rows x cols
// output gradient, zero beyond.
template <int kP, int kT, void (*kGrad)(const __m512*, __m512*, int)>
void grad_tile(float* d, int64_t dstride, const float* dy, int64_t dyrow, int rows, int cols, int64_t K) {
  for (int64_t k = 0; k < K; k += 16) {
    __m512 h[kP][kT];
    for (int q = 0; q < kT; ++q) {
      __m512 e[kT];
      for (int r = 0; r < kT; ++r)
        e[r] = r < rows && q < cols ? _mm512_loadu_ps(dy + r * dyrow + q * K + k) : _mm512_setzero_ps();
      kGrad(e, &h[0][q], kT);
    }
    for (int i = 0; i < kP; ++i) {
      __m512 out[kP];
      kGrad(h[i], out, 1);
      for (int j = 0; j < kP; ++j) _mm512_storeu_ps(d + (kP * i + j) * dstride + k, out[j]);
    }
  }
}

}  // namespace

void winograd_input_tile_avx512(float* v, int64_t vstride, const float* image, int64_t h, int64_t w, int64_t C,
                                int64_t ih0, int64_t iw0) {
  input_tile<4, input_1d>(v, vstride, image, h, w, C, ih0, iw0);
}

void winograd_output_tile_avx512(float* y, int64_t yrow, int rows, int cols, const float* m, int64_t mstride,
                                 int64_t K, const float* bias, int act, float alpha) {
  output_tile<4, 2, output_1d>(y, yrow, rows, cols, m, mstride, K, bias, act, alpha);
}

void winograd_strided_input_tile_avx512(float* v, int64_t vstride, const float* image, int64_t h, int64_t w,
                                        int64_t C, int64_t ih0, int64_t iw0) {
  input_tile<5, strided_input_1d>(v, vstride, image, h, w, C, ih0, iw0);
}

void winograd_strided_output_tile_avx512(float* y, int64_t yrow, int rows, int cols, const float* m,
                                         int64_t mstride, int64_t K, const float* bias, int act, float alpha) {
  output_tile<5, 2, strided_output_1d>(y, yrow, rows, cols, m, mstride, K, bias, act, alpha);
}

void winograd_grad_tile_avx512(float* d, int64_t dstride, const float* dy, int64_t dyrow, int rows, int cols,
                               int64_t K) {
  grad_tile<4, 2, grad_1d>(d, dstride, dy, dyrow, rows, cols, K);
}

void winograd_strided_grad_tile_avx512(float* d, int64_t dstride, const float* dy, int64_t dyrow, int rows, int cols,
                                       int64_t K) {
  grad_tile<5, 2, strided_grad_1d>(d, dstride, dy, dyrow, rows, cols, K);
}

void winograd_f43_input_tile_avx512(float* v, int64_t vstride, const float* image, int64_t h, int64_t w, int64_t C,
                                    int64_t ih0, int64_t iw0) {
  input_tile<6, f43_input_1d>(v, vstride, image, h, w, C, ih0, iw0);
}

void winograd_f43_output_tile_avx512(float* y, int64_t yrow, int rows, int cols, const float* m, int64_t mstride,
                                     int64_t K, const float* bias, int act, float alpha) {
  output_tile<6, 4, f43_output_1d>(y, yrow, rows, cols, m, mstride, K, bias, act, alpha);
}

void winograd_f43_grad_tile_avx512(float* d, int64_t dstride, const float* dy, int64_t dyrow, int rows, int cols,
                                   int64_t K) {
  grad_tile<6, 4, f43_grad_1d>(d, dstride, dy, dyrow, rows, cols, K);
}

void winograd_strided_input_adjoint_avx512(float* image, int64_t h, int64_t w, int64_t C, int64_t ih0,
                                            int64_t iw0, const float* m, int64_t mstride) {
  const Patch<5> patch(h, w, C, ih0, iw0);
  for (int64_t c = 0; c < C; c += 16) {
    __m512 g[5][5];
    for (int i = 0; i < 5; ++i)
      for (int j = 0; j < 5; ++j) g[i][j] = _mm512_loadu_ps(m + (5 * i + j) * mstride + c);
    for (int j = 0; j < 5; ++j) strided_input_adjoint_1d(&g[0][j], 5);
    for (int i = 0; i < 5; ++i) strided_input_adjoint_1d(&g[i][0], 1);
    for (int i = 0; i < 5; ++i)
      for (int j = 0; j < 5; ++j)
        if (patch.inside[i][j]) {
          float* at = image + patch.offset[i][j] + c;
          _mm512_storeu_ps(at, _mm512_add_ps(_mm512_loadu_ps(at), g[i][j]));
        }
  }
}

}  // namespace pycnn
#endif
