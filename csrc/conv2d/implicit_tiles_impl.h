// implicit_tiles_impl.h — the register tiles of the implicit-GEMM convolution
// (implicit.h), written once over a vector type Vec (common/simd.h) and
// included by implicit_avx512.cpp, implicit_avx2.cpp and
// implicit_portable.cpp: MR rows x NV vectors of accumulators, A broadcast
// from the padded image in place, B (weight or dy) loaded as rows. NV counts
// Vec registers (16 channels are one zmm, two ymm or four 128-bit registers).
#pragma once

#include <cstdint>
#include <utility>

#include "common/simd.h"
#include "conv2d/implicit.h"

namespace pycnn {
namespace {

// Bias and relu/leaky over a stored tile of mr rows x nv vectors. Kept out of
// the tile body: its constants, hoisted above the k loop, would push
// accumulators to the stack.
template <typename Vec>
__attribute__((noinline)) void tile_epilogue(float* c, int64_t ldc, int mr, int nv, const float* bias, int act,
                                             float alpha) {
  const typename Vec::V slope = Vec::set1(alpha);
  for (int v = 0; v < nv; ++v) {
    const typename Vec::V b = bias ? Vec::load(bias + Vec::kLanes * v) : Vec::zero();
    for (int r = 0; r < mr; ++r) {
      float* p = c + r * ldc + Vec::kLanes * v;
      Vec::store(p, Vec::activate(Vec::add(Vec::load(p), b), act, slope));
    }
  }
}

template <typename Vec, int MR, int NV>
void forward_tile(float* c, int64_t ldc, const float* a, int64_t lda, const int64_t* seg, const int64_t* seglen,
                  int nseg, const float* w, int64_t ldw, bool accumulate, bool last, const float* bias, int act,
                  float alpha) {
  constexpr int L = Vec::kLanes;
  typename Vec::V acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[r][v] = accumulate ? Vec::load(c + r * ldc + L * v) : Vec::zero();
  const int64_t lda2 = 2 * lda, lda3 = 3 * lda;
  const float* wp = w;
  for (int t = 0; t < nseg; ++t) {
    // Rows are addressed from a base per three rows plus lda / 2*lda, so
    // MR rows need MR/3 pointer registers.
    const float* ap = a + seg[t];
    for (int64_t p = 0; p < seglen[t]; ++p, ++ap, wp += ldw) {
      typename Vec::V bv[NV];
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) bv[v] = Vec::load(wp + L * v);
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) {
        const float* base = ap + (r / 3) * lda3;
        const float av = (r % 3 == 0) ? base[0] : (r % 3 == 1) ? base[lda] : base[lda2];
        const typename Vec::V ar = Vec::set1(av);
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[r][v] = Vec::fmadd(ar, bv[v], acc[r][v]);
      }
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) Vec::store(c + r * ldc + L * v, acc[r][v]);
  if (last && (bias || act)) tile_epilogue<Vec>(c, ldc, MR, NV, bias, act, alpha);
}

template <typename Vec, int MR, int NV>
void weight_tile(float* dw, int64_t ldw, const float* x, int64_t xrow, int64_t xcol, const float* dy, int64_t dyrow,
                 int64_t K, int64_t rows, int64_t cols, bool accumulate) {
  constexpr int L = Vec::kLanes;
  typename Vec::V acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[r][v] = accumulate ? Vec::load(dw + r * ldw + L * v) : Vec::zero();
  for (int64_t q = 0; q < rows; ++q) {
    const float* xp = x + q * xrow;
    const float* dp = dy + q * dyrow;
    for (int64_t p = 0; p < cols; ++p, xp += xcol, dp += K) {
      typename Vec::V bv[NV];
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) bv[v] = Vec::load(dp + L * v);
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) {
        const typename Vec::V ar = Vec::set1(xp[r]);
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[r][v] = Vec::fmadd(ar, bv[v], acc[r][v]);
      }
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) Vec::store(dw + r * ldw + L * v, acc[r][v]);
}

using ForwardTile = void (*)(float*, int64_t, const float*, int64_t, const int64_t*, const int64_t*, int,
                             const float*, int64_t, bool, bool, const float*, int, float);
using WeightTile = void (*)(float*, int64_t, const float*, int64_t, int64_t, const float*, int64_t, int64_t,
                            int64_t, int64_t, bool);

// The tiles of MR rows and NV vectors, for MR = 1 .. sizeof...(R).
template <typename Vec, int NV, int... R>
std::pair<ForwardTile, WeightTile> tiles_of_rows(int mr, std::integer_sequence<int, R...>) {
  std::pair<ForwardTile, WeightTile> out{nullptr, nullptr};
  ((mr == R + 1 ? (out = {&forward_tile<Vec, R + 1, NV>, &weight_tile<Vec, R + 1, NV>}, 0) : 0), ...);
  return out;
}

// ImplicitTiles' entry points over an ISA's pick(mr, nv) of its tiles.
template <std::pair<ForwardTile, WeightTile> (*kPick)(int, int)>
void forward_of(int mr, int nv, float* c, int64_t ldc, const float* a, int64_t lda, const int64_t* seg,
                const int64_t* seglen, int nseg, const float* w, int64_t ldw, bool accumulate, bool last,
                const float* bias, int act, float alpha) {
  kPick(mr, nv).first(c, ldc, a, lda, seg, seglen, nseg, w, ldw, accumulate, last, bias, act, alpha);
}

template <std::pair<ForwardTile, WeightTile> (*kPick)(int, int)>
void weight_of(int mr, int nv, float* dw, int64_t ldw, const float* x, int64_t xrow, int64_t xcol, const float* dy,
               int64_t dyrow, int64_t K, int64_t rows, int64_t cols, bool accumulate) {
  kPick(mr, nv).second(dw, ldw, x, xrow, xcol, dy, dyrow, K, rows, cols, accumulate);
}

}  // namespace
}  // namespace pycnn
