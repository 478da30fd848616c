// direct_weight_portable.cpp — the register-blocked d-weight of the direct
// conv (direct_weight_impl.h's VecWeightTaps) on 4-float vectors (SSE2 on
// x86-64, NEON on Arm): 3 taps of one 16-channel block in 12 accumulators,
// over the input's interior pixels or over zero-padded window rows (every
// pixel). Other border pixels and channel tails stay with the caller's plain
// loop.
#include "conv2d/direct.h"
#include "conv2d/direct_weight_impl.h"

namespace pycnn {

void direct_weight_row_portable(float* pw, const float* x, const float* dy_row, const Conv2dShape& s, int64_t n,
                                int64_t ih0, int64_t ilo, int64_t ihi, int64_t ow_lo, int64_t ow_hi, int64_t full) {
  VecWeightTaps<PortableVec>::row(pw, x, dy_row, s, n, ih0, ilo, ihi, ow_lo, ow_hi, full);
}

void direct_weight_row_padded_portable(float* pw, const float* rows, int64_t row_stride, const float* dy_row,
                                       const Conv2dShape& s, int64_t ilo, int64_t ihi, int64_t full) {
  VecWeightTaps<PortableVec>::padded_row(pw, rows, row_stride, dy_row, s, ilo, ihi, full);
}

}  // namespace pycnn
