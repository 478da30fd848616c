// strided.h — a stride-2 convolution as stride-1 convolutions over its
// four phases (row and column parity), on the implicit-GEMM tiles.
//
// Forward (strided_forward.cpp): window rows i = ph + 2u of output row oh
// are padded input rows 2(oh + u) + ph, row u of the row-phase image ph
// (every other padded row), so in each phase image output rows are one row
// apart and tiles run across output rows as in the stride-1 implicit
// forward.
//
// d-input (strided_input.cpp):
// Input pixel (ih, iw) takes window taps (i, j) with i = ph + 2u, j = pw + 2v
// where (ph, pw) = ((ih + pt) % 2, (iw + pl) % 2), and then
//   dx[2a + ph - pt, 2b + pw - pl, c] =
//       sum_{u<U, v<V, k} dy[a - u, b - v, k] * weight[ph + 2u, pw + 2v, c, k]
// (U = ceil((KH - ph) / 2) taps, V likewise): for each phase a correlation
// of the zero-padded dy with the flipped, transposed sub-kernel, whose output
// pixels lie 2 apart in dx. Every dx element belongs to one phase and is
// written once: no zeroing, no col2im scatter, no dcols matrix.
#pragma once

#include <cstdint>

#include "common/activation.h"
#include "conv2d/conv2d.h"
#include "conv2d/implicit.h"

namespace pycnn {

// Taps of a window of `window` along one axis that phase `phase` (0, 1) holds.
inline int64_t phase_taps(int64_t window, int64_t phase) { return (window - phase + 1) / 2; }

constexpr int64_t kStridedMaxWindow = 16;
constexpr int64_t kStridedMaxImageFloats = int64_t(1) << 22;  // per-thread image scratch (16 MiB)

// What both decompositions need: groups 1, stride 2x2, undilated, windows
// of 2x2 to 16x16 (every phase has a tap), not a direct or pointwise shape.
inline bool strided_shape_fits(const Conv2dShape& s) {
  return s.groups == 1 && s.sh == 2 && s.sw == 2 && s.dh == 1 && s.dw == 1 && !s.direct() && !s.pointwise() &&
         s.kh >= 2 && s.kw >= 2 && s.kh <= kStridedMaxWindow && s.kw <= kStridedMaxWindow;
}

// strided_shape_fits and, forward: K a multiple of 16 and >= 64 output
// pixels per image; d-input: C a multiple of 16.
bool strided_forward_applies(const Conv2dShape& s);
bool strided_input_applies(const Conv2dShape& s);
// weight (KH, KW, C, K); y overwritten, bias may be nullptr.
void strided_forward(float* y, const float* x, const float* weight, const float* bias, const Conv2dShape& s,
                     const ActivationSpec& act);
void strided_backward_input(float* dx, const float* dy, const float* weight, const Conv2dShape& s);

}  // namespace pycnn
