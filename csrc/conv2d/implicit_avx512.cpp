// implicit_avx512.cpp — the register tiles of the implicit-GEMM convolution
// (implicit.h): MR rows x NV zmm columns of accumulators (MR*NV <= 24), A
// broadcast from the padded image in place, B (weight or dy) loaded as rows.
// Called only when active_isa() is kAvx512.
#include "conv2d/implicit.h"

#if defined(PYCNN_X86)
#include <immintrin.h>

#include <utility>

namespace pycnn {
namespace {

// Bias and relu/leaky over a stored tile. Kept out of the tile body: its
// constants, hoisted above the k loop, would push accumulators to the stack.
__attribute__((noinline)) void epilogue(float* c, int64_t ldc, int mr, int nv, const float* bias, int act,
                                        float alpha) {
  const __m512 zero = _mm512_setzero_ps(), slope = _mm512_set1_ps(alpha);
  for (int v = 0; v < nv; ++v) {
    const __m512 b = bias ? _mm512_loadu_ps(bias + 16 * v) : zero;
    for (int r = 0; r < mr; ++r) {
      float* p = c + r * ldc + 16 * v;
      __m512 o = _mm512_add_ps(_mm512_loadu_ps(p), b);
      if (act == 1) o = _mm512_max_ps(zero, o);  // NaN propagates
      else if (act == 2) o = _mm512_mask_mul_ps(o, _mm512_cmp_ps_mask(o, zero, _CMP_LT_OQ), o, slope);
      _mm512_storeu_ps(p, o);
    }
  }
}

template <int MR, int NV>
void forward_tile(float* c, int64_t ldc, const float* a, int64_t lda, const int64_t* seg,
                  const int64_t* seglen, int nseg, const float* w, int64_t ldw, bool accumulate, bool last,
                  const float* bias, int act, float alpha) {
  __m512 acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = accumulate ? _mm512_loadu_ps(c + r * ldc + 16 * v) : _mm512_setzero_ps();
  const int64_t lda2 = 2 * lda, lda3 = 3 * lda;
  const float* wp = w;
  for (int t = 0; t < nseg; ++t) {
    // Rows are addressed from a base per three rows plus lda / 2*lda, so
    // MR rows need MR/3 pointer registers.
    const float* ap = a + seg[t];
    for (int64_t p = 0; p < seglen[t]; ++p, ++ap, wp += ldw) {
      __m512 bv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(wp + 16 * v);
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) {
        const float* base = ap + (r / 3) * lda3;
        const float av = (r % 3 == 0) ? base[0] : (r % 3 == 1) ? base[lda] : base[lda2];
        const __m512 ar = _mm512_set1_ps(av);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(ar, bv[v], acc[r][v]);
      }
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm512_storeu_ps(c + r * ldc + 16 * v, acc[r][v]);
  if (last && (bias || act)) epilogue(c, ldc, MR, NV, bias, act, alpha);
}

template <int MR, int NV>
void weight_tile(float* dw, int64_t ldw, const float* x, int64_t xrow, int64_t xcol, const float* dy,
                 int64_t dyrow, int64_t K, int64_t rows, int64_t cols, bool accumulate) {
  __m512 acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = accumulate ? _mm512_loadu_ps(dw + r * ldw + 16 * v) : _mm512_setzero_ps();
  for (int64_t q = 0; q < rows; ++q) {
    const float* xp = x + q * xrow;
    const float* dp = dy + q * dyrow;
    for (int64_t p = 0; p < cols; ++p, xp += xcol, dp += K) {
      __m512 bv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(dp + 16 * v);
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) {
        const __m512 ar = _mm512_set1_ps(xp[r]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(ar, bv[v], acc[r][v]);
      }
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm512_storeu_ps(dw + r * ldw + 16 * v, acc[r][v]);
}

using ForwardFn = decltype(&forward_tile<1, 1>);
using WeightFn = decltype(&weight_tile<1, 1>);

constexpr int kMaxMr = 16;

template <int NV, int... R>
constexpr std::pair<ForwardFn, WeightFn> entry(int mr, std::integer_sequence<int, R...>) {
  std::pair<ForwardFn, WeightFn> out{nullptr, nullptr};
  ((mr == R + 1 ? (out = {&forward_tile<R + 1, NV>, &weight_tile<R + 1, NV>}, 0) : 0), ...);
  return out;
}

// Row limits per column count keep MR*NV <= 24 accumulators (16 for NV=1).
std::pair<ForwardFn, WeightFn> pick(int mr, int nv) {
  switch (nv) {
    case 1: return entry<1>(mr, std::make_integer_sequence<int, 16>());
    case 2: return entry<2>(mr, std::make_integer_sequence<int, 12>());
    case 3: return entry<3>(mr, std::make_integer_sequence<int, 8>());
    default: return entry<4>(mr, std::make_integer_sequence<int, 6>());
  }
}

static_assert(kMaxMr == 16, "NV=1 tiles go up to 16 rows");

}  // namespace

void implicit_tile_forward_avx512(int mr, int nv, float* c, int64_t ldc, const float* a, int64_t lda,
                                  const int64_t* seg, const int64_t* seglen, int nseg, const float* w,
                                  int64_t ldw, bool accumulate, bool last, const float* bias, int act,
                                  float alpha) {
  pick(mr, nv).first(c, ldc, a, lda, seg, seglen, nseg, w, ldw, accumulate, last, bias, act, alpha);
}

void implicit_tile_weight_avx512(int mr, int nv, float* dw, int64_t ldw, const float* x, int64_t xrow,
                                 int64_t xcol, const float* dy, int64_t dyrow, int64_t K, int64_t rows,
                                 int64_t cols, bool accumulate) {
  pick(mr, nv).second(dw, ldw, x, xrow, xcol, dy, dyrow, K, rows, cols, accumulate);
}

}  // namespace pycnn
#endif
