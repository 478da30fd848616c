// strided_forward.cpp — a stride-2 forward over the row phases of its input
// (see strided.h): the weight's window rows reordered once per call (even
// rows, then odd), then per image two row-phase copies of the padded input
// (even and odd rows), tiles of MR consecutive "virtual" pixels (Wp/2 per
// output row; the Wp/2 - OW extra ones are computed into scratch and
// dropped) and the weight in L1-sized chunks of whole window rows.
//
// Against the stride-2 implicit forward, whose tiles stay inside an output
// row (8 + 8 pixels for a 16-wide output) because consecutive rows of the
// padded image are 2 input rows apart, the tiles are full (12 pixels for 32
// channels), so more accumulators share each weight load.
#include <algorithm>
#include <cstring>

#include "common/parallel.h"
#include "common/workspace.h"
#include "conv2d/direct.h"
#include "conv2d/implicit.h"
#include "conv2d/strided.h"

namespace pycnn {
namespace {

constexpr int64_t kMinPixels = 64;              // per image, as the implicit forward
constexpr int64_t kWeightChunkFloats = 10240;  // weight floats per chunk: 40 KiB, L1

// Row-phase image ph: padded rows 2a + ph for a < Hq (output row oh reads
// rows oh .. oh + U(0) - 1), Wp columns, Wp even so that a pixel's window
// origin 2*ow*C plus oh*Wp*C is (oh*Wp/2 + ow)*2C: one lda (2C) for every
// virtual pixel r = oh*(Wp/2) + ow.
int64_t phase_h(const Conv2dShape& s) { return s.oh + phase_taps(s.kh, 0) - 1; }
int64_t padded_w(const Conv2dShape& s) {
  const int64_t need = std::max(2 * (s.ow - 1) + s.kw, s.pad_left + s.w);
  return (need + 1) / 2 * 2;
}

// Row phase ph of image n: row a is x row 2a + ph - pt between pad_left
// zero columns and zeros up to Wp (all zeros outside x).
void row_phase_image(float* q, const float* x, const Conv2dShape& s, int64_t n, int64_t ph) {
  const int64_t C = s.c, hq = phase_h(s), wp = padded_w(s), row = wp * C;
  for (int64_t a = 0; a < hq; ++a) {
    float* dst = q + a * row;
    const int64_t ih = 2 * a + ph - s.pad_top;
    if (ih < 0 || ih >= s.h) {
      std::memset(dst, 0, sizeof(float) * size_t(row));
      continue;
    }
    std::memset(dst, 0, sizeof(float) * size_t(s.pad_left * C));
    std::memcpy(dst + s.pad_left * C, x + (n * s.h + ih) * s.w * C, sizeof(float) * size_t(s.w * C));
    std::memset(dst + (s.pad_left + s.w) * C, 0, sizeof(float) * size_t((wp - s.pad_left - s.w) * C));
  }
}

}  // namespace

bool strided_forward_applies(const Conv2dShape& s) {
  if (!strided_shape_fits(s) || s.k % 16 != 0 || s.oh * s.ow < kMinPixels) return false;
  const int64_t image = 2 * phase_h(s) * padded_w(s) * s.c, out = phase_h(s) * padded_w(s) / 2 * s.k;
  return image <= kStridedMaxImageFloats && out <= kStridedMaxImageFloats;
}

void strided_forward(float* y, const float* x, const float* weight, const float* bias, const Conv2dShape& s,
                     const ActivationSpec& act) {
  const int64_t C = s.c, K = s.k, wp = padded_w(s), wv = wp / 2, phase_floats = phase_h(s) * wp * C;
  // Segments in (ph, u) order: window row ph + 2u is KW*C floats at u*Wp*C in
  // row-phase image ph; the weight's window rows are gathered in that order.
  const int64_t run = s.kw * C;
  int64_t seg[kStridedMaxWindow], seglen[kStridedMaxWindow];
  int nseg = 0;
  float* sub = thread_scratch(kScratchPartial).floats(size_t(s.kh * run * K));
  for (int64_t ph = 0; ph < 2; ++ph)
    for (int64_t u = 0; u < phase_taps(s.kh, ph); ++u, ++nseg) {
      seg[nseg] = ph * phase_floats + u * wp * C;
      seglen[nseg] = run;
      std::memcpy(sub + nseg * run * K, weight + (ph + 2 * u) * run * K, sizeof(float) * size_t(run * K));
    }
  const int fused = act.kind == Activation::kRelu ? 1 : act.kind == Activation::kLeakyRelu ? 2 : 0;
  const int64_t virtual_rows = (s.oh - 1) * wv + s.ow;
  const ImplicitTiles& tiles = implicit_tiles();
  parallel_for(s.n, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      float* q = thread_scratch(kScratchIm2col).floats(size_t(2 * phase_floats));
      row_phase_image(q, x, s, n, 0);
      row_phase_image(q + phase_floats, x, s, n, 1);
      float* out = thread_scratch(kScratchMisc).floats(size_t(virtual_rows * K));
      for (int64_t k0 = 0; k0 < K; k0 += tiles.block_channels()) {
        const int nv = tiles.block_vectors(k0, K), mr_max = tiles.tile_rows(nv);
        const int64_t row_tiles = (virtual_rows + mr_max - 1) / mr_max;
        // Chunks of whole window rows, each at most kWeightChunkFloats of
        // weight (or one window row).
        for (int t0 = 0; t0 < nseg;) {
          int t1 = t0 + 1;
          while (t1 < nseg && (t1 + 1 - t0) * run * 16 * nv <= kWeightChunkFloats) ++t1;
          const bool first = t0 == 0, last = t1 == nseg;
          for (int64_t ti = 0; ti < row_tiles; ++ti) {
            const int64_t r0 = virtual_rows * ti / row_tiles;
            const int mr = int(virtual_rows * (ti + 1) / row_tiles - r0);
            tiles.forward(mr, nv, out + r0 * K + k0, K, q + r0 * 2 * C, 2 * C, seg + t0, seglen + t0, t1 - t0,
                          sub + t0 * run * K + k0, K, !first, last, bias ? bias + k0 : nullptr, fused, act.alpha);
          }
          t0 = t1;
        }
      }
      float* yn = y + n * s.oh * s.ow * K;
      for (int64_t oh = 0; oh < s.oh; ++oh)
        std::memcpy(yn + oh * s.ow * K, out + oh * wv * K, sizeof(float) * size_t(s.ow * K));
      if (act.kind != Activation::kNone && fused == 0) activate_inplace(yn, s.oh * s.ow * K, act);
    }
  });
}

}  // namespace pycnn
