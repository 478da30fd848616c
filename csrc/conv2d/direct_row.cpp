// direct_row.cpp — the direct forward row kernel for any x86-64 / other CPU
// (4-float vectors: 2 pixels x 16 channels per register block).
#include "conv2d/direct.h"
#include "conv2d/direct_row_impl.h"

namespace pycnn {

void direct_forward_row_portable(float* y_row, const float* x, const float* weight,
                                 const float* bias, const Conv2dShape& s, int64_t n, int64_t oh,
                                 const ActivationSpec& act) {
  forward_row_impl<VecBlock<PortableVec>>(y_row, x, weight, bias, s, n, oh);
  activate_inplace(y_row, s.ow * s.k, act);
}

}  // namespace pycnn
