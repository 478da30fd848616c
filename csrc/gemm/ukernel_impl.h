// ukernel_impl.h — the one micro-kernel, written once over a vector type.
//
// Included by ukernel_{ref,avx2,avx512}.cpp, each with its own Vec (the
// number of floats per register and the handful of operations below) and its
// own compiler flags. The tile is MR rows x NV vectors; accumulators live in
// registers (MR * NV <= 24 keeps them there on AVX-512's 32 registers).
#pragma once

#include <type_traits>
#include <utility>

#include "gemm/ukernel.h"

namespace pycnn::gemm_detail {

// B rows ahead of the current one to prefetch (measured on the small-M dense
// shapes and 2048^3: 8 rows gain 10-40%; 16-64 rows gain no more).
constexpr int64_t kPrefetchRows = 8;

template <typename Vec, int MR, int NV, bool kTransA>
void tile_kernel(const TileArgs& g) {
  constexpr int W = Vec::kWidth;
  typename Vec::type acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = Vec::zero();

  // C is read (beta != 0) or written only after the K loop; asked for now,
  // its lines arrive from memory while the FMAs run.
  if (g.prefetch_c) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) __builtin_prefetch(g.c + i * g.ldc + v * W, 1, 3);
  }

  const float* b = g.b;
  const int64_t ldb = g.ldb, lda = g.lda, kc = g.kc;
  const int64_t pf = kPrefetchRows * ldb, far = g.far_prefetch;
  // The K loop, with or without the far prefetch as a constant: issued on
  // every step with far == 0 they were 2 of ~40 instructions a step for
  // nothing (the kernel alone in L1: 120 -> 135-144 GFLOP/s; 2048^3 at 1
  // thread 83 -> 92 GFLOP/s, alternating runs).
  auto k_loop = [&](auto with_far) {
    constexpr bool kFar = decltype(with_far)::value;
    if constexpr (kTransA) {
      // A's column p is contiguous: rows are immediate offsets from one pointer.
      const float* a = g.a;
      for (int64_t p = 0; p < kc; ++p, a += lda, b += ldb) {
        typename Vec::type bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) __builtin_prefetch(b + pf + v * W);
        if constexpr (kFar) {
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) __builtin_prefetch(b + far + v * W, 0, 2);
        }
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) bv[v] = Vec::load(b + v * W);
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i) {
          typename Vec::type ai = Vec::set1(a[i]);
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) acc[i][v] = Vec::fmadd(ai, bv[v], acc[i][v]);
        }
      }
    } else {
      // Rows of A are addressed from a few base pointers plus lda / 2*lda
      // (scaled-index addressing), so MR rows do not need MR registers.
      const float* a = g.a;
      const int64_t lda2 = 2 * lda;
      for (int64_t p = 0; p < kc; ++p, ++a, b += ldb) {
        typename Vec::type bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) __builtin_prefetch(b + pf + v * W);
        if constexpr (kFar) {
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) __builtin_prefetch(b + far + v * W, 0, 2);
        }
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) bv[v] = Vec::load(b + v * W);
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i) {
          const float* base = a + (i / 3) * 3 * lda;
          float av = (i % 3 == 0) ? base[0] : (i % 3 == 1) ? base[lda] : base[lda2];
          typename Vec::type ai = Vec::set1(av);
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) acc[i][v] = Vec::fmadd(ai, bv[v], acc[i][v]);
        }
      }
    }
  };
  if (far) k_loop(std::true_type());
  else k_loop(std::false_type());

  // Store: alpha, beta (C not read when beta == 0), bias, relu/leaky_relu.
  const typename Vec::type valpha = Vec::set1(g.alpha), vbeta = Vec::set1(g.beta);
  const typename Vec::type vslope = Vec::set1(g.act_alpha);
  const bool scale = g.alpha != 1.f, read_c = g.beta != 0.f;
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    const int cols = g.n - v * W;
    if (cols <= 0) break;
    typename Vec::type vb = Vec::zero();
    if (g.bias) vb = cols >= W ? Vec::load(g.bias + v * W) : Vec::load_partial(g.bias + v * W, cols);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      float* c = g.c + i * g.ldc + v * W;
      typename Vec::type r = scale ? Vec::mul(acc[i][v], valpha) : acc[i][v];
      if (read_c) r = Vec::fmadd(vbeta, cols >= W ? Vec::load(c) : Vec::load_partial(c, cols), r);
      if (g.bias) r = Vec::add(r, vb);
      if (g.act == TileAct::kRelu) r = Vec::relu(r);
      else if (g.act == TileAct::kLeakyRelu) r = Vec::leaky(r, vslope);
      if (cols >= W) Vec::store(c, r);
      else Vec::store_partial(c, r, cols);
    }
  }
}

// A * B^T for a few rows of A: each C element is a dot product of a row of
// A and a row of B (both contiguous), accumulated in W lanes along k and
// summed across lanes at the end. Both operands stream once, in order, with
// no packing: the shape of a dense layer's input gradient at small batch.
template <typename Vec, int MR, int NR>
void dot_kernel(const TileArgs& g) {
  constexpr int W = Vec::kWidth;
  typename Vec::type acc[MR][NR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) acc[i][j] = Vec::zero();
  const int64_t kc = g.kc, lda = g.lda, ldb = g.ldb;
  const float* far = g.far_prefetch ? g.b + g.far_prefetch : nullptr;
  auto step = [&](int64_t p, int len) {
    if (far) {
#pragma GCC unroll 8
      for (int j = 0; j < NR; ++j) __builtin_prefetch(far + j * ldb + p, 0, 2);
    }
    typename Vec::type bv[NR];
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) bv[j] = len == W ? Vec::load(g.b + j * ldb + p) : Vec::load_partial(g.b + j * ldb + p, len);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      typename Vec::type av = len == W ? Vec::load(g.a + i * lda + p) : Vec::load_partial(g.a + i * lda + p, len);
#pragma GCC unroll 8
      for (int j = 0; j < NR; ++j) acc[i][j] = Vec::fmadd(av, bv[j], acc[i][j]);
    }
  };
  int64_t p = 0;
  for (; p + W <= kc; p += W) step(p, W);
  if (p < kc) step(p, int(kc - p));

#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) {
      float* c = g.c + i * g.ldc + j;
      float r = g.alpha * Vec::sum(acc[i][j]);
      if (g.beta != 0.f) r += g.beta * *c;
      if (g.bias) r += g.bias[j];
      if (g.act == TileAct::kRelu) r = r < 0.f ? 0.f : r;
      else if (g.act == TileAct::kLeakyRelu && r < 0.f) r *= g.act_alpha;
      *c = r;
    }
}

template <typename Vec, int MR, int... Nr>
void fill_dot_row(DotTable& t, std::integer_sequence<int, Nr...>) {
  ((t.kernel[MR][Nr + 1] = &dot_kernel<Vec, MR, Nr + 1>), ...);
}

template <typename Vec, int NR, int... Mr>
void fill_dot_table(DotTable& t, std::integer_sequence<int, Mr...>) {
  t.mr = int(sizeof...(Mr));
  t.nr = NR;
  (fill_dot_row<Vec, Mr + 1>(t, std::make_integer_sequence<int, NR>()), ...);
}

// Fills a table with kernels for 1..MaxMr rows.
template <typename Vec, int NV, int... Mr>
void fill_table(UkernelTable& t, std::integer_sequence<int, Mr...>) {
  t.nr = NV * Vec::kWidth;
  t.mr_max = int(sizeof...(Mr));
  ((t.normal[Mr + 1] = &tile_kernel<Vec, Mr + 1, NV, false>), ...);
  ((t.trans_a[Mr + 1] = &tile_kernel<Vec, Mr + 1, NV, true>), ...);
}

template <typename Vec, int WideNv, int WideMr, int NarrowNv, int NarrowMr, int DotMr, int DotNr>
IsaUkernels make_ukernels() {
  IsaUkernels k;
  fill_table<Vec, WideNv>(k.wide, std::make_integer_sequence<int, WideMr>());
  fill_table<Vec, NarrowNv>(k.narrow, std::make_integer_sequence<int, NarrowMr>());
  fill_dot_table<Vec, DotNr>(k.dot, std::make_integer_sequence<int, DotMr>());
  return k;
}

}  // namespace pycnn::gemm_detail
