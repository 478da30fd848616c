// strided_input.h — d-input of a stride-2 convolution as four stride-1
// convolutions of dy, one per output phase, on the implicit-GEMM tiles.
//
// Input pixel (ih, iw) takes window taps (i, j) with i = ph + 2u, j = pw + 2v
// where (ph, pw) = ((ih + pt) % 2, (iw + pl) % 2), and then
//   dx[2a + ph - pt, 2b + pw - pl, c] =
//       sum_{u<U, v<V, k} dy[a - u, b - v, k] * weight[ph + 2u, pw + 2v, c, k]
// (U = ceil((KH - ph) / 2) taps, V likewise): for each phase a correlation
// of the zero-padded dy with the flipped, transposed sub-kernel, whose output
// pixels lie 2 apart in dx. Every dx element belongs to one phase and is
// written once: no zeroing, no col2im scatter, no dcols matrix.
#pragma once

#include "conv2d/conv2d.h"

namespace pycnn {

// groups 1, stride 2x2, undilated, windows of at least 2x2 (every phase has
// a tap), C a multiple of 16, AVX-512.
bool strided_input_applies(const Conv2dShape& s);
void strided_backward_input(float* dx, const float* dy, const float* weight, const Conv2dShape& s);

}  // namespace pycnn
