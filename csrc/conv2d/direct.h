// direct.h — convolution with one input channel per group (depthwise, or a
// plain conv on a single-channel image), computed directly over NHWC.
//
// With C/G == 1 output channel k = c*kg + m reads input channel c only, so
// the GEMM view degenerates (K = KH*KW); these kernels instead vectorise over
// the contiguous output channels: over c when kg == 1, over m otherwise.
// Same contracts as conv2d.h; called for Conv2dShape::direct() shapes.
#pragma once

#include "common/activation.h"
#include "conv2d/conv2d.h"

namespace pycnn {

void direct_forward(float* y, const float* x, const float* weight, const float* bias,
                    const Conv2dShape& s, const ActivationSpec& act);
void direct_backward_input(float* dx, const float* dy, const float* weight, const Conv2dShape& s);
void direct_backward_weight(float* dweight, const float* dy, const float* x, const Conv2dShape& s);

// The per-ISA forward row kernels: y for output row (n, oh), all OW pixels.
void direct_forward_row_portable(float* y_row, const float* x, const float* weight,
                                 const float* bias, const Conv2dShape& s, int64_t n, int64_t oh,
                                 const ActivationSpec& act);
void direct_forward_row_avx512(float* y_row, const float* x, const float* weight,
                               const float* bias, const Conv2dShape& s, int64_t n, int64_t oh,
                               const ActivationSpec& act);

// d-weight of output row (n, oh) for its interior pixels [ow_lo, ow_hi) and
// channels [0, full) (whole 16-blocks), added into pw (KH*KW*K floats).
void direct_weight_row_avx512(float* pw, const float* x, const float* dy_row, const Conv2dShape& s,
                              int64_t n, int64_t ih0, int64_t ilo, int64_t ihi, int64_t ow_lo,
                              int64_t ow_hi, int64_t full);

// y[0..count) = act(y) with the switch outside the loop (vectorisable).
void activate_inplace(float* y, int64_t count, const ActivationSpec& act);

}  // namespace pycnn
