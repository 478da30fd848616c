// direct_winograd_tiles_avx512.cpp — the first-layer forward and d-weight
// for 3x3 windows at stride 1 by Winograd's F(2x2, 3x3): 16 products per 2x2
// output pixels and input channel, where F(2, 3) along the width alone
// (direct_winograd_avx512.cpp) takes 24 and the direct sum 36. Called only
// when active_isa() is kAvx512.
//
// A tile is 2x2 output pixels, its windows 4x4 inputs. Per axis the F(2, 3)
// factors of 4 inputs are (d0 - d2, d1 + d2, d2 - d1, d1 - d3); the ring of
// rows (direct_winograd_rows.h) holds them along the width (index b), and
// the 16 tile factors F[a][b] apply them once more along the height (a).
// The adjoint of the tile product: with e the output gradients of the tile,
// T(e0, e1) = (e0, e0 + e1, e0 - e1, e1) applied along both axes gives
// dm[a][b], and S[a][b] = sum over tiles of F[a][b] * dm[a][b]. Then
// dg = G^T S G: along each axis g0 = S0 + (S1 + S2)/2, g1 = (S1 - S2)/2,
// g2 = (S1 + S2)/2 - S3 (the minus: the adjoint's last component is -e1).
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

// The 16 factors F[a][b] of tile column p and channel c, i = p*C + c, are
// stored in blocks of 16 i: F[a][b] of i at tile_at(tiles, i)[(a*4 + b)*16].
// So a kernel reads a tile's 16 factors at fixed offsets from one pointer
// (16 arrays a stride apart took 16 registers for their addresses, which
// GCC then parked in vector registers: 93 moves per 56 FMAs).
inline const float* tile_at(const float* tiles, int64_t i) { return tiles + (i >> 4) * 256 + (i & 15); }

// Height factors a of the rows' width factors, from rows r[0..3] (each 4
// arrays `stride` floats apart), whole blocks of 16 i.
void tile_factors(float* __restrict tiles, const float* const r[4], int64_t stride) {
  for (int64_t i = 0; i < stride; i += 16) {
    float* block = tiles + i * 16;
#pragma GCC unroll 4
    for (int b = 0; b < 4; ++b) {
      const __m512 r0 = _mm512_loadu_ps(r[0] + b * stride + i), r1 = _mm512_loadu_ps(r[1] + b * stride + i);
      const __m512 r2 = _mm512_loadu_ps(r[2] + b * stride + i), r3 = _mm512_loadu_ps(r[3] + b * stride + i);
      _mm512_storeu_ps(block + (0 + b) * 16, _mm512_sub_ps(r0, r2));
      _mm512_storeu_ps(block + (4 + b) * 16, _mm512_add_ps(r1, r2));
      _mm512_storeu_ps(block + (8 + b) * 16, _mm512_sub_ps(r2, r1));
      _mm512_storeu_ps(block + (12 + b) * 16, _mm512_sub_ps(r1, r3));
    }
  }
}

// Per thread: the ring of factor rows, then the 16 tile factor arrays of
// the current row pair and a zero row (for windows past the image and a
// missing second output row).
struct TileRows {
  FactorRows factors;
  int64_t stride;
  float* tiles;
  float* zeros;

  static int64_t floats(const Conv2dShape& s) { return FactorRows::floats(s) + 20 * FactorRows::factor_stride(s); }

  TileRows(const Conv2dShape& s, float* scratch)
      : factors(s, scratch), stride(factors.stride), tiles(scratch + FactorRows::floats(s)), zeros(tiles + 16 * stride) {
    std::fill(zeros, zeros + 4 * stride, 0.f);
  }

  // The tile factors of the row pair whose windows start at input row ih0 of image n.
  const float* make(const float* x, int64_t n, int64_t ih0) {
    const float* rows[4];
    for (int64_t i = 0; i < 4; ++i) {
      const int64_t ih = ih0 + i;
      rows[i] = ih >= 0 && ih < factors.s.h ? factors.row(x, n, ih) : zeros;
    }
    tile_factors(tiles, rows, stride);
    return tiles;
  }
};

// The output gradients of height factor a from the pair's two rows: T's
// components (top, top + bottom, top - bottom, bottom).
inline __m512 along_height(int a, __m512 top, __m512 bottom) {
  switch (a) {
    case 0: return top;
    case 1: return _mm512_add_ps(top, bottom);
    case 2: return _mm512_sub_ps(top, bottom);
    default: return bottom;
  }
}

// Height factors [kA0, kA0 + kA) of one 16-channel block over a row pair:
// S[a][b][c] += F[a][b] at the tile's column, channel c, times dm[a][b].
// sums: S of the block, ((a*kC + c)*4 + b)*K; dy0, dy1: the pair's gradient
// rows at the block (dy1 pixels dy1_step floats apart: 0 reads the same
// zeros for a missing second row); ahead: the next pair's first row or
// nullptr, prefetched as this one is read.
template <int kA0, int kA, int kC>
void tile_row(float* sums, int64_t K, const float* tiles, const float* dy0, const float* dy1,
              int64_t dy1_step, int64_t ow, const float* ahead) {
  __m512 acc[kA][4][kC];
#pragma GCC unroll 4
  for (int a = 0; a < kA; ++a)
#pragma GCC unroll 4
    for (int b = 0; b < 4; ++b)
#pragma GCC unroll 4
      for (int c = 0; c < kC; ++c) acc[a][b][c] = _mm512_setzero_ps();
  const auto tile = [&](__m512 r00, __m512 r01, __m512 r10, __m512 r11, int64_t at) {
#pragma GCC unroll 4
    for (int a = 0; a < kA; ++a) {
      const int height = kA0 + a;
      const __m512 e0 = along_height(height, r00, r10), e1 = along_height(height, r01, r11);
      const __m512 dm[4] = {e0, _mm512_add_ps(e0, e1), _mm512_sub_ps(e0, e1), e1};
#pragma GCC unroll 4
      for (int b = 0; b < 4; ++b)
#pragma GCC unroll 4
        for (int c = 0; c < kC; ++c) {
          const __m512 factor = _mm512_set1_ps(tile_at(tiles, at + c)[(height * 4 + b) * 16]);
          acc[a][b][c] = _mm512_fmadd_ps(factor, dm[b], acc[a][b][c]);
        }
    }
  };
  const int64_t full = ow / 2;
  for (int64_t p = 0; p < full; ++p) {
    if (ahead) {
      _mm_prefetch(reinterpret_cast<const char*>(ahead + 2 * p * K), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(ahead + (2 * p + 1) * K), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(ahead + (ow + 2 * p) * K), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(ahead + (ow + 2 * p + 1) * K), _MM_HINT_T0);
    }
    tile(_mm512_loadu_ps(dy0 + 2 * p * K), _mm512_loadu_ps(dy0 + (2 * p + 1) * K),
         _mm512_loadu_ps(dy1 + 2 * p * dy1_step), _mm512_loadu_ps(dy1 + (2 * p + 1) * dy1_step), p * kC);
  }
  // An odd last column pairs with a phantom one whose gradient is zero.
  if (ow % 2) {
    const __m512 zero = _mm512_setzero_ps();
    tile(_mm512_loadu_ps(dy0 + (ow - 1) * K), zero, _mm512_loadu_ps(dy1 + (ow - 1) * dy1_step), zero, full * kC);
  }
#pragma GCC unroll 4
  for (int a = 0; a < kA; ++a)
#pragma GCC unroll 4
    for (int c = 0; c < kC; ++c)
#pragma GCC unroll 4
      for (int b = 0; b < 4; ++b) {
        float* out = sums + (((kA0 + a) * kC + c) * 4 + b) * K;
        _mm512_storeu_ps(out, _mm512_add_ps(_mm512_loadu_ps(out), acc[a][b][c]));
      }
}

// The forward of kT tiles of one 16-channel block: per tile and input
// channel, the 16 products V[a][b] * U[a][b] (V: the tile factors, U: the
// weight's), summed over the channels into M[a][b]. Each height factor a is
// folded as soon as its 4 sums are complete: along the width into
// z = (M[a][0] + M[a][1] + M[a][2], M[a][1] - M[a][2] - M[a][3]), the tile's
// two pixels, then along the height into the top row (a = 0, 1, 2) and the
// bottom row (+ for a = 1, - for a = 2, 3). So 4 sums per tile are live, not
// 16: with the 2 x 2 outputs, 8 vectors a tile, and 3 tiles share each U
// load. y0, y1: the pair's rows at the first tile and block (y1 unused
// unless `second`); i0: the first tile's i (tile_at); the first `store`
// pixels of each row are stored.
template <int kC, int kT>
void tile_forward(float* y0, float* y1, int64_t K, const float* tiles, int64_t i0, const float* u,
                  const float* bias, int store, bool second, int act, float alpha) {
  __m512 top[kT][2], bottom[kT][2];
#pragma GCC unroll 4
  for (int a = 0; a < 4; ++a) {
    __m512 m[kT][4];
#pragma GCC unroll 4
    for (int c = 0; c < kC; ++c) {
      __m512 w[4];
#pragma GCC unroll 4
      for (int b = 0; b < 4; ++b) {
        w[b] = _mm512_loadu_ps(u + ((a * kC + c) * 4 + b) * K);
        // Keeps U in a register: else GCC folds its loads into the FMAs and
        // broadcasts the factors instead, kT loads of 64 bytes per U.
        asm("" : "+v"(w[b]));
      }
#pragma GCC unroll 4
      for (int t = 0; t < kT; ++t)
#pragma GCC unroll 4
        for (int b = 0; b < 4; ++b) {
          const __m512 v = _mm512_set1_ps(tile_at(tiles, i0 + t * kC + c)[(a * 4 + b) * 16]);
          m[t][b] = c == 0 ? _mm512_mul_ps(v, w[b]) : _mm512_fmadd_ps(v, w[b], m[t][b]);
        }
    }
#pragma GCC unroll 4
    for (int t = 0; t < kT; ++t) {
      const __m512 z0 = _mm512_add_ps(_mm512_add_ps(m[t][0], m[t][1]), m[t][2]);
      const __m512 z1 = _mm512_sub_ps(_mm512_sub_ps(m[t][1], m[t][2]), m[t][3]);
      if (a == 0) {
        top[t][0] = z0, top[t][1] = z1;
      } else if (a == 1) {
        top[t][0] = _mm512_add_ps(top[t][0], z0), top[t][1] = _mm512_add_ps(top[t][1], z1);
        bottom[t][0] = z0, bottom[t][1] = z1;
      } else if (a == 2) {
        top[t][0] = _mm512_add_ps(top[t][0], z0), top[t][1] = _mm512_add_ps(top[t][1], z1);
        bottom[t][0] = _mm512_sub_ps(bottom[t][0], z0), bottom[t][1] = _mm512_sub_ps(bottom[t][1], z1);
      } else {
        bottom[t][0] = _mm512_sub_ps(bottom[t][0], z0), bottom[t][1] = _mm512_sub_ps(bottom[t][1], z1);
      }
    }
  }
  const __m512 zero = _mm512_setzero_ps(), slope = _mm512_set1_ps(alpha);
  const __m512 bv = bias ? _mm512_loadu_ps(bias) : zero;
  const auto put = [&](float* out, __m512 o) {
    o = _mm512_add_ps(o, bv);
    const __mmask16 negative = _mm512_cmp_ps_mask(o, zero, _CMP_LT_OQ);  // false for NaN: it propagates
    if (act == 1) o = _mm512_mask_mov_ps(o, negative, zero);
    else if (act == 2) o = _mm512_mask_mul_ps(o, negative, o, slope);
    _mm512_storeu_ps(out, o);
  };
#pragma GCC unroll 4
  for (int t = 0; t < kT; ++t)
#pragma GCC unroll 2
    for (int q = 0; q < 2; ++q) {
      if (2 * t + q >= store) break;
      put(y0 + (2 * t + q) * K, top[t][q]);
      if (second) put(y1 + (2 * t + q) * K, bottom[t][q]);
    }
}

using TileForwardFn = decltype(&tile_forward<1, 1>);

// 3 tiles per call: 24 sums and outputs, 4 U vectors (Zen 4's 32 registers).
constexpr int kForwardTiles = 3;

template <int kC>
TileForwardFn pick_forward_for(int tiles) {
  switch (tiles) {
    case 1: return &tile_forward<kC, 1>;
    case 2: return &tile_forward<kC, 2>;
    default: return &tile_forward<kC, 3>;
  }
}

TileForwardFn pick_forward(int64_t c, int tiles) {
  return f23::by_channels(c, [&](auto kc) { return pick_forward_for<decltype(kc)::value>(tiles); });
}

// U[a][b][c][k] = (G g G^T)[a][b] per channel pair, laid out
// ((a*C + c)*4 + b)*K, from the weight (3, 3, C, K). Along each axis
// G = (g0, (g0 + g1 + g2)/2, (g0 - g1 + g2)/2, g2).
void transform_tiles_weight(float* u, const float* weight, const Conv2dShape& s) {
  const int64_t C = s.c, K = s.k;
  const auto g_of = [&](int64_t i, int64_t j, int64_t c) { return weight + ((i * 3 + j) * C + c) * K; };
  for (int64_t c = 0; c < C; ++c)
    for (int64_t k = 0; k < K; ++k) {
      float t[3][4];  // G along the width, per window row
      for (int64_t i = 0; i < 3; ++i) {
        const float g0 = g_of(i, 0, c)[k], g1 = g_of(i, 1, c)[k], g2 = g_of(i, 2, c)[k];
        t[i][0] = g0;
        t[i][1] = 0.5f * (g0 + g1 + g2);
        t[i][2] = 0.5f * (g0 - g1 + g2);
        t[i][3] = g2;
      }
      for (int64_t b = 0; b < 4; ++b) {
        const float g0 = t[0][b], g1 = t[1][b], g2 = t[2][b];
        u[((0 * C + c) * 4 + b) * K + k] = g0;
        u[((1 * C + c) * 4 + b) * K + k] = 0.5f * (g0 + g1 + g2);
        u[((2 * C + c) * 4 + b) * K + k] = 0.5f * (g0 - g1 + g2);
        u[((3 * C + c) * 4 + b) * K + k] = g2;
      }
    }
}

using TileRowFn = decltype(&tile_row<0, 1, 1>);

// Height factors per call: all four for one channel, two for two or three,
// one for four. At most 24 accumulators (4 * heights * C): with the 4
// gradients and their 4 transforms they fill the 32 registers, no spill.
// Three channels took one height per call (12 accumulators) and read the
// gradients 4 times: face conv1 d-weight 0.92-1.08 -> 0.85-0.95 ms at 1
// thread, cifar conv1 0.34-0.35 -> 0.31-0.32.
constexpr int heights_per_call(int c) { return c == 1 ? 4 : c <= 3 ? 2 : 1; }

template <int kC>
TileRowFn pick_for(int a0) {
  constexpr int kA = heights_per_call(kC);
  switch (a0) {
    case 1:
      if constexpr (kA == 1) return &tile_row<1, 1, kC>;
      break;
    case 2:
      if constexpr (kA <= 2) return &tile_row<2, kA, kC>;
      break;
    case 3:
      if constexpr (kA == 1) return &tile_row<3, 1, kC>;
      break;
  }
  return &tile_row<0, kA, kC>;
}

TileRowFn pick(int64_t c, int a0) {
  return f23::by_channels(c, [&](auto kc) { return pick_for<decltype(kc)::value>(a0); });
}

// dweight (3, 3, C, K) = G^T S G per channel pair (c, k).
void inverse_tiles(float* __restrict dweight, const float* __restrict sums, const Conv2dShape& s) {
  const int64_t C = s.c, K = s.k;
  for (int64_t c = 0; c < C; ++c) {
    const float* sc = sums + c * 4 * K;  // S[a][b] at sc[(a*C*4 + b)*K]
#pragma omp simd
    for (int64_t k = 0; k < K; ++k) {
      float t[4][3];  // G^T along the width, per height factor
      for (int a = 0; a < 4; ++a) {
        const float* sa = sc + a * C * 4 * K + k;
        const float half_sum = 0.5f * (sa[K] + sa[2 * K]);
        t[a][0] = sa[0] + half_sum;
        t[a][1] = 0.5f * (sa[K] - sa[2 * K]);
        t[a][2] = half_sum - sa[3 * K];
      }
      for (int j = 0; j < 3; ++j) {
        const float half_sum = 0.5f * (t[1][j] + t[2][j]);
        dweight[((0 * 3 + j) * C + c) * K + k] = t[0][j] + half_sum;
        dweight[((1 * 3 + j) * C + c) * K + k] = 0.5f * (t[1][j] - t[2][j]);
        dweight[((2 * 3 + j) * C + c) * K + k] = half_sum - t[3][j];
      }
    }
  }
}

}  // namespace

bool direct_winograd_tiles_applies_avx512(const Conv2dShape& s) {
  return direct_winograd_applies_avx512(s) && s.kh == 3 && s.sh == 1;
}

void direct_winograd_tiles_forward_avx512(float* y, const float* x, const float* weight, const float* bias,
                                          const Conv2dShape& s, const ActivationSpec& act) {
  const int64_t K = s.k, C = s.c;
  std::vector<float> u(size_t(16 * C * K));
  transform_tiles_weight(u.data(), weight, s);
  const int fused = act.kind == Activation::kRelu ? 1 : act.kind == Activation::kLeakyRelu ? 2 : 0;
  // Units: the row pairs (n, 2t, 2t + 1).
  const int64_t pairs_h = (s.oh + 1) / 2, units = s.n * pairs_h, tiles_per_row = (s.ow + 1) / 2;
  // Row pair u's first output row, and whether it has a second.
  const auto row_of = [&](int64_t u) { return y + (u / pairs_h * s.oh + 2 * (u % pairs_h)) * s.ow * K; };
  const auto has_second = [&](int64_t u) { return 2 * (u % pairs_h) + 1 < s.oh; };
  const bool prefetch_y = f23::streams(s);
  parallel_for(units, std::max<int64_t>(1, direct_row_grain(s) / 2), [&](int64_t u0, int64_t u1) {
    TileRows rows(s, thread_scratch(kScratchMisc).floats(size_t(TileRows::floats(s))));
    for (int64_t unit = u0; unit < u1; ++unit) {
      const int64_t n = unit / pairs_h, oh0 = 2 * (unit % pairs_h);
      const float* tiles = rows.make(x, n, oh0 - s.pad_top);
      float* y0 = row_of(unit);
      const bool second = has_second(unit);
      float* y1 = second ? y0 + s.ow * K : y0;  // written only when `second`
      // The next pair's rows, prefetched group by group (all of them at once
      // stalled the loads), so that their stores do not wait for their lines.
      const float* next = prefetch_y && unit + 1 < u1 ? row_of(unit + 1) : nullptr;
      const bool next_second = next && has_second(unit + 1);
      for (int64_t t0 = 0; t0 < tiles_per_row; t0 += kForwardTiles) {
        const int count = int(std::min<int64_t>(kForwardTiles, tiles_per_row - t0));
        const int store = int(std::min<int64_t>(2 * count, s.ow - 2 * t0));
        if (next) f23::prefetch_floats(next + 2 * t0 * K, store * K);
        if (next_second) f23::prefetch_floats(next + (s.ow + 2 * t0) * K, store * K);
        const TileForwardFn fn = pick_forward(C, count);
        for (int64_t k0 = 0; k0 < K; k0 += 16)
          fn(y0 + 2 * t0 * K + k0, y1 + 2 * t0 * K + k0, K, tiles, t0 * C, u.data() + k0,
             bias ? bias + k0 : nullptr, store, second, fused, act.alpha);
      }
      if (act.kind != Activation::kNone && fused == 0) activate_inplace(y0, (second ? 2 : 1) * s.ow * K, act);
    }
  });
}

void direct_winograd_tiles_weight_avx512(float* dweight, const float* dy, const float* x, const Conv2dShape& s) {
  const int64_t K = s.k, C = s.c, wsize = 9 * C * K, ssize = 16 * C * K;
  // Units: the row pairs (n, 2t, 2t + 1); a fixed partition (parallel.h)
  // of at most 16 chunks of about 2^17 multiply-adds or more, each with its
  // sums, inverse and partial. 64 chunks of 2^15 cost 3-8 % (cifar conv1
  // 0.358-0.367 -> 0.339-0.343 ms at 1 thread, face conv1 at 2 threads
  // 0.485-0.560 -> 0.457-0.472).
  const int64_t pairs_h = (s.oh + 1) / 2, units = s.n * pairs_h;
  const int64_t per_unit = std::max<int64_t>(1, 2 * s.ow * 9 * C * K);
  const FixedChunks chunks = fixed_chunks(units, std::max<int64_t>((int64_t(1) << 17) / per_unit, (units + 15) / 16));
  float* partial = chunks.count > 1 ? thread_scratch(kScratchPartial).floats(size_t((chunks.count - 1) * wsize))
                                    : nullptr;
  const bool stream = f23::streams(s);
  const int64_t groups = 4 / heights_per_call(int(C));
  parallel_for_chunks(chunks.count, [&](int64_t ci) {
    float* sums = thread_scratch(kScratchIm2col).floats(size_t(ssize));
    std::fill(sums, sums + ssize, 0.f);
    TileRows rows(s, thread_scratch(kScratchMisc).floats(size_t(TileRows::floats(s))));
    for (int64_t unit = chunks.begin(ci); unit < chunks.end(ci); ++unit) {
      const int64_t n = unit / pairs_h, oh0 = 2 * (unit % pairs_h);
      const float* tiles = rows.make(x, n, oh0 - s.pad_top);
      const float* dy0 = dy + (n * s.oh + oh0) * s.ow * K;
      const bool second = oh0 + 1 < s.oh;
      // The next pair's rows, when they exist and the gradient streams.
      const bool ahead = stream && unit + 1 < units && oh0 + 3 < s.oh;
      for (int64_t k0 = 0; k0 < K; k0 += 16) {
        const float* dy1 = second ? dy0 + s.ow * K + k0 : rows.zeros;
        for (int64_t g = 0; g < groups; ++g) {
          const int a0 = int(g * heights_per_call(int(C)));
          pick(C, a0)(sums + k0, K, tiles, dy0 + k0, dy1, second ? K : 0, s.ow,
                      ahead && g == 0 ? dy0 + 2 * s.ow * K + k0 : nullptr);
        }
      }
    }
    inverse_tiles(ci == 0 ? dweight : partial + (ci - 1) * wsize, sums, s);
  });
  add_partials(dweight, partial, chunks.count - 1, wsize);
}

}  // namespace pycnn
#endif
