// winograd.h — 3x3 convolution by Winograd's algorithms: F(2x2, 3x3) (16
// multiplies per 2x2 output tile and channel pair instead of 36), F(4x4, 3x3)
// (36 instead of 144) and 25- and 81-point schemes for stride 2.
//
// Per tile of 2x2 outputs and its 4x4 input patch d (Lavin & Gray, 2016):
//   y = A^T [ U ⊙ V ] A,  U = G g G^T (weight, 4x4 per (c, k)),  V = B^T d B
// so the products are 16 GEMMs, one per transform point xi = 4*i + j:
//   M_xi[tile, K] = V_xi[tile, C] · U_xi[C, K]
//   forward   the output transform A^T M A (+ bias, activation) writes y
//   d-input   the forward of dy with the flipped, transposed weight
//             (implicit_input_geometry), as the implicit path does
//   d-weight  the adjoint of the forward, summed over tiles in the
//             transformed domain:  dU_xi[C, K] = sum_tiles V_xi^T · D_xi,
//             D = A dy A^T (4x4 from the 2x2 output gradient), then
//             dweight = G^T dU G per (c, k)
// Phantom outputs of the last tile row/column (odd OH or OW) are computed and
// dropped in forward and carry a zero gradient in d-weight. Tiles are
// processed in fixed chunks (a function of the shape only), so results are
// identical for any thread count.
//
// Used for groups == 1, undilated 3x3 windows at stride 1, C and K multiples
// of 16, on every ISA; the GEMMs run on the implicit path's register tiles.
//
// F(4x4, 3x3) (stride 1, wherever its 36*C*K-float weight fits; F(2x2, 3x3)
// above that): the same drivers with 6x6 patches 4 pixels apart, 36 points
// and 4x4 output tiles, B^T, G and A^T of the points 0, 1, -1, 2, -2, inf
// (Lavin & Gray); 2.25 products per output instead of 4. The d-input is the
// forward of dy with the flipped weight, C and K swapped, as above. Its
// float32 error is about 20 times F(2x2, 3x3)'s (3e-7 vs 1.5e-8 of
// max|y| * sqrt(terms) on the seed layers).
//
// Stride 2 (forward, d-input, d-weight): a 2x2 output tile reads a 5x5
// patch. Along one axis y0 = w0 d0 + w1 d1 + w2 d2 and y1 = w0 d2 + w1 d3 + w2 d4: the even
// inputs meet the 2-tap kernel (w0, w2), which F(2, 2) computes in three
// products, the odd ones w1 directly, so
//   B^T d = (d0 - d2, d2, d4 - d2, d1, d3),  G g = (w0, w0 + w2, w2, w1, w1),
//   A^T m = (m0 + m1 + m3, m1 + m2 + m4)
// and in 2D 25 GEMMs (xi = 5*i + j) per tile instead of 36 products: the
// same chunked drivers with 25 points and patches 4 input pixels apart.
// d-weight as above with A e = (e0, e0 + e1, e1, e0, e1) and
// G^T s = (s0 + s1, s3 + s4, s1 + s2); A e repeats e0 and e1, so only 9 of
// the 25 D_xi differ, and the points that share one read the same plane.
// d-input is the adjoint of the forward: D = A dy A^T per tile,
// M_xi[tile, C] = D_xi[tile, K] · U_xi^T,
// and B M B^T (B v = (v0, v3, v1 - v0 - v2, v4, v2)) added into the tile's
// 5x5 patch of dx; neighbouring patches share a row or column, so a thread
// owns whole images and adds their tiles in order.
//
// The wide stride-2 forward, where its weight is small enough to pay: 4x4
// output tiles of 9x9 patches 8 input pixels apart. Along one axis the even
// inputs (d0, d2, .., d8) meet (w0, w2) by F(4, 2) (points 0, 1, -1, 2, inf:
// 5 products for 4 outputs) and the odd ones w1 directly (4 products), so 81
// points in 2D: 5.06 products per output instead of 6.25. Its float32 error
// is about 4 times the 25-point scheme's (median 4.6e-7 against 1.3e-7 of
// max|y| on random 32-channel tiles). d-input and d-weight keep the 25-point
// scheme.
#pragma once

#include <cstdint>

#include "common/activation.h"
#include "conv2d/conv2d.h"
#include "conv2d/implicit.h"

namespace pycnn {

bool winograd_forward_applies(const Conv2dShape& s);
bool winograd_input_applies(const Conv2dShape& s);
bool winograd_weight_applies(const Conv2dShape& s);

// The transformed forward weight (points*C*K floats: 36 for F(4x4, 3x3), 16
// for F(2x2, 3x3), 25 or 81 at stride 2; winograd_weight_floats) and the forward
// from it: callers that convolve image by image (conv2d_pool)
// transform the weight once per call instead of once per image.
int64_t winograd_weight_floats(const Conv2dShape& s);
void winograd_transform_weight(float* u, const float* weight, const Conv2dShape& s);
void winograd_forward_transformed(float* y, const float* x, const float* u, const float* bias, const Conv2dShape& s,
                                  const ActivationSpec& act);

// Same contracts as conv2d_forward / conv2d_backward_input / _weight.
void winograd_forward(float* y, const float* x, const float* weight, const float* bias, const Conv2dShape& s,
                      const ActivationSpec& act);
void winograd_backward_input(float* dx, const float* dy, const float* weight, const Conv2dShape& s);
void winograd_backward_weight(float* dweight, const float* dy, const float* x, const Conv2dShape& s);

// The tile transforms of one ISA (winograd_avx512.cpp, winograd_avx2.cpp,
// winograd_portable.cpp; winograd_tiles_impl.h), C and K multiples of 16, per scheme:
struct WinogradTransforms {
  // V_xi[c] = (B^T d B)[xi] for the P x P patch at (ih0, iw0) of an h x w x C
  // image: d[i][j][c] = image[((ih0 + i)*w + iw0 + j)*C + c], zero outside
  // the image; V_xi is written at v + xi*vstride.
  using Input = void (*)(float* v, int64_t vstride, const float* image, int64_t h, int64_t w, int64_t C,
                         int64_t ih0, int64_t iw0);
  // The rows x cols (<= T x T) valid outputs of (A^T M A)[r][q][k] + bias[k],
  // then relu/leaky (act 1/2, slope alpha), to y[r*yrow + q*K + k]; M_xi at
  // m + xi*mstride.
  using Output = void (*)(float* y, int64_t yrow, int rows, int cols, const float* m, int64_t mstride, int64_t K,
                          const float* bias, int act, float alpha);
  // D_xi[k] = (A e A^T)[xi] for the T x T output gradient e[r][q][k] =
  // dy[r*dyrow + q*K + k] (zero outside rows x cols), written at d + xi*dstride.
  // The stride-2 scheme's A repeats rows (A e = (e0, e0 + e1, e1, e0, e1)):
  // its grad writes only the 3 x 3 distinct points, xi = 3*a + b for the
  // values a, b of (e0, e0 + e1, e1) (see the drivers' plane maps).
  using Grad = void (*)(float* d, int64_t dstride, const float* dy, int64_t dyrow, int rows, int cols, int64_t K);
  Input input;
  Output output;
  Grad grad;
};

struct WinogradTiles {
  WinogradTransforms f22;      // F(2x2, 3x3): 4x4 patches, 2x2 outputs
  WinogradTransforms strided;  // stride 2: 5x5 patches, 2x2 outputs
  WinogradTransforms f43;      // F(4x4, 3x3): 6x6 patches, 4x4 outputs
  WinogradTransforms strided_wide;  // stride 2, forward only: 9x9 patches, 4x4 outputs (no grad)
  // The stride-2 d-input: (B M B^T) of the 25 points M_xi[c] =
  // m[xi*mstride + c] added into the 5x5 patch at (ih0, iw0) of an h x w x C
  // image (pixels inside only).
  void (*strided_input_adjoint)(float* image, int64_t h, int64_t w, int64_t C, int64_t ih0, int64_t iw0,
                                const float* m, int64_t mstride);
};

const WinogradTiles& winograd_tiles_avx512();
const WinogradTiles& winograd_tiles_avx2();
const WinogradTiles& winograd_tiles_portable();

}  // namespace pycnn
