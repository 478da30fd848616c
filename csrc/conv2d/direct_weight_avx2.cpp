// direct_weight_avx2.cpp — the register-blocked d-weight of the direct conv
// (direct_weight_impl.h's VecWeightTaps) on ymm registers: 6 taps of one
// 16-channel block (two ymm) in 12 accumulators, over the input's interior
// pixels or over zero-padded window rows (every pixel). Called only when
// active_isa() is kAvx2; other border pixels and channel tails stay with the
// caller's plain loop.
#include "conv2d/direct.h"

#if defined(PYCNN_X86)
#include "conv2d/direct_weight_impl.h"

namespace pycnn {

void direct_weight_row_avx2(float* pw, const float* x, const float* dy_row, const Conv2dShape& s, int64_t n,
                            int64_t ih0, int64_t ilo, int64_t ihi, int64_t ow_lo, int64_t ow_hi, int64_t full) {
  VecWeightTaps<Avx2Vec>::row(pw, x, dy_row, s, n, ih0, ilo, ihi, ow_lo, ow_hi, full);
}

void direct_weight_row_padded_avx2(float* pw, const float* rows, int64_t row_stride, const float* dy_row,
                                   const Conv2dShape& s, int64_t ilo, int64_t ihi, int64_t full) {
  VecWeightTaps<Avx2Vec>::padded_row(pw, rows, row_stride, dy_row, s, ilo, ihi, full);
}

}  // namespace pycnn
#endif
