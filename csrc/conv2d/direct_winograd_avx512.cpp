// direct_winograd_avx512.cpp — the first-layer forward and d-weight (one
// group of at most 4 input channels, 3-wide windows at width stride 1) by
// Winograd's F(2, 3) along the width: 4 products per pair of output pixels,
// window row and input channel instead of 6. Called only when active_isa()
// is kAvx512.
//
// Along a window row, outputs y0, y1 of the pair whose windows start at
// column q = 2p read d0..d3 = row[q..q+3]:
//   m0 = (d0 - d2) g0,  m1 = (d1 + d2)(g0 + g1 + g2)/2,
//   m2 = (d2 - d1)(g0 - g1 + g2)/2,  m3 = (d1 - d3) g2,
//   y0 = m0 + m1 + m2,  y1 = m1 - m2 - m3.
// The weight factors (U) are transformed once per call, the input factors
// (the four differences) once per input row into a small ring of rows that
// consecutive output rows share (direct_winograd_rows.h).
// The kernel then broadcasts the four input factors of a pair and multiplies
// them into the four U vectors of a 16-channel block: 4 broadcasts and 4 FMAs
// per pair, window row and channel (the direct kernel: 6 FMAs). d-weight,
// the adjoint, is described above its kernel. For 3x3 windows at stride 1,
// F(2x2, 3x3) tiles take over both (direct_winograd_tiles_avx512.cpp); these
// rows remain for other window heights and height strides.
#include "conv2d/direct.h"

#if defined(PYCNN_X86)
#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "common/parallel.h"
#include "conv2d/direct_winograd_rows.h"

namespace pycnn {
namespace {

using f23::FactorRows;
using f23::prefetch_floats;
using f23::streams;

// kPairs pairs of output pixels x kNb 16-channel blocks (the driver passes
// one: 6 pairs of one block beat 2 pairs of two, and GCC keeps this form's
// U vectors in registers); the first `store` pixels are stored. rows[r]: the
// factors of window row r at the group's first pair; u: U of window row 0 at the block's first channel, laid out
// ((r*kC + c)*4 + j)*K.
template <int kC, int kNb, int kPairs>
void pairs(float* y, int64_t K, const float* const* rows, int64_t stride, int64_t nrows, const float* u,
           const float* bias, int store, int act, float alpha) {
  __m512 acc[kPairs][4][kNb];
#pragma GCC unroll 8
  for (int p = 0; p < kPairs; ++p)
#pragma GCC unroll 8
    for (int j = 0; j < 4; ++j)
#pragma GCC unroll 2
      for (int b = 0; b < kNb; ++b) acc[p][j][b] = _mm512_setzero_ps();
  for (int64_t r = 0; r < nrows; ++r) {
    const float* f = rows[r];
#pragma GCC unroll 1
    for (int c = 0; c < kC; ++c) {
      __m512 w[4][kNb];
      const float* uc = u + (r * kC + c) * 4 * K;
#pragma GCC unroll 8
      for (int j = 0; j < 4; ++j)
#pragma GCC unroll 2
        for (int b = 0; b < kNb; ++b) w[j][b] = _mm512_loadu_ps(uc + j * K + 16 * b);
#pragma GCC unroll 8
      for (int p = 0; p < kPairs; ++p)
#pragma GCC unroll 8
        for (int j = 0; j < 4; ++j) {
          const __m512 v = _mm512_set1_ps(f[j * stride + p * kC + c]);
#pragma GCC unroll 2
          for (int b = 0; b < kNb; ++b) acc[p][j][b] = _mm512_fmadd_ps(v, w[j][b], acc[p][j][b]);
        }
    }
  }
  const __m512 zero = _mm512_setzero_ps(), slope = _mm512_set1_ps(alpha);
#pragma GCC unroll 2
  for (int b = 0; b < kNb; ++b) {
    const __m512 bv = bias ? _mm512_loadu_ps(bias + 16 * b) : zero;
#pragma GCC unroll 8
    for (int p = 0; p < kPairs; ++p) {
      const __m512 m1 = acc[p][1][b], m2 = acc[p][2][b];
      __m512 out[2] = {_mm512_add_ps(_mm512_add_ps(acc[p][0][b], m1), m2),
                       _mm512_sub_ps(_mm512_sub_ps(m1, m2), acc[p][3][b])};
#pragma GCC unroll 2
      for (int q = 0; q < 2; ++q) {
        if (2 * p + q >= store) break;
        __m512 o = _mm512_add_ps(out[q], bv);
        const __mmask16 negative = _mm512_cmp_ps_mask(o, zero, _CMP_LT_OQ);  // false for NaN: it propagates
        if (act == 1) o = _mm512_mask_mov_ps(o, negative, zero);
        else if (act == 2) o = _mm512_mask_mul_ps(o, negative, o, slope);
        _mm512_storeu_ps(y + (2 * p + q) * K + 16 * b, o);
      }
    }
  }
}

using PairsFn = decltype(&pairs<1, 1, 1>);

// One 16-channel block at a time, 6 pairs per group (24 accumulators and the
// 4 U vectors in registers); a short last group takes fewer.
constexpr int kGroupPairs = 6;

template <int kC>
PairsFn pick_for(int npairs) {
  switch (npairs) {
    case 1: return &pairs<kC, 1, 1>;
    case 2: return &pairs<kC, 1, 2>;
    case 3: return &pairs<kC, 1, 3>;
    case 4: return &pairs<kC, 1, 4>;
    case 5: return &pairs<kC, 1, 5>;
    default: return &pairs<kC, 1, 6>;
  }
}

PairsFn pick(int64_t c, int npairs) {
  return f23::by_channels(c, [&](auto kc) { return pick_for<decltype(kc)::value>(npairs); });
}

// U[r][c][j][k] from the weight (KH, 3, C, K).
void transform_weight(float* u, const float* weight, const Conv2dShape& s) {
  const int64_t C = s.c, K = s.k;
  for (int64_t r = 0; r < s.kh; ++r)
    for (int64_t c = 0; c < C; ++c) {
      const float* g0 = weight + ((r * 3 + 0) * C + c) * K;
      const float* g1 = g0 + C * K;
      const float* g2 = g1 + C * K;
      float* out = u + (r * C + c) * 4 * K;
      for (int64_t k = 0; k < K; ++k) {
        out[k] = g0[k];
        out[K + k] = 0.5f * (g0[k] + g1[k] + g2[k]);
        out[2 * K + k] = 0.5f * (g0[k] - g1[k] + g2[k]);
        out[3 * K + k] = g2[k];
      }
    }
}

// d-weight: the adjoint of the pair product. With e the output gradients of
// the pair, dm = (e0, e0 + e1, e0 - e1, -e1) and S_j = sum over pairs of
// dm_j * factor_j, then dg = G^T S: dg0 = S0 + (S1 + S2)/2,
// dg1 = (S1 - S2)/2, dg2 = (S1 + S2)/2 + S3. S3 is accumulated with +e1 and
// subtracted at the end.
//
// When the gradient streams (streams()), the first pass over an output row
// prefetches it kAhead pixels ahead (into the next rows at the end): its 36
// FMAs per pair leave too few loads in flight to hide memory latency, and
// the hardware prefetcher alone did not.
constexpr int64_t kAhead = 64;

// kN (window row, channel) combinations of one 16-channel block over a whole
// output row: src[i] = the factors of combination i at column 0 (channel
// offset included), step = floats from one pair to the next, s_rows[i] =
// where its S_0..S_3 rows (K floats apart) are added; `pixels`: how many
// pixels of the gradient there are from this row's first on (the prefetch
// stays inside them).
template <int kN, bool kPrefetch>
void weight_pairs(float* const* s_rows, int64_t K, const float* const* src, int64_t stride, int64_t step,
                  const float* dy, int64_t ow, int64_t pixels) {
  __m512 acc[kN][4];
#pragma GCC unroll 8
  for (int i = 0; i < kN; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < 4; ++j) acc[i][j] = _mm512_setzero_ps();
  const auto pair = [&](__m512 e0, __m512 e1, int64_t at) {
    const __m512 dm[4] = {e0, _mm512_add_ps(e0, e1), _mm512_sub_ps(e0, e1), e1};
#pragma GCC unroll 8
    for (int i = 0; i < kN; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < 4; ++j) {
        const __m512 factor = _mm512_set1_ps(src[i][j * stride + at]);
        acc[i][j] = _mm512_fmadd_ps(factor, dm[j], acc[i][j]);
      }
  };
  const int64_t full = ow / 2;
  for (int64_t p = 0; p < full; ++p) {
    if (kPrefetch && 2 * p + kAhead + 1 < pixels) {
      _mm_prefetch(reinterpret_cast<const char*>(dy + (2 * p + kAhead) * K), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(dy + (2 * p + kAhead + 1) * K), _MM_HINT_T0);
    }
    pair(_mm512_loadu_ps(dy + 2 * p * K), _mm512_loadu_ps(dy + (2 * p + 1) * K), p * step);
  }
  // An odd last pixel pairs with a phantom one whose gradient is zero.
  if (ow % 2) pair(_mm512_loadu_ps(dy + (ow - 1) * K), _mm512_setzero_ps(), full * step);
#pragma GCC unroll 8
  for (int i = 0; i < kN; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < 4; ++j) {
      float* out = s_rows[i] + j * K;
      _mm512_storeu_ps(out, _mm512_add_ps(_mm512_loadu_ps(out), acc[i][j]));
    }
}

using WeightPairsFn = decltype(&weight_pairs<1, false>);
constexpr int kWeightCombos = 6;  // 24 accumulators, 4 gradient factors
constexpr WeightPairsFn kWeightPairs[2][kWeightCombos] = {
    {&weight_pairs<1, false>, &weight_pairs<2, false>, &weight_pairs<3, false>, &weight_pairs<4, false>,
     &weight_pairs<5, false>, &weight_pairs<6, false>},
    {&weight_pairs<1, true>, &weight_pairs<2, true>, &weight_pairs<3, true>, &weight_pairs<4, true>,
     &weight_pairs<5, true>, &weight_pairs<6, true>}};

// dweight (KH, 3, C, K) = G^T S per (window row, channel), S laid out as U.
void inverse_weight(float* dweight, const float* sums, const Conv2dShape& s) {
  const int64_t C = s.c, K = s.k;
  for (int64_t r = 0; r < s.kh; ++r)
    for (int64_t c = 0; c < C; ++c) {
      const float* s0 = sums + (r * C + c) * 4 * K;
      const float *s1 = s0 + K, *s2 = s0 + 2 * K, *s3 = s0 + 3 * K;
      float* g0 = dweight + ((r * 3 + 0) * C + c) * K;
      float* g1 = g0 + C * K;
      float* g2 = g1 + C * K;
      // The sums and the weight never overlap; without the pragma GCC kept
      // this loop scalar (4 % of cifar conv1's d-weight at 2 threads).
#pragma omp simd
      for (int64_t k = 0; k < K; ++k) {
        const float half_sum = 0.5f * (s1[k] + s2[k]);
        g0[k] = s0[k] + half_sum;
        g1[k] = 0.5f * (s1[k] - s2[k]);
        g2[k] = half_sum - s3[k];
      }
    }
}

}  // namespace

// The ring of factor rows is per-thread scratch, allocated inside the
// parallel region: rows wider than this take the sliding kernels instead.
constexpr int64_t kMaxFactorFloats = int64_t(1) << 22;  // 16 MiB

bool direct_winograd_applies_avx512(const Conv2dShape& s) {
  return direct_sliding_applies_avx512(s) && s.dh == 1 && s.kh < FactorRows::kMaxSlots && FactorRows::floats(s) <= kMaxFactorFloats;
}

void direct_winograd_forward_avx512(float* y, const float* x, const float* weight, const float* bias,
                                    const Conv2dShape& s, const ActivationSpec& act) {
  if (direct_winograd_tiles_applies_avx512(s))
    return direct_winograd_tiles_forward_avx512(y, x, weight, bias, s, act);
  const int64_t K = s.k, C = s.c;
  std::vector<float> u(size_t(s.kh * C * 4 * K));
  transform_weight(u.data(), weight, s);
  const int fused = act.kind == Activation::kRelu ? 1 : act.kind == Activation::kLeakyRelu ? 2 : 0;
  const int64_t pairs_per_row = (s.ow + 1) / 2;
  const bool prefetch_y = streams(s);
  parallel_for(s.n * s.oh, direct_row_grain(s),
               [&](int64_t u0, int64_t u1) {
                 FactorRows factors(s, thread_scratch(kScratchMisc).floats(size_t(FactorRows::floats(s))));
                 const float* rows[16];
                 for (int64_t unit = u0; unit < u1; ++unit) {
                   const int64_t n = unit / s.oh, oh = unit % s.oh, ih0 = oh * s.sh - s.pad_top;
                   int64_t ilo, ihi;
                   valid_rows(s, ih0, ilo, ihi);
                   for (int64_t r = ilo; r < ihi; ++r) rows[r - ilo] = factors.row(x, n, ih0 + r);
                   float* y_row = y + unit * s.ow * K;
                   const float* u_rows = u.data() + ilo * C * 4 * K;
                   for (int64_t p0 = 0; p0 < pairs_per_row; p0 += kGroupPairs) {
                     const int npairs = int(std::min<int64_t>(kGroupPairs, pairs_per_row - p0));
                     const float* at[16];
                     for (int64_t r = 0; r < ihi - ilo; ++r) at[r] = rows[r] + p0 * C;
                     const int store = int(std::min<int64_t>(2 * npairs, s.ow - 2 * p0));
                     const PairsFn fn = pick(C, npairs);
                     // The same pixels of the next output row, so that its
                     // stores do not wait for their lines.
                     if (prefetch_y && unit + 1 < u1) prefetch_floats(y_row + (s.ow + 2 * p0) * K, store * K);
                     for (int64_t k0 = 0; k0 < K; k0 += 16)
                       fn(y_row + 2 * p0 * K + k0, K, at, factors.stride, ihi - ilo, u_rows + k0,
                          bias ? bias + k0 : nullptr, store, fused, act.alpha);
                   }
                   if (act.kind != Activation::kNone && fused == 0) activate_inplace(y_row, s.ow * K, act);
                 }
               });
}

void direct_winograd_weight_avx512(float* dweight, const float* dy, const float* x, const Conv2dShape& s) {
  if (direct_winograd_tiles_applies_avx512(s)) return direct_winograd_tiles_weight_avx512(dweight, dy, x, s);
  const int64_t K = s.k, C = s.c, wsize = s.kh * 3 * C * K, ssize = s.kh * C * 4 * K;
  const FixedChunks chunks = direct_weight_chunks(s);
  float* partial = chunks.count > 1 ? thread_scratch(kScratchPartial).floats(size_t((chunks.count - 1) * wsize))
                                    : nullptr;
  const bool stream = streams(s);
  parallel_for_chunks(chunks.count, [&](int64_t ci) {
    float* sums = thread_scratch(kScratchIm2col).floats(size_t(ssize));
    std::fill(sums, sums + ssize, 0.f);
    FactorRows factors(s, thread_scratch(kScratchMisc).floats(size_t(FactorRows::floats(s))));
    const float* src[64];
    float* s_rows[64];
    for (int64_t unit = chunks.begin(ci); unit < chunks.end(ci); ++unit) {
      const int64_t n = unit / s.oh, oh = unit % s.oh, ih0 = oh * s.sh - s.pad_top;
      int64_t ilo, ihi;
      valid_rows(s, ih0, ilo, ihi);
      int64_t combos = 0;
      for (int64_t r = ilo; r < ihi; ++r) {
        const float* f = factors.row(x, n, ih0 + r);
        for (int64_t c = 0; c < C; ++c, ++combos) src[combos] = f + c, s_rows[combos] = sums + (r * C + c) * 4 * K;
      }
      const float* dy_row = dy + unit * s.ow * K;
      for (int64_t k0 = 0; k0 < K; k0 += 16) {
        float* at[64];
        for (int64_t i = 0; i < combos; ++i) at[i] = s_rows[i] + k0;
        for (int64_t i = 0; i < combos; i += kWeightCombos) {
          const int count = int(std::min<int64_t>(kWeightCombos, combos - i));
          kWeightPairs[i == 0 && stream][count - 1](at + i, K, src + i, factors.stride, C, dy_row + k0, s.ow,
                                                    (s.n * s.oh - unit) * s.ow);
        }
      }
    }
    inverse_weight(ci == 0 ? dweight : partial + (ci - 1) * wsize, sums, s);
  });
  add_partials(dweight, partial, chunks.count - 1, wsize);
}

}  // namespace pycnn
#endif

