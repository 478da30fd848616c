// direct_row_avx2.cpp — the direct forward row kernel with an AVX2 register
// block (direct_row_impl.h's VecBlock): 4 pixels x 16 channels (two ymm
// each) in accumulators across the whole window, 8 of the 16 ymm; first
// layers also hold a window row's weights (VecBlock::run_sliding). Called
// only when active_isa() is kAvx2.
#include "conv2d/direct.h"

#if defined(PYCNN_X86)
#include "conv2d/direct_row_impl.h"

namespace pycnn {

void direct_forward_row_avx2(float* y_row, const float* x, const float* weight, const float* bias,
                             const Conv2dShape& s, int64_t n, int64_t oh, const ActivationSpec& act) {
  forward_row_impl<VecBlock<Avx2Vec>>(y_row, x, weight, bias, s, n, oh);
  activate_inplace(y_row, s.ow * s.k, act);
}

}  // namespace pycnn
#endif
