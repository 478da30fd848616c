// implicit.h — convolution as a GEMM whose A operand is read straight from a
// zero-padded input image (no im2col matrix), with register tiles per ISA
// owned by the conv family.
//
// A padded image is one copy of the input per image (1x the input instead of
// the KH*KW x of an im2col matrix) and stays in L2 while every pass over it
// runs. In the padded image (Hp x Wp x C) the patch of output pixel
// (oh, ow) for window row i starts at ((oh*sh + i*dh)*Wp + ow*sw)*C and, for
// an undilated width, its KW taps are one contiguous run of KW*C floats:
// exactly a row of the im2col matrix, so a tile of consecutive output pixels
// is a row-major A block with leading dimension sw*C.
//
//   forward   y[pix, K]   = sum_i patch_i[pix, KW*C] · weight_i[KW*C, K]
//   d-input   (stride 1)  the forward of dy with the flipped, transposed
//             weight: dx[ih, iw, c] = sum dy_pad[ih + i*dh, iw + j*dw, k] *
//             weight[KH-1-i, KW-1-j, c, k] (top pad (KH-1)*dh - pt)
//   d-weight  dweight_i[KW*C, K] = patch_i^T · dy, summed over pixels in
//             registers, over fixed image chunks in partials (chunk order)
//
// Used for groups == 1, K (and C for d-input) a multiple of 16, on every ISA.
#pragma once

#include <algorithm>
#include <cstdint>

#include "common/activation.h"
#include "conv2d/conv2d.h"

namespace pycnn {

// A convolution over N images of H x W x C with explicit, non-negative pads.
struct ImplicitConv {
  int64_t n, h, w, c;
  int64_t kh, kw, k;
  int64_t sh, sw, dh, dw;
  int64_t pt, pb, pl, pr;
  int64_t oh, ow;
};

ImplicitConv implicit_forward_geometry(const Conv2dShape& s);
// The d-input problem as a forward conv of dy; valid when s is stride 1 and
// no pad exceeds the dilated window extent minus one.
ImplicitConv implicit_input_geometry(const Conv2dShape& s);

bool implicit_forward_applies(const Conv2dShape& s);
bool implicit_input_applies(const Conv2dShape& s);
bool implicit_weight_applies(const Conv2dShape& s);

// weight (KH, KW, C, K) row-major; y overwritten; bias may be nullptr.
void implicit_forward(float* y, const float* x, const float* weight, const float* bias,
                      const ImplicitConv& g, const ActivationSpec& act);
void implicit_backward_input(float* dx, const float* dy, const float* weight, const Conv2dShape& s);
void implicit_backward_weight(float* dweight, const float* dy, const float* x, const ImplicitConv& g);

// The register tiles of one ISA (implicit_avx512.cpp, implicit_avx2.cpp,
// implicit_portable.cpp; implicit_tiles_impl.h).
// Output channels go in blocks of up to max_vectors 16-channel vectors
// (K = 16*v: full blocks, then the rest); a block of nv vectors takes tiles
// of up to tile_rows(nv) rows. AVX-512: 4 vectors, MR*NV <= 24 accumulators
// (16 for NV = 1); AVX2: 2 vectors (4 ymm), 12 ymm accumulators; portable:
// 1 vector (4 registers of 4 floats), 3 rows.
struct ImplicitTiles {
  // Forward tile: rows r < mr of C (ldc apart) over K columns [0, 16*nv):
  //   C[r] (=|+=) sum_t sum_{p < seglen[t]} a[r*lda + seg[t] + p] * w[(row(t) + p)*ldw]
  // where row(t) = seglen[0] + ... + seglen[t-1] (segments take consecutive
  // weight rows), then, when `last`, + bias and relu/leaky (act 1/2, slope alpha).
  using Forward = void (*)(int mr, int nv, float* c, int64_t ldc, const float* a, int64_t lda, const int64_t* seg,
                           const int64_t* seglen, int nseg, const float* w, int64_t ldw, bool accumulate, bool last,
                           const float* bias, int act, float alpha);
  // d-weight tile: rows r < mr of dw (ldw apart), columns [0, 16*nv):
  //   dw[r] (=|+=) sum_{q < rows} sum_{p < cols} x[q*xrow + p*xcol + r] * dy[q*dyrow + p*K]
  using Weight = void (*)(int mr, int nv, float* dw, int64_t ldw, const float* x, int64_t xrow, int64_t xcol,
                          const float* dy, int64_t dyrow, int64_t K, int64_t rows, int64_t cols, bool accumulate);

  int max_vectors;
  int rows[4];  // most rows per tile for nv = 1 .. max_vectors
  Forward forward;
  Weight weight;

  int64_t block_channels() const { return 16 * max_vectors; }
  int block_vectors(int64_t k0, int64_t k) const { return int(std::min<int64_t>(max_vectors, (k - k0) / 16)); }
  int tile_rows(int nv) const { return rows[nv - 1]; }
};

const ImplicitTiles& implicit_tiles_avx512();
const ImplicitTiles& implicit_tiles_avx2();
const ImplicitTiles& implicit_tiles_portable();
// The tiles of active_isa().
const ImplicitTiles& implicit_tiles();

}  // namespace pycnn
