// winograd_tiles_impl.h — the tile transforms of the Winograd schemes
// (winograd.h), written once over a vector type Vec (common/simd.h) and
// included by winograd_avx512.cpp (16 channels per zmm), winograd_avx2.cpp
// (8 per ymm) and winograd_portable.cpp (4 per 128-bit register). Channel
// counts are multiples of 16.
#pragma once

#include <cstdint>

#include "common/simd.h"
#include "conv2d/winograd.h"

namespace pycnn {
namespace {

template <typename Vec>
using V = typename Vec::V;

// The 1-D transforms take their values `step` registers apart, so one
// function serves a patch's columns (step = points per row) and rows (1).

// B^T applied to four values: d0 - d2, d1 + d2, d2 - d1, d1 - d3.
template <typename Vec>
inline void input_1d(V<Vec>* d, int step) {
  const V<Vec> d0 = d[0], d1 = d[step], d2 = d[2 * step], d3 = d[3 * step];
  d[0] = Vec::sub(d0, d2);
  d[step] = Vec::add(d1, d2);
  d[2 * step] = Vec::sub(d2, d1);
  d[3 * step] = Vec::sub(d1, d3);
}

// A^T on four values: (m0 + m1 + m2, m1 - m2 - m3).
template <typename Vec>
inline void output_1d(const V<Vec>* m, int step, V<Vec>* o) {
  o[0] = Vec::add(Vec::add(m[0], m[step]), m[2 * step]);
  o[1] = Vec::sub(Vec::sub(m[step], m[2 * step]), m[3 * step]);
}

// A on two values: (e0, e0 + e1, e0 - e1, -e1).
template <typename Vec>
inline void grad_1d(const V<Vec>* e, V<Vec>* h, int step) {
  h[0] = e[0];
  h[step] = Vec::add(e[0], e[1]);
  h[2 * step] = Vec::sub(e[0], e[1]);
  h[3 * step] = Vec::sub(Vec::zero(), e[1]);
}

// The stride-2 scheme's B^T on five values: d0 - d2, d2, d4 - d2, d1, d3.
template <typename Vec>
inline void strided_input_1d(V<Vec>* d, int step) {
  const V<Vec> d1 = d[step], d2 = d[2 * step], d3 = d[3 * step];
  d[0] = Vec::sub(d[0], d2);
  d[step] = d2;
  d[2 * step] = Vec::sub(d[4 * step], d2);
  d[3 * step] = d1;
  d[4 * step] = d3;
}

// Its A^T on five values: (m0 + m1 + m3, m1 + m2 + m4).
template <typename Vec>
inline void strided_output_1d(const V<Vec>* m, int step, V<Vec>* o) {
  o[0] = Vec::add(Vec::add(m[0], m[step]), m[3 * step]);
  o[1] = Vec::add(Vec::add(m[step], m[2 * step]), m[4 * step]);
}

// Its B on five values (the adjoint of B^T): (g0, g3, g1 - g0 - g2, g4, g2).
template <typename Vec>
inline void strided_input_adjoint_1d(V<Vec>* g, int step) {
  const V<Vec> g0 = g[0], g1 = g[step], g2 = g[2 * step], g3 = g[3 * step], g4 = g[4 * step];
  g[step] = g3;
  g[2 * step] = Vec::sub(Vec::sub(g1, g0), g2);
  g[3 * step] = g4;
  g[4 * step] = g2;
}

// Its A on two values is (e0, e0 + e1, e1, e0, e1): the three distinct
// ones, (e0, e0 + e1, e1).
template <typename Vec>
inline void strided_grad_1d(const V<Vec>* e, V<Vec>* h, int step) {
  h[0] = e[0];
  h[step] = Vec::add(e[0], e[1]);
  h[2 * step] = e[1];
}

// The wide stride-2 scheme's B^T on nine values: F(4, 2) (points 0, 1, -1,
// 2, inf, rows scaled to integers) on the even ones e = (d0, d2, d4, d6, d8),
//   2 e0 - e1 - 2 e2 + e3,  2 e1 + e2 - e3,  3 e2 - 2 e1 - e3,  e3 - e1,
//   2 e1 - e2 - 2 e3 + e4,
// then the odd ones d1, d3, d5, d7 as they are.
template <typename Vec>
inline void strided_wide_input_1d(V<Vec>* d, int step) {
  const V<Vec> d0 = d[0], d1 = d[step], d2 = d[2 * step], d3 = d[3 * step], d4 = d[4 * step];
  const V<Vec> d5 = d[5 * step], d6 = d[6 * step], d7 = d[7 * step], d8 = d[8 * step];
  const V<Vec> two = Vec::set1(2.f), t = Vec::sub(d6, d2);
  d[0] = Vec::fmadd(two, Vec::sub(d0, d4), t);
  d[step] = Vec::sub(Vec::add(d2, d4), t);
  d[2 * step] = Vec::fmadd(two, Vec::sub(d4, d2), Vec::sub(d4, d6));
  d[3 * step] = t;
  d[4 * step] = Vec::fnmadd(two, t, Vec::sub(d8, d4));
  d[5 * step] = d1;
  d[6 * step] = d3;
  d[7 * step] = d5;
  d[8 * step] = d7;
}

// Its A^T on nine values: F(4, 2)'s (m0 + m1 + m2 + m3, m1 - m2 + 2 m3,
// m1 + m2 + 4 m3, m1 - m2 + 8 m3 + m4) plus the odd products m5 .. m8.
template <typename Vec>
inline void strided_wide_output_1d(const V<Vec>* m, int step, V<Vec>* o) {
  const V<Vec> s12 = Vec::add(m[step], m[2 * step]), d12 = Vec::sub(m[step], m[2 * step]), m3 = m[3 * step];
  o[0] = Vec::add(Vec::add(m[0], s12), Vec::add(m3, m[5 * step]));
  o[1] = Vec::add(Vec::fmadd(Vec::set1(2.f), m3, d12), m[6 * step]);
  o[2] = Vec::add(Vec::fmadd(Vec::set1(4.f), m3, s12), m[7 * step]);
  o[3] = Vec::add(Vec::fmadd(Vec::set1(8.f), m3, d12), Vec::add(m[4 * step], m[8 * step]));
}

// F(4x4, 3x3) (points 0, 1, -1, 2, -2, inf; Lavin & Gray), B^T on six values:
//   4 d0 - 5 d2 + d4,  (d4 - 4 d2) +- (d3 - 4 d1),  (d4 - d2) +- 2 (d3 - d1),
//   4 d1 - 5 d3 + d5.
template <typename Vec>
inline void f43_input_1d(V<Vec>* d, int step) {
  const V<Vec> d0 = d[0], d1 = d[step], d2 = d[2 * step], d3 = d[3 * step], d4 = d[4 * step], d5 = d[5 * step];
  const V<Vec> four = Vec::set1(4.f), five = Vec::set1(5.f), two = Vec::set1(2.f);
  const V<Vec> t0 = Vec::fnmadd(four, d2, d4), t1 = Vec::fnmadd(four, d1, d3);
  const V<Vec> t2 = Vec::sub(d4, d2), t3 = Vec::sub(d3, d1);
  d[0] = Vec::fmadd(four, d0, Vec::fnmadd(five, d2, d4));
  d[step] = Vec::add(t0, t1);
  d[2 * step] = Vec::sub(t0, t1);
  d[3 * step] = Vec::fmadd(two, t3, t2);
  d[4 * step] = Vec::fnmadd(two, t3, t2);
  d[5 * step] = Vec::fmadd(four, d1, Vec::fnmadd(five, d3, d5));
}

// Its A^T on six values: m0 + (m1 + m2) + (m3 + m4), (m1 - m2) + 2 (m3 - m4),
// (m1 + m2) + 4 (m3 + m4), (m1 - m2) + 8 (m3 - m4) + m5.
template <typename Vec>
inline void f43_output_1d(const V<Vec>* m, int step, V<Vec>* o) {
  const V<Vec> s12 = Vec::add(m[step], m[2 * step]), d12 = Vec::sub(m[step], m[2 * step]);
  const V<Vec> s34 = Vec::add(m[3 * step], m[4 * step]), d34 = Vec::sub(m[3 * step], m[4 * step]);
  o[0] = Vec::add(Vec::add(m[0], s12), s34);
  o[1] = Vec::fmadd(Vec::set1(2.f), d34, d12);
  o[2] = Vec::fmadd(Vec::set1(4.f), s34, s12);
  o[3] = Vec::add(Vec::fmadd(Vec::set1(8.f), d34, d12), m[5 * step]);
}

// Its A on four values: e0, (e0 + e2) +- (e1 + e3), (e0 + 4 e2) +- 2 (e1 + 4 e3), e3.
template <typename Vec>
inline void f43_grad_1d(const V<Vec>* e, V<Vec>* h, int step) {
  const V<Vec> four = Vec::set1(4.f), two = Vec::set1(2.f);
  const V<Vec> a = Vec::add(e[0], e[2]), b = Vec::add(e[1], e[3]);
  const V<Vec> c = Vec::fmadd(four, e[2], e[0]), d = Vec::fmadd(four, e[3], e[1]);
  h[0] = e[0];
  h[step] = Vec::add(a, b);
  h[2 * step] = Vec::sub(a, b);
  h[3 * step] = Vec::fmadd(two, d, c);
  h[4 * step] = Vec::fnmadd(two, d, c);
  h[5 * step] = e[3];
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
  bool has(int i, int j) const { return inside[i][j]; }
  int64_t at(int i, int j) const { return offset[i][j]; }
  template <typename Vec>
  V<Vec> load(const float* image, int i, int j, int64_t c) const {
    return inside[i][j] ? Vec::load(image + offset[i][j] + c) : Vec::zero();
  }
};

// A patch wholly inside the image: every tap loads, with no test.
struct InsidePatch {
  int64_t origin, row, col;  // floats to tap (0, 0), between rows, between columns
  // The one for the kP x kP patch at (ih0, iw0) of an h x w x C image, if it
  // lies wholly inside.
  template <int kP>
  static bool fits(int64_t h, int64_t w, int64_t ih0, int64_t iw0) {
    return ih0 >= 0 && iw0 >= 0 && ih0 + kP <= h && iw0 + kP <= w;
  }
  InsidePatch(int64_t w, int64_t C, int64_t ih0, int64_t iw0) : origin((ih0 * w + iw0) * C), row(w * C), col(C) {}
  static constexpr bool has(int, int) { return true; }
  int64_t at(int i, int j) const { return origin + i * row + j * col; }
  template <typename Vec>
  V<Vec> load(const float* image, int i, int j, int64_t c) const {
    return Vec::load(image + at(i, j) + c);
  }
};

// V_xi = (B^T d B)[xi] for a scheme of kP x kP points (the kP x kP patch at
// (ih0, iw0)) whose B^T is kInput. Each patch column is transformed as it is
// loaded and parked in a stack buffer, then each buffer row is transformed
// and stored: a 6x6 patch (36 vectors) does not fit the registers, and this
// order spills nothing else (F(4x4, 3x3) layers 1-8 % faster than loading
// the whole patch first; the 5x5 and 4x4 patches the same either way).
template <typename Vec, int kP, void (*kInput)(V<Vec>*, int), typename Taps>
void transform_patch(float* v, int64_t vstride, const float* image, int64_t C, const Taps& taps) {
  for (int64_t c = 0; c < C; c += Vec::kLanes) {
    V<Vec> columns[kP][kP];  // [j][i]: row i of the transformed column j
    for (int j = 0; j < kP; ++j) {
      V<Vec> col[kP];
      for (int i = 0; i < kP; ++i) col[i] = taps.template load<Vec>(image, i, j, c);
      kInput(col, 1);
      for (int i = 0; i < kP; ++i) columns[j][i] = col[i];
    }
    for (int i = 0; i < kP; ++i) {
      V<Vec> row[kP];
      for (int j = 0; j < kP; ++j) row[j] = columns[j][i];
      kInput(row, 1);
      for (int j = 0; j < kP; ++j) Vec::store(v + (kP * i + j) * vstride + c, row[j]);
    }
  }
}

template <typename Vec, int kP, void (*kInput)(V<Vec>*, int)>
void input_tile(float* v, int64_t vstride, const float* image, int64_t h, int64_t w, int64_t C, int64_t ih0,
                int64_t iw0) {
  if (InsidePatch::fits<kP>(h, w, ih0, iw0))
    return transform_patch<Vec, kP, kInput>(v, vstride, image, C, InsidePatch(w, C, ih0, iw0));
  transform_patch<Vec, kP, kInput>(v, vstride, image, C, Patch<kP>(h, w, C, ih0, iw0));
}

// The rows x cols (<= kT x kT) outputs (A^T M A) + bias, activated, for a
// scheme of kP x kP points whose A^T is kOutput (kP values in, kT out).
template <typename Vec, int kP, int kT, void (*kOutput)(const V<Vec>*, int, V<Vec>*)>
void output_tile(float* y, int64_t yrow, int rows, int cols, const float* m, int64_t mstride, int64_t K,
                 const float* bias, int act, float alpha) {
  const V<Vec> slope = Vec::set1(alpha);
  for (int64_t k = 0; k < K; k += Vec::kLanes) {
    V<Vec> s[kT][kP];
    for (int j = 0; j < kP; ++j) {
      V<Vec> col[kP], o[kT];
      for (int i = 0; i < kP; ++i) col[i] = Vec::load(m + (kP * i + j) * mstride + k);
      kOutput(col, 1, o);
      for (int r = 0; r < kT; ++r) s[r][j] = o[r];
    }
    const V<Vec> b = bias ? Vec::load(bias + k) : Vec::zero();
    for (int r = 0; r < rows; ++r) {
      V<Vec> o[kT];
      kOutput(s[r], 1, o);
      for (int q = 0; q < cols; ++q) Vec::store(y + r * yrow + q * K + k, Vec::activate(Vec::add(o[q], b), act, slope));
    }
  }
}

// D_xi = (A e A^T)[xi] for the kP x kP points (kP distinct values of A e,
// see WinogradTransforms::Grad) of a scheme whose A, applied to kT values,
// is kGrad (writing kP values `step` apart); e is the rows x cols output
// gradient, zero beyond.
template <typename Vec, int kP, int kT, void (*kGrad)(const V<Vec>*, V<Vec>*, int)>
void grad_tile(float* d, int64_t dstride, const float* dy, int64_t dyrow, int rows, int cols, int64_t K) {
  for (int64_t k = 0; k < K; k += Vec::kLanes) {
    V<Vec> h[kP][kT];
    for (int q = 0; q < kT; ++q) {
      V<Vec> e[kT];
      for (int r = 0; r < kT; ++r)
        e[r] = r < rows && q < cols ? Vec::load(dy + r * dyrow + q * K + k) : Vec::zero();
      kGrad(e, &h[0][q], kT);
    }
    for (int i = 0; i < kP; ++i) {
      V<Vec> out[kP];
      kGrad(h[i], out, 1);
      for (int j = 0; j < kP; ++j) Vec::store(d + (kP * i + j) * dstride + k, out[j]);
    }
  }
}

// (B M B^T) of the stride-2 scheme added into the 5x5 patch `taps`.
template <typename Vec, typename Taps>
void add_adjoint_patch(float* image, int64_t C, const Taps& taps, const float* m, int64_t mstride) {
  for (int64_t c = 0; c < C; c += Vec::kLanes) {
    V<Vec> g[5][5];
    for (int i = 0; i < 5; ++i)
      for (int j = 0; j < 5; ++j) g[i][j] = Vec::load(m + (5 * i + j) * mstride + c);
    for (int j = 0; j < 5; ++j) strided_input_adjoint_1d<Vec>(&g[0][j], 5);
    for (int i = 0; i < 5; ++i) strided_input_adjoint_1d<Vec>(&g[i][0], 1);
    for (int i = 0; i < 5; ++i)
      for (int j = 0; j < 5; ++j)
        if (taps.has(i, j)) {
          float* at = image + taps.at(i, j) + c;
          Vec::store(at, Vec::add(Vec::load(at), g[i][j]));
        }
  }
}

template <typename Vec>
void strided_input_adjoint(float* image, int64_t h, int64_t w, int64_t C, int64_t ih0, int64_t iw0, const float* m,
                           int64_t mstride) {
  if (InsidePatch::fits<5>(h, w, ih0, iw0))
    return add_adjoint_patch<Vec>(image, C, InsidePatch(w, C, ih0, iw0), m, mstride);
  add_adjoint_patch<Vec>(image, C, Patch<5>(h, w, C, ih0, iw0), m, mstride);
}

// The transforms of each scheme for one Vec, as winograd.h's table.
template <typename Vec>
WinogradTiles winograd_tiles_of() {
  WinogradTiles t;
  t.f22 = {&input_tile<Vec, 4, input_1d<Vec>>, &output_tile<Vec, 4, 2, output_1d<Vec>>,
           &grad_tile<Vec, 4, 2, grad_1d<Vec>>};
  t.strided = {&input_tile<Vec, 5, strided_input_1d<Vec>>, &output_tile<Vec, 5, 2, strided_output_1d<Vec>>,
               &grad_tile<Vec, 3, 2, strided_grad_1d<Vec>>};
  t.f43 = {&input_tile<Vec, 6, f43_input_1d<Vec>>, &output_tile<Vec, 6, 4, f43_output_1d<Vec>>,
           &grad_tile<Vec, 6, 4, f43_grad_1d<Vec>>};
  t.strided_wide = {&input_tile<Vec, 9, strided_wide_input_1d<Vec>>,
                    &output_tile<Vec, 9, 4, strided_wide_output_1d<Vec>>, nullptr};
  t.strided_input_adjoint = &strided_input_adjoint<Vec>;
  return t;
}

}  // namespace
}  // namespace pycnn
