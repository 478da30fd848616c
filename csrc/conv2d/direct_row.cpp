// direct_row.cpp — the direct forward row kernel for any x86-64 / other CPU
// (4-float vectors: 2 pixels x 16 channels per register block).
#include "conv2d/direct.h"
#include "conv2d/direct_row_impl.h"

namespace pycnn {

void direct_forward_rows_portable(float* y, const float* x, const float* weight, const float* bias,
                                  const Conv2dShape& s, int64_t u0, int64_t u1, const ActivationSpec& act) {
  forward_rows_impl<VecBlock<PortableVec>>(y, x, weight, bias, s, u0, u1,
                                           [&](float* y_row) { activate_inplace(y_row, s.ow * s.k, act); });
}

}  // namespace pycnn
