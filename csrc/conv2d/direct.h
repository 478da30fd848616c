// direct.h — convolution with few input channels per group (depthwise, or a
// first layer on a 1- or 3-channel image), computed directly over NHWC.
//
// Output channel k = g*kg + m reads the cg input channels of group g only;
// with cg small the GEMM view degenerates (K = KH*KW*cg <= 36), so these
// kernels vectorise over the contiguous output channels instead: over g when
// kg == 1 (depthwise), over m otherwise. Weight row of tap (i, j) and group
// channel ci: ((i*KW + j)*cg + ci)*K. Same contracts as conv2d.h; called for
// Conv2dShape::direct() shapes (d-input: direct_input()).
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
