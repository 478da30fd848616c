// implicit.cpp — drivers of the implicit-GEMM convolution (see implicit.h):
// padding, loop order, cache blocking and threads; the arithmetic is in the
// AVX-512 tiles.
//
// Forward: parallel over images; per image, output channels in blocks of up
// to 64 (NV zmm columns), the weight rows in balanced chunks of at most 32 KiB
// so a chunk stays in L1 while every pixel tile passes (y is re-read from L2
// once per chunk), pixels in tiles of MR consecutive A rows (plan_tiles).
// d-weight: fixed chunks of images (a function of N only), one partial per
// chunk summed in chunk order, so 1 and 2 threads give identical bits.
#include "conv2d/implicit.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/cpu_features.h"
#include "common/parallel.h"
#include "common/workspace.h"
#include "conv2d/direct.h"

namespace pycnn {
namespace {

constexpr int64_t kMaxImageFloats = int64_t(1) << 22;  // padded image scratch (16 MiB) per thread
constexpr int64_t kMinPixels = 64;                      // per image, see implicit_forward_applies
constexpr int64_t kWeightChunkFloats = 8192;           // weight rows per forward chunk: 32 KiB, L1

int64_t padded_h(const ImplicitConv& g) { return g.h + g.pt + g.pb; }
int64_t padded_w(const ImplicitConv& g) { return g.w + g.pl + g.pr; }
bool has_pad(const ImplicitConv& g) { return g.pt || g.pb || g.pl || g.pr; }

// Image n of x, zero-padded into scratch (or x itself when there is no pad).
const float* padded_image(const float* x, const ImplicitConv& g, int64_t n) {
  const int64_t C = g.c, image = g.h * g.w * C;
  if (!has_pad(g)) return x + n * image;
  const int64_t hp = padded_h(g), wp = padded_w(g), row = wp * C;
  float* buf = thread_scratch(kScratchIm2col).floats(size_t(hp * row));
  std::memset(buf, 0, sizeof(float) * g.pt * row);
  for (int64_t ih = 0; ih < g.h; ++ih) {
    float* dst = buf + (g.pt + ih) * row;
    std::memset(dst, 0, sizeof(float) * g.pl * C);
    std::memcpy(dst + g.pl * C, x + n * image + ih * g.w * C, sizeof(float) * g.w * C);
    std::memset(dst + (g.pl + g.w) * C, 0, sizeof(float) * g.pr * C);
  }
  std::memset(buf + (g.pt + g.h) * row, 0, sizeof(float) * g.pb * row);
  return buf;
}

// Patch rows [p0, p1) as runs contiguous in the padded image: offsets from
// a pixel's window origin and lengths. Runs are window rows (KW*C floats)
// for an undilated width, single taps (C floats) otherwise.
int segments(int64_t* seg, int64_t* len, const ImplicitConv& g, int64_t p0, int64_t p1) {
  const int64_t wp = padded_w(g), run = g.dw == 1 ? g.kw * g.c : g.c;
  int n = 0;
  for (int64_t p = p0; p < p1; ++n) {
    const int64_t u = p / run, q = p % run;
    const int64_t i = g.dw == 1 ? u : u / g.kw, j = g.dw == 1 ? 0 : u % g.kw;
    seg[n] = (i * g.dh * wp + j * g.dw) * g.c + q;
    len[n] = std::min(run - q, p1 - p);
    p += len[n];
  }
  return n;
}

bool usable(const ImplicitConv& g) {
  if (g.k % 16 != 0 || g.kh > 64 || g.kw > 64) return false;
  return padded_h(g) * padded_w(g) * g.c <= kMaxImageFloats;
}

// How output pixels are cut into tiles of at most mr consecutive rows of A.
// Per output row (lines = OH, rows = OW, tiles balanced: 13 = 7 + 6), or,
// for stride 1x1 when it wastes fewer tile slots, over "virtual" rows
// r = oh*Wp + ow of the padded width (lines = 1): A row r starts at r*C for
// every r, so tiles cross output rows; rows with ow >= OW are computed into
// scratch and dropped. Their reads stay inside the padded image.
struct TilePlan {
  bool virtual_rows;
  int64_t lines, rows, tiles;
};

TilePlan plan_tiles(const ImplicitConv& g, int mr) {
  const int64_t per_row = (g.ow + mr - 1) / mr;
  const int64_t v = (g.oh - 1) * padded_w(g) + g.ow, v_tiles = (v + mr - 1) / mr;
  if (g.sh == 1 && g.sw == 1 && g.oh > 1 && v_tiles < g.oh * per_row && v * g.k <= kMaxImageFloats)
    return {true, 1, v, v_tiles};
  return {false, g.oh, g.ow, per_row};
}

}  // namespace

ImplicitConv implicit_forward_geometry(const Conv2dShape& s) {
  return {s.n, s.h, s.w, s.c, s.kh, s.kw, s.k, s.sh, s.sw, s.dh, s.dw,
          s.pad_top, s.pad_bottom, s.pad_left, s.pad_right, s.oh, s.ow};
}

ImplicitConv implicit_input_geometry(const Conv2dShape& s) {
  const int64_t eh = (s.kh - 1) * s.dh, ew = (s.kw - 1) * s.dw;
  return {s.n, s.oh, s.ow, s.k, s.kh, s.kw, s.c, 1, 1, s.dh, s.dw,
          eh - s.pad_top, eh - s.pad_bottom, ew - s.pad_left, ew - s.pad_right, s.h, s.w};
}

bool implicit_forward_applies(const Conv2dShape& s) {
  // Below 64 output pixels per image the weight streams from L2 for a few
  // tiles per image; im2col over the batch amortises it better (measured).
  return s.groups == 1 && !s.direct() && !s.pointwise() && s.oh * s.ow >= kMinPixels &&
         usable(implicit_forward_geometry(s));
}

bool implicit_weight_applies(const Conv2dShape& s) { return implicit_forward_applies(s); }

bool implicit_input_applies(const Conv2dShape& s) {
  if (s.groups != 1 || s.direct() || s.pointwise() || s.sh != 1 || s.sw != 1) return false;
  const ImplicitConv g = implicit_input_geometry(s);
  // The transposed form multiplies the zero border too: H*W outputs of a
  // full window instead of OH*OW. Beyond a quarter more work (a 'valid'
  // 3x3 conv on a 13x13 image: 1.4x) GEMM + col2im wins (measured).
  return g.pt >= 0 && g.pb >= 0 && g.pl >= 0 && g.pr >= 0 && s.h * s.w >= kMinPixels &&
         4 * s.h * s.w <= 5 * s.oh * s.ow && usable(g);
}

const ImplicitTiles& implicit_tiles() {
#if defined(PYCNN_X86)
  if (active_isa() == Isa::kAvx512) return implicit_tiles_avx512();
  if (active_isa() == Isa::kAvx2) return implicit_tiles_avx2();
#endif
  return implicit_tiles_portable();
}

void implicit_forward(float* y, const float* x, const float* weight, const float* bias,
                      const ImplicitConv& g, const ActivationSpec& act) {
  const int64_t K = g.k, wp = padded_w(g), P = g.kh * g.kw * g.c;
  const int fused = act.kind == Activation::kRelu ? 1 : act.kind == Activation::kLeakyRelu ? 2 : 0;
  const bool post = act.kind != Activation::kNone && fused == 0;
  const int64_t max_seg = g.kh * g.kw + 2;
  const ImplicitTiles& tiles = implicit_tiles();
  parallel_for(g.n, 1, [&](int64_t n0, int64_t n1) {
    std::vector<int64_t> seg(size_t(2 * max_seg));
    for (int64_t n = n0; n < n1; ++n) {
      const float* img = padded_image(x, g, n);
      float* yn = y + n * g.oh * g.ow * K;
      for (int64_t k0 = 0; k0 < K; k0 += tiles.block_channels()) {
        const int nv = tiles.block_vectors(k0, K), mr_max = tiles.tile_rows(nv);
        const TilePlan plan = plan_tiles(g, mr_max);
        float* out = plan.virtual_rows ? thread_scratch(kScratchMisc).floats(size_t(plan.rows * K)) : yn;
        // Weight rows in balanced chunks of at most kWeightChunkFloats (L1).
        const int64_t chunks = (P * 16 * nv + kWeightChunkFloats - 1) / kWeightChunkFloats;
        for (int64_t ci = 0; ci < chunks; ++ci) {
          const int64_t p0 = P * ci / chunks, p1 = P * (ci + 1) / chunks;
          const int nseg = segments(seg.data(), seg.data() + max_seg, g, p0, p1);
          const float* w = weight + p0 * K + k0;
          const bool accumulate = ci > 0, last = ci + 1 == chunks;
          for (int64_t line = 0; line < plan.lines; ++line)
            for (int64_t ti = 0; ti < plan.tiles; ++ti) {
              const int64_t r0 = plan.rows * ti / plan.tiles;
              const int mr = int(plan.rows * (ti + 1) / plan.tiles - r0);
              // Row line*rows + r0 of `out`; its window origin in the padded image.
              const int64_t origin = plan.virtual_rows ? r0 : line * g.sh * wp + r0 * g.sw;
              tiles.forward(mr, nv, out + (line * plan.rows + r0) * K + k0, K, img + origin * g.c, g.sw * g.c,
                            seg.data(), seg.data() + max_seg, nseg, w, K, accumulate, last,
                            bias ? bias + k0 : nullptr, fused, act.alpha);
            }
        }
        if (plan.virtual_rows) {
          // Output row oh is scratch rows oh*Wp .. oh*Wp + OW - 1: one copy
          // per row when this block is every channel (a call per pixel cost
          // ~10 % of a 16-channel d-input).
          const int64_t width = 16 * nv;
          for (int64_t oh = 0; oh < g.oh; ++oh) {
            float* dst = yn + oh * g.ow * K + k0;
            const float* src = out + oh * wp * K + k0;
            if (width == K) {
              std::memcpy(dst, src, sizeof(float) * g.ow * K);
              continue;
            }
            for (int64_t ow = 0; ow < g.ow; ++ow) std::memcpy(dst + ow * K, src + ow * K, sizeof(float) * width);
          }
        }
      }
      if (post) activate_inplace(yn, g.oh * g.ow * K, act);
    }
  });
}

void implicit_backward_input(float* dx, const float* dy, const float* weight, const Conv2dShape& s) {
  // wt[i', j', k, c] = weight[KH-1-i', KW-1-j', c, k]: the flipped, transposed weight.
  const int64_t C = s.c, K = s.k, taps = s.kh * s.kw;
  float* wt = thread_scratch(kScratchPartial).floats(size_t(taps * C * K));
  for (int64_t t = 0; t < taps; ++t) {
    const float* src = weight + (taps - 1 - t) * C * K;
    float* dst = wt + t * K * C;
    for (int64_t c = 0; c < C; ++c)
      for (int64_t k = 0; k < K; ++k) dst[k * C + c] = src[c * K + k];
  }
  implicit_forward(dx, dy, wt, nullptr, implicit_input_geometry(s), ActivationSpec{});
}

void implicit_backward_weight(float* dweight, const float* dy, const float* x, const ImplicitConv& g) {
  const int64_t K = g.k, C = g.c, wp = padded_w(g), wsize = g.kh * g.kw * C * K;
  // Fixed image chunks (about 8, a function of N alone), one partial each.
  FixedChunks chunks = fixed_chunks(g.n, (g.n + 7) / 8);
  float* partial = chunks.count > 1 ? thread_scratch(kScratchPartial).floats(size_t((chunks.count - 1) * wsize))
                                    : nullptr;
  // Rows of dweight per window-row (or tap) run: contiguous in the image.
  const int64_t run = g.dw == 1 ? g.kw * C : C, runs_per_row = g.dw == 1 ? 1 : g.kw;
  const ImplicitTiles& tiles = implicit_tiles();
  parallel_for_chunks(chunks.count, [&](int64_t ci) {
    float* out = ci == 0 ? dweight : partial + (ci - 1) * wsize;
    for (int64_t n = chunks.begin(ci); n < chunks.end(ci); ++n) {
      const float* img = padded_image(x, g, n);
      const float* dyn = dy + n * g.oh * g.ow * K;
      const bool accumulate = n > chunks.begin(ci);
      for (int64_t i = 0; i < g.kh; ++i)
        for (int64_t jr = 0; jr < runs_per_row; ++jr) {
          const float* xr = img + (i * g.dh * wp + jr * g.dw) * C;
          float* dwr = out + ((i * g.kw + jr) * C) * K;
          for (int64_t k0 = 0; k0 < K; k0 += tiles.block_channels()) {
            const int nv = tiles.block_vectors(k0, K), mr_max = tiles.tile_rows(nv);
            for (int64_t p0 = 0; p0 < run; p0 += mr_max) {
              const int mr = int(std::min<int64_t>(mr_max, run - p0));
              tiles.weight(mr, nv, dwr + p0 * K + k0, K, xr + p0, g.sh * wp * C, g.sw * C, dyn + k0, g.ow * K, K,
                           g.oh, g.ow, accumulate);
            }
          }
        }
    }
  });
  add_partials(dweight, partial, chunks.count - 1, wsize);
}

}  // namespace pycnn
