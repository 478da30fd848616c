// winograd.cpp — drivers of the F(2x2, 3x3) and F(4x4, 3x3) convolutions
// and of the stride-2 schemes (see winograd.h): weight transforms, tile
// chunks, threads; the tile transforms are per ISA (winograd_tiles_impl.h) and
// the 16 (36, 25, 81) GEMMs per chunk run on the implicit path's register
// tiles.
//
// A chunk of T tiles keeps V (P*T*C floats, P points) and M or D (P*T*K)
// in L2, and each GEMM's U_xi block (C x 64 floats) in L1 while the tile
// rows pass.
#include "conv2d/winograd.h"

#include <algorithm>
#include <stdexcept>

#include "common/cpu_features.h"
#include "common/parallel.h"
#include "common/workspace.h"
#include "conv2d/direct.h"

namespace pycnn {
namespace {

constexpr int64_t kPoints = 16;                        // transform points per tile, F(2x2, 3x3)
constexpr int64_t kStridedPoints = 25;                 // at stride 2
constexpr int64_t kF43Points = 36;                     // F(4x4, 3x3)
constexpr int64_t kStridedWidePoints = 81;             // the wide stride-2 forward
constexpr int64_t kChunkFloats = int64_t(1) << 17;     // V + M of one chunk (512 KiB)
constexpr int64_t kMaxWeightFloats = int64_t(1) << 22;  // transformed weight (16 MiB)
// The wide stride-2 forward's transformed weight (81*C*K floats), at most
// 512 KiB, so that it stays in L2 beside a chunk's V and M. Zen 4, in-process
// A/B against the 25-point scheme: C = K = 32 (324 KiB) 7-13 % faster at 1
// thread, 7-8 % at 2. C = K = 64 (1.3 MiB, read from L3 every chunk): 4 %
// faster at 1 thread, the same at 2, and 25-30 % slower at 2 when other
// processes load the host.
constexpr int64_t kMaxWideWeightFloats = int64_t(1) << 17;
// d-weight chunks: the tiles are the GEMMs' reduction, whose partial sums go
// through memory once per chunk; from 72 tiles on the 36- and 25-point
// schemes run 3-9 % faster (cifar conv4 1.46 -> 1.34 ms, mnist conv2 1.34 ->
// 1.26), though V and D of a chunk then exceed kChunkFloats (1 MiB at most
// on the seed layers).
constexpr int64_t kMinWeightChunk = 72;
// Below these the implicit path is faster (measured on the seed layers): on
// images under 8x8 the phantom outputs of odd sizes are a large share (a
// 'valid' 5x5 input: 16 outputs computed for 9). A 16-channel reduction
// leaves each GEMM tile mostly loads and stores: slower than the implicit
// path on an Intel Xeon (face conv2 + pool 31 -> 43 ms per 128 images), 1.35x
// faster on an AMD Zen 4, whose 512-bit FMAs run at half the Xeon's rate.
constexpr int64_t kMinPixels = 64;
int64_t min_reduction() { return cpu_features().amd ? 16 : 32; }

// The scheme of `stride` (1: 16 points, 2: 25) fits g; `min_reduction`: the
// fewest input channels worth a GEMM per transform point.
bool geometry_fits(const ImplicitConv& g, int64_t stride, int64_t min_reduction) {
  const int64_t points = stride == 1 ? kPoints : kStridedPoints;
  return g.kh == 3 && g.kw == 3 && g.sh == stride && g.sw == stride && g.dh == 1 && g.dw == 1 && g.pt >= 0 &&
         g.pb >= 0 && g.pl >= 0 && g.pr >= 0 && g.c % 16 == 0 && g.k % 16 == 0 &&
         points * g.c * g.k <= kMaxWeightFloats && g.c >= min_reduction && g.oh * g.ow >= kMinPixels;
}

bool shape_fits(const Conv2dShape& s) { return s.groups == 1 && !s.direct() && !s.pointwise(); }

bool strided(const Conv2dShape& s) { return s.sh == 2; }

// F(4x4, 3x3) instead of F(2x2, 3x3) for a stride-1 problem g (the forward,
// or the d-input's own geometry): 2.25 instead of 4 products per output.
// Faster on every seed layer F(2x2, 3x3) took, phantom outputs included
// (Zen 4: forward 1.5-1.7x, d-input 1.15-1.55x, d-weight 1.4-1.5x); not
// measured on an Intel CPU, where it follows F(2x2, 3x3)'s threshold.
bool f43_fits(const ImplicitConv& g) {
  return g.c >= min_reduction() && kF43Points * g.c * g.k <= kMaxWeightFloats;
}

bool f43(const Conv2dShape& s) { return !strided(s) && f43_fits(implicit_forward_geometry(s)); }

// Tile t of the batch: image n, output rows oh .. oh + size - 1 (rows of
// them inside the output) and columns ow .. (cols inside).
struct Tile {
  int64_t n, oh, ow;
  int rows, cols;
};

// The tiles of the output: size x size each, TH x TW per image, numbered
// image by image, row by row.
struct Tiling {
  int64_t oh, ow, size, th, tw;
  int64_t per_image() const { return th * tw; }
  // body(i, tile) for tiles t0 .. t0 + count - 1, in order: one division
  // for the first, then a step (two divisions a tile took 1.3 % of cifar
  // conv2 forward's instructions).
  template <typename Body>
  void walk(int64_t t0, int64_t count, Body&& body) const {
    int64_t n = t0 / per_image(), r = (t0 % per_image()) / tw, c = t0 % tw;
    for (int64_t i = 0; i < count; ++i) {
      body(i, Tile{n, size * r, size * c, int(std::min(size, oh - size * r)), int(std::min(size, ow - size * c))});
      if (++c == tw) {
        c = 0;
        if (++r == th) r = 0, ++n;
      }
    }
  }
};

Tiling tiling(const ImplicitConv& g, int64_t size) {
  return {g.oh, g.ow, size, (g.oh + size - 1) / size, (g.ow + size - 1) / size};
}

// One scheme: its points per axis and tile, its stride (the patch of the
// tile at output (oh, ow) starts at input (stride*oh - pt, stride*ow - pl)),
// its output tile edge, its weight transform G and its tile transforms.
struct Scheme {
  int64_t axis, points, stride, tile;  // points = axis^2
  const float* g;                      // G (axis x 3): U = G g G^T
  WinogradTransforms WinogradTiles::*transforms;  // its entry in each ISA's table
  int64_t forward_chunk = 0;  // tiles per forward chunk, or 0: chunk_tiles()
  // Where A repeats values (the stride-2 scheme), the gradient transform
  // writes only the grad_axis distinct ones per axis: value grad_of[i] for
  // index i. nullptr: all `axis` of them.
  int64_t grad_axis = 0;
  const int* grad_of = nullptr;
};

// The D plane that point xi reads, and the planes a gradient chunk holds.
int64_t grad_plane(const Scheme& s, int64_t xi) {
  return s.grad_of ? s.grad_of[xi / s.axis] * s.grad_axis + s.grad_of[xi % s.axis] : xi;
}
int64_t grad_planes(const Scheme& s) { return s.grad_of ? s.grad_axis * s.grad_axis : s.points; }

const WinogradTiles& winograd_tiles() {
#if defined(PYCNN_X86)
  if (active_isa() == Isa::kAvx512) return winograd_tiles_avx512();
  if (active_isa() == Isa::kAvx2) return winograd_tiles_avx2();
#endif
  return winograd_tiles_portable();
}

const WinogradTransforms& transforms_of(const Scheme& scheme) { return winograd_tiles().*scheme.transforms; }

// Tiles per chunk: V and M of the chunk within kChunkFloats, a multiple of
// 24 (whole register tiles of 3, 6, 8 and 12 rows). A function of the shape.
int64_t chunk_tiles(int64_t points, int64_t C, int64_t K) {
  return std::max<int64_t>(24, kChunkFloats / (points * (C + K)) / 24 * 24);
}

// The wide stride-2 forward's chunks (Scheme::forward_chunk): 12 tiles,
// whose V and M (249 KiB at C = K = 32) leave L2 room for its 81-point
// weight. cifar conv2, in-process A/B: 1-4 % faster than 24 tiles (the rule
// above), 2-4 % faster than 6.
constexpr int64_t kWideChunkTiles = 12;

// Elements of a sandwich pass: the block's planes of `in`, `mid` and `out`
// stay in L1. A thread's range is at least kSandwichGrain elements: at C = K
// = 32 (1024 elements) the wide stride-2 forward's transform, serial, took
// 17 us of a 0.7 ms call at 1 thread and 43 us at 2, most of it in the
// stores to `out`, whose lines the other core's GEMMs had just read.
constexpr int64_t kSandwichBlock = 128;
constexpr int64_t kSandwichGrain = 256;
constexpr int kMaxSandwichPlanes = 27;  // n_out * n_in: 9 x 3 (the wide scheme)

// out[p][q] = sum over i, j of L[p][i] * L[q][j] * in[i][j] for planes of CK
// floats (plane (i, j) of `in` at in + (i*n_in + j)*CK, likewise `out`),
// with L = coef (n_out x n_in) or, `transposed`, coef^T (coef n_in x n_out):
// L along i first, then along j, each a contiguous pass per plane and nonzero
// coefficient over a block of elements. The planes lie C*K floats apart: a
// loop over elements touching all of them at once crawled through 4 KiB-
// aliased cache sets (0.29 ms of a 1.6 ms call, stride-2 forward).
void sandwich(float* out, const float* in, const float* coef, int n_out, int n_in, bool transposed, int64_t CK) {
  if (n_out * n_in > kMaxSandwichPlanes) throw std::logic_error("sandwich: a scheme wider than 9 points");
  const auto L = [&](int p, int i) { return transposed ? coef[i * n_out + p] : coef[p * n_in + i]; };
  // dst = sum over i of L(p, i) * src(i), each term one pass over len
  // elements; the first term is stored, not added to zeros (the zero fills
  // took 45 % of the transform in a profile of an 81-point scheme).
  const auto combine = [&](float* dst, int64_t len, int p, auto&& src) {
    bool first = true;
    for (int i = 0; i < n_in; ++i) {
      const float c = L(p, i);
      if (c == 0.f) continue;
      const float* from = src(i);
      if (first) {
        for (int64_t e = 0; e < len; ++e) dst[e] = c * from[e];
      } else {
        for (int64_t e = 0; e < len; ++e) dst[e] += c * from[e];
      }
      first = false;
    }
    if (first) std::fill(dst, dst + len, 0.f);
  };
  parallel_for(CK, kSandwichGrain, [&](int64_t e0, int64_t e1) {
    float mid[kMaxSandwichPlanes * kSandwichBlock];  // mid[p][j] = sum_i L[p][i] in[i][j], one block
    for (int64_t b0 = e0; b0 < e1; b0 += kSandwichBlock) {
      const int64_t len = std::min(kSandwichBlock, e1 - b0);
      for (int p = 0; p < n_out; ++p)
        for (int j = 0; j < n_in; ++j)
          combine(mid + (p * n_in + j) * len, len, p, [&](int i) { return in + (i * n_in + j) * CK + b0; });
      for (int p = 0; p < n_out; ++p)
        for (int q = 0; q < n_out; ++q)
          combine(out + (p * n_out + q) * CK + b0, len, q, [&](int j) { return mid + (p * n_in + j) * len; });
    }
  });
}

// U_xi = G g G^T per (c, k) into u[(xi*C + c)*K + k], from the weight
// (3, 3, C, K): weight[(tap*C + c)*K + k].
void transform_weight(float* u, const float* weight, int64_t C, int64_t K, const Scheme& scheme) {
  sandwich(u, weight, scheme.g, int(scheme.axis), 3, false, C * K);
}

// dweight = G^T S G per (c, k) from S = du_xi[(xi*C + c)*K + k] (the adjoint).
void inverse_weight(float* dweight, const float* du, int64_t C, int64_t K, const Scheme& scheme) {
  sandwich(dweight, du, scheme.g, 3, int(scheme.axis), true, C * K);
}

// The weight of a d-input problem, C and K swapped, taps flipped (stride 1:
// the forward of dy) or not (stride 2, whose adjoint scheme takes them as
// they are): swapped[(tap'*K + k)*C + c] = weight[(tap*C + c)*K + k].
void swap_weight(float* swapped, const float* weight, int64_t C, int64_t K, bool flip) {
  parallel_for(9 * C, 8, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t tap = r / C, c = r % C, to = flip ? 8 - tap : tap;
      for (int64_t k = 0; k < K; ++k) swapped[(to * K + k) * C + c] = weight[r * K + k];
    }
  });
}

// G of each scheme (winograd.h): F(2x2, 3x3), the stride-2 scheme
// (w0, w0 + w2, w2, w1, w1) and F(4x4, 3x3) (points 0, 1, -1, 2, -2, inf).
constexpr float kG22[4 * 3] = {1, 0, 0, 0.5f, 0.5f, 0.5f, 0.5f, -0.5f, 0.5f, 0, 0, 1};
constexpr float kGStrided[5 * 3] = {1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0};
// The wide stride-2 scheme: F(4, 2)'s G (points 0, 1, -1, 2, inf, rows
// scaled as its B^T) on (w0, w2), then w1 for each odd product.
constexpr float kGStridedWide[9 * 3] = {0.5f, 0, 0, 0.5f, 0, 0.5f, 1.f / 6, 0, -1.f / 6, 1.f / 6, 0, 1.f / 3, 0, 0, 1,
                                        0,    1, 0, 0,    1, 0,    0,       1, 0,        0,       1, 0};
constexpr float kG43[6 * 3] = {1.f / 4, 0, 0, -1.f / 6, -1.f / 6, -1.f / 6, -1.f / 6, 1.f / 6, -1.f / 6,
                               1.f / 24, 1.f / 12, 1.f / 6, 1.f / 24, -1.f / 12, 1.f / 6, 0, 0, 1};

// Input transforms of tiles [t0, t0 + count) into v (V_xi at v + xi*count*C).
void transform_inputs(float* v, const float* x, const ImplicitConv& g, const Tiling& tl, int64_t t0, int64_t count,
                      const Scheme& scheme) {
  const WinogradTransforms::Input input = transforms_of(scheme).input;
  tl.walk(t0, count, [&](int64_t t, const Tile& tile) {
    input(v + t * g.c, count * g.c, x + tile.n * g.h * g.w * g.c, g.h, g.w, g.c, scheme.stride * tile.oh - g.pt,
          scheme.stride * tile.ow - g.pl);
  });
}

constexpr Scheme kStride1{4, kPoints, 1, 2, kG22, &WinogradTiles::f22};
// A e = (e0, e0 + e1, e1, e0, e1) at stride 2: three distinct values.
constexpr int kStridedGradOf[5] = {0, 1, 2, 0, 2};
constexpr Scheme kStride2{5, kStridedPoints, 2, 2, kGStrided, &WinogradTiles::strided, 0, 3, kStridedGradOf};
constexpr Scheme kF43{6, kF43Points, 1, 4, kG43, &WinogradTiles::f43};
constexpr Scheme kStride2Wide{9, kStridedWidePoints, 2, 4, kGStridedWide, &WinogradTiles::strided_wide,
                              kWideChunkTiles};

// The d-weight's scheme, and the forward's unless forward_scheme widens it.
const Scheme& scheme_of(const Conv2dShape& s) { return strided(s) ? kStride2 : f43(s) ? kF43 : kStride1; }

// The forward's scheme: at stride 2 the wide one where its weight is small
// enough to pay (kMaxWideWeightFloats); d-input and d-weight keep the
// 25-point scheme (see winograd.h).
bool strided_wide(const Conv2dShape& s) {
  return strided(s) && kStridedWidePoints * s.c * s.k <= kMaxWideWeightFloats;
}
const Scheme& forward_scheme(const Conv2dShape& s) { return strided_wide(s) ? kStride2Wide : scheme_of(s); }

// Output-gradient transforms of tiles [t0, t0 + count) into d (plane p at
// d + p*count*K; point xi reads plane grad_plane(scheme, xi)).
void transform_grads(float* d, const float* dy, const ImplicitConv& g, const Tiling& tl, int64_t t0, int64_t count,
                     const Scheme& scheme) {
  const WinogradTransforms::Grad grad = transforms_of(scheme).grad;
  tl.walk(t0, count, [&](int64_t t, const Tile& tile) {
    grad(d + t * g.k, count * g.k, dy + ((tile.n * g.oh + tile.oh) * g.ow + tile.ow) * g.k, g.ow * g.k, tile.rows,
         tile.cols, g.k);
  });
}

// The GEMMs of a chunk of `count` tiles, one per transform point:
// out_xi[count, width] = a_xi[count, depth] · u_xi[depth, width], with
// out_xi at out + xi*count*width, a_xi at a + xi*count*depth (or, with
// `grad`, the gradient planes of that scheme: a_xi at a + grad_plane(*grad,
// xi)*count*depth), u_xi at u + xi*depth*width.
void point_gemms(float* out, const float* a, const float* u, int64_t points, int64_t count, int64_t depth,
                 int64_t width, const Scheme* grad = nullptr) {
  const int64_t seg = 0, seglen = depth;
  const ImplicitTiles& tiles = implicit_tiles();
  for (int64_t xi = 0; xi < points; ++xi)
    for (int64_t w0 = 0; w0 < width; w0 += tiles.block_channels()) {
      const int nv = tiles.block_vectors(w0, width), mr_max = tiles.tile_rows(nv);
      const int64_t row_tiles = (count + mr_max - 1) / mr_max;
      for (int64_t ti = 0; ti < row_tiles; ++ti) {
        const int64_t r0 = count * ti / row_tiles;
        const int mr = int(count * (ti + 1) / row_tiles - r0);
        const int64_t plane = grad ? grad_plane(*grad, xi) : xi;
        tiles.forward(mr, nv, out + (xi * count + r0) * width + w0, width, a + (plane * count + r0) * depth, depth,
                      &seg, &seglen, 1, u + xi * depth * width + w0, width, false, false, nullptr, 0, 0.f);
      }
    }
}

void forward_geometry(float* y, const float* x, const float* u, const float* bias, const ImplicitConv& g,
                      const ActivationSpec& act, const Scheme& scheme) {
  const int64_t C = g.c, K = g.k, points = scheme.points;
  const Tiling tl = tiling(g, scheme.tile);
  const int fused = act.kind == Activation::kRelu ? 1 : act.kind == Activation::kLeakyRelu ? 2 : 0;
  const WinogradTransforms::Output output = transforms_of(scheme).output;
  // Each tile's outputs are its own: any partition gives the same bits (the
  // chunks need not be whole register tiles: point_gemms splits any count).
  const int64_t per_chunk = scheme.forward_chunk ? scheme.forward_chunk : chunk_tiles(points, C, K);
  const EvenChunks chunks = even_chunks(g.n * tl.per_image(), per_chunk);
  parallel_for_chunks(chunks.count, [&](int64_t ci) {
    const int64_t t0 = chunks.begin(ci), count = chunks.end(ci) - t0;
    float* v = thread_scratch(kScratchIm2col).floats(size_t(points * count * C));
    float* m = thread_scratch(kScratchMisc).floats(size_t(points * count * K));
    transform_inputs(v, x, g, tl, t0, count, scheme);
    point_gemms(m, v, u, points, count, C, K);  // M_xi = V_xi · U_xi
    tl.walk(t0, count, [&](int64_t t, const Tile& tile) {
      output(y + ((tile.n * g.oh + tile.oh) * g.ow + tile.ow) * K, g.ow * K, tile.rows, tile.cols, m + t * K,
             count * K, K, bias, fused, act.alpha);
    });
  });
  if (act.kind != Activation::kNone && fused == 0)
    parallel_for(g.n * g.oh * g.ow * K, kSerialElementwise,
                 [&](int64_t e0, int64_t e1) { activate_inplace(y + e0, e1 - e0, act); });
}

}  // namespace

bool winograd_forward_applies(const Conv2dShape& s) {
  const ImplicitConv g = implicit_forward_geometry(s);
  return shape_fits(s) && (geometry_fits(g, 1, min_reduction()) || geometry_fits(g, 2, 32));
}

bool winograd_input_applies(const Conv2dShape& s) {
  // implicit_input_geometry is the d-input problem only at stride 1; at
  // stride 2 the adjoint of the forward scheme reduces over K, and its
  // transforms (25 points scattered into dx per tile) pay from K = 64 on
  // (cifar conv4, K = 64: 1.41 -> 1.28 ms; conv2, K = 32: 1.50 -> 1.69 ms,
  // so the phase decomposition keeps it).
  if (!shape_fits(s)) return false;
  if (s.sh == 2) {
    const ImplicitConv g = implicit_forward_geometry(s);
    return geometry_fits(g, 2, 16) && g.k >= 64;
  }
  return s.sh == 1 && s.sw == 1 && geometry_fits(implicit_input_geometry(s), 1, min_reduction());
}

// d-weight sums over tiles, not channels: a 16-channel input is fine here.
bool winograd_weight_applies(const Conv2dShape& s) {
  const ImplicitConv g = implicit_forward_geometry(s);
  return shape_fits(s) && (geometry_fits(g, 1, 16) || geometry_fits(g, 2, 16));
}

int64_t winograd_weight_floats(const Conv2dShape& s) { return forward_scheme(s).points * s.c * s.k; }

void winograd_transform_weight(float* u, const float* weight, const Conv2dShape& s) {
  transform_weight(u, weight, s.c, s.k, forward_scheme(s));
}

void winograd_forward_transformed(float* y, const float* x, const float* u, const float* bias, const Conv2dShape& s,
                                  const ActivationSpec& act) {
  forward_geometry(y, x, u, bias, implicit_forward_geometry(s), act, forward_scheme(s));
}

void winograd_forward(float* y, const float* x, const float* weight, const float* bias, const Conv2dShape& s,
                      const ActivationSpec& act) {
  float* u = thread_scratch(kScratchWinograd).floats(size_t(winograd_weight_floats(s)));
  winograd_transform_weight(u, weight, s);
  winograd_forward_transformed(y, x, u, bias, s, act);
}

namespace {

// The stride-2 d-input (winograd.h): image chunks, so that the patches one
// thread adds into never meet another thread's.
void strided_input_geometry(float* dx, const float* dy, const float* weight, const Conv2dShape& s) {
  const ImplicitConv g = implicit_forward_geometry(s);
  const int64_t C = g.c, K = g.k, CK = C * K, image = g.h * g.w * C;
  // U_xi^T: the scheme's weight transform of the weight with C and K swapped.
  float* u = thread_scratch(kScratchWinograd).floats(size_t(kStridedPoints * CK + 9 * CK));
  float* swapped = u + kStridedPoints * CK;
  swap_weight(swapped, weight, C, K, false);
  transform_weight(u, swapped, K, C, kStride2);
  const Tiling tl = tiling(g, kStride2.tile);
  const int64_t per_chunk = chunk_tiles(kStridedPoints, K, C);
  const FixedChunks images = fixed_chunks(g.n, std::max<int64_t>(1, per_chunk / tl.per_image()));
  const auto adjoint = winograd_tiles().strided_input_adjoint;
  parallel_for_chunks(images.count, [&](int64_t ci) {
    std::fill(dx + images.begin(ci) * image, dx + images.end(ci) * image, 0.f);
    const int64_t last = images.end(ci) * tl.per_image();
    for (int64_t t0 = images.begin(ci) * tl.per_image(); t0 < last; t0 += per_chunk) {
      const int64_t count = std::min(per_chunk, last - t0);
      float* d = thread_scratch(kScratchIm2col).floats(size_t(grad_planes(kStride2) * count * K));
      float* m = thread_scratch(kScratchMisc).floats(size_t(kStridedPoints * count * C));
      transform_grads(d, dy, g, tl, t0, count, kStride2);
      point_gemms(m, d, u, kStridedPoints, count, K, C, &kStride2);  // M_xi = D_xi · U_xi^T
      tl.walk(t0, count, [&](int64_t t, const Tile& tile) {
        adjoint(dx + tile.n * image, g.h, g.w, C, 2 * tile.oh - g.pt, 2 * tile.ow - g.pl, m + t * C, count * C);
      });
    }
  });
}

}  // namespace

void winograd_backward_input(float* dx, const float* dy, const float* weight, const Conv2dShape& s) {
  if (strided(s)) return strided_input_geometry(dx, dy, weight, s);
  // The forward of dy with the flipped weight, C and K swapped.
  const ImplicitConv g = implicit_input_geometry(s);
  const Scheme& scheme = f43_fits(g) ? kF43 : kStride1;
  const int64_t CK = s.c * s.k;
  float* u = thread_scratch(kScratchWinograd).floats(size_t(scheme.points * CK + 9 * CK));
  float* swapped = u + scheme.points * CK;
  swap_weight(swapped, weight, s.c, s.k, true);
  transform_weight(u, swapped, s.k, s.c, scheme);
  forward_geometry(dx, dy, u, nullptr, g, ActivationSpec{}, scheme);
}

void winograd_backward_weight(float* dweight, const float* dy, const float* x, const Conv2dShape& s) {
  const ImplicitConv g = implicit_forward_geometry(s);
  const Scheme& scheme = scheme_of(s);
  const int64_t C = g.c, K = g.k, points = scheme.points, usize = points * C * K;
  const Tiling tl = tiling(g, scheme.tile);
  // Fixed image chunks (about 8, a function of N alone), one transformed
  // partial each, summed in chunk order.
  const FixedChunks images = fixed_chunks(g.n, (g.n + 7) / 8);
  float* du = thread_scratch(kScratchPartial).floats(size_t(images.count * usize));
  const int64_t per_chunk = std::max<int64_t>(kMinWeightChunk, chunk_tiles(points, C, K));
  const ImplicitTiles& tiles = implicit_tiles();
  parallel_for_chunks(images.count, [&](int64_t ci) {
    float* out = du + ci * usize;
    const int64_t first = images.begin(ci) * tl.per_image(), last = images.end(ci) * tl.per_image();
    for (int64_t t0 = first; t0 < last; t0 += per_chunk) {
      const int64_t count = std::min(per_chunk, last - t0);
      float* v = thread_scratch(kScratchIm2col).floats(size_t(points * count * C));
      float* d = thread_scratch(kScratchMisc).floats(size_t(grad_planes(scheme) * count * K));
      transform_inputs(v, x, g, tl, t0, count, scheme);
      transform_grads(d, dy, g, tl, t0, count, scheme);
      const bool accumulate = t0 > first;
      for (int64_t xi = 0; xi < points; ++xi)
        for (int64_t k0 = 0; k0 < K; k0 += tiles.block_channels()) {
          const int nv = tiles.block_vectors(k0, K), mr_max = tiles.tile_rows(nv);
          for (int64_t c0 = 0; c0 < C; c0 += mr_max) {
            const int mr = int(std::min<int64_t>(mr_max, C - c0));
            // dU_xi[c0.., k0..] (+)= V_xi[tiles, c0..]^T · D_xi[tiles, k0..]
            tiles.weight(mr, nv, out + (xi * C + c0) * K + k0, K, v + xi * count * C + c0, 0, C,
                         d + grad_plane(scheme, xi) * count * K + k0, 0, K, 1, count, accumulate);
          }
        }
    }
  });
  add_partials(du, du + usize, images.count - 1, usize);
  inverse_weight(dweight, du, C, K, scheme);
}

}  // namespace pycnn
