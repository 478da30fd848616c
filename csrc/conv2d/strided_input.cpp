// strided_input.cpp — the phase decomposition of a stride-2 d-input (see
// strided.h): sub-kernels once per call, then per image a zero-padded
// copy of dy and, per phase and dx row, tiles of consecutive phase pixels.
#include "conv2d/strided.h"

#include <algorithm>
#include <cstring>

#include "common/check.h"
#include "common/parallel.h"
#include "common/workspace.h"
#include "conv2d/implicit.h"

namespace pycnn {
namespace {

// dy is padded by this many zero rows (columns) on each side: output a's
// first tap row a - (U - 1) is >= -(U - 1), its last row a <= OH - 1 + pad.
int64_t border(int64_t window) { return (window + 1) / 2; }

// Phase pixels a with input index 2a + phase - pad in [0, size): from
// phase_begin to phase_end (empty when size + pad <= phase: a 1-pixel
// image's odd phase).
int64_t phase_begin(int64_t pad, int64_t phase) { return ceil_div(std::max<int64_t>(pad - phase, 0), 2); }
int64_t phase_end(int64_t size, int64_t pad, int64_t phase) {
  const int64_t span = size + pad - phase;  // >= -1
  return span > 0 ? (span - 1) / 2 + 1 : 0;
}

}  // namespace

bool strided_input_applies(const Conv2dShape& s) {
  if (!strided_shape_fits(s) || s.c % 16 != 0) return false;
  const int64_t hp = s.oh + 2 * border(s.kh), wp = s.ow + 2 * border(s.kw);
  return hp * wp * s.k <= kStridedMaxImageFloats;
}

void strided_backward_input(float* dx, const float* dy, const float* weight, const Conv2dShape& s) {
  const int64_t C = s.c, K = s.k, bt = border(s.kh), bl = border(s.kw);
  const int64_t hp = s.oh + 2 * bt, wp = s.ow + 2 * bl;
  // Sub-kernel of phase (ph, pw): rows (u', v', k), u' = U-1-u, columns c:
  // sub[(u'*V + v')*K + k][c] = weight[ph + 2u, pw + 2v, c, k].
  float* sub = thread_scratch(kScratchPartial).floats(size_t(s.kh * s.kw * C * K));
  float* sub_of[2][2];
  float* next = sub;
  for (int64_t ph = 0; ph < 2; ++ph)
    for (int64_t pw = 0; pw < 2; ++pw) {
      const int64_t U = phase_taps(s.kh, ph), V = phase_taps(s.kw, pw);
      sub_of[ph][pw] = next;
      for (int64_t u2 = 0; u2 < U; ++u2)
        for (int64_t v2 = 0; v2 < V; ++v2) {
          const float* src = weight + ((ph + 2 * (U - 1 - u2)) * s.kw + pw + 2 * (V - 1 - v2)) * C * K;
          float* dst = next + (u2 * V + v2) * K * C;
          for (int64_t c = 0; c < C; ++c)
            for (int64_t k = 0; k < K; ++k) dst[k * C + c] = src[c * K + k];
        }
      next += U * V * K * C;
    }
  const ImplicitTiles& tiles = implicit_tiles();
  parallel_for(s.n, 1, [&](int64_t n0, int64_t n1) {
    // Window row u' of a phase pixel: V*K floats from u' padded rows below
    // its origin, against sub-kernel rows u'*V*K.. (consecutive, as the tile
    // expects).
    int64_t seg[kStridedMaxWindow], seglen[kStridedMaxWindow];
    for (int64_t n = n0; n < n1; ++n) {
      // dy of image n inside a zero border of bt rows and bl columns.
      float* pad = thread_scratch(kScratchIm2col).floats(size_t(hp * wp * K));
      const int64_t row = wp * K;
      std::memset(pad, 0, sizeof(float) * size_t(bt * row));
      for (int64_t oh = 0; oh < s.oh; ++oh) {
        float* dst = pad + (oh + bt) * row;
        std::memset(dst, 0, sizeof(float) * size_t(bl * K));
        std::memcpy(dst + bl * K, dy + ((n * s.oh + oh) * s.ow) * K, sizeof(float) * size_t(s.ow * K));
        std::memset(dst + (bl + s.ow) * K, 0, sizeof(float) * size_t(bl * K));
      }
      std::memset(pad + (s.oh + bt) * row, 0, sizeof(float) * size_t(bt * row));
      float* dxn = dx + n * s.h * s.w * C;
      for (int64_t ph = 0; ph < 2; ++ph)
        for (int64_t pw = 0; pw < 2; ++pw) {
          const int64_t U = phase_taps(s.kh, ph), V = phase_taps(s.kw, pw);
          // Phase pixels (a, b): input row 2a + ph - pt in [0, H), column likewise.
          const int64_t a_lo = phase_begin(s.pad_top, ph), a_hi = phase_end(s.h, s.pad_top, ph);
          const int64_t b_lo = phase_begin(s.pad_left, pw), b_hi = phase_end(s.w, s.pad_left, pw);
          if (a_hi <= a_lo || b_hi <= b_lo) continue;
          const float* w_phase = sub_of[ph][pw];
          for (int64_t u2 = 0; u2 < U; ++u2) seg[u2] = u2 * wp * K, seglen[u2] = V * K;
          for (int64_t k0 = 0; k0 < C; k0 += tiles.block_channels()) {
            const int nv = tiles.block_vectors(k0, C), mr_max = tiles.tile_rows(nv);
            const int64_t count = b_hi - b_lo, row_tiles = (count + mr_max - 1) / mr_max;
            for (int64_t a = a_lo; a < a_hi; ++a) {
              float* dx_row = dxn + ((2 * a + ph - s.pad_top) * s.w + 2 * b_lo + pw - s.pad_left) * C + k0;
              for (int64_t ti = 0; ti < row_tiles; ++ti) {
                const int64_t r0 = count * ti / row_tiles;
                const int mr = int(count * (ti + 1) / row_tiles - r0);
                const int64_t b = b_lo + r0;
                // Pixel b's window starts at padded dy row a - (U-1) + bt.
                const float* origin = pad + ((a - (U - 1) + bt) * wp + b - (V - 1) + bl) * K;
                tiles.forward(mr, nv, dx_row + r0 * 2 * C, 2 * C, origin, K, seg, seglen, int(U), w_phase + k0, C,
                              false, true, nullptr, 0, 0.f);
              }
            }
          }
        }
    }
  });
}

}  // namespace pycnn
