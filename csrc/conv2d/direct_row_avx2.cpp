// direct_row_avx2.cpp — the direct forward row kernel with an AVX2 register
// block (direct_row_impl.h's VecBlock): 4 pixels x 16 channels (two ymm
// each) in accumulators across the whole window, 8 of the 16 ymm; first
// layers also hold a window row's weights (VecBlock::run_sliding). Called
// only when active_isa() is kAvx2.
#include "conv2d/direct.h"

#if defined(PYCNN_X86)
#include "conv2d/direct_row_impl.h"

namespace pycnn {

void direct_forward_rows_avx2(float* y, const float* x, const float* weight, const float* bias,
                              const Conv2dShape& s, int64_t u0, int64_t u1, const ActivationSpec& act) {
  forward_rows_impl<VecBlock<Avx2Vec>>(y, x, weight, bias, s, u0, u1,
                                       [&](float* y_row) { activate_inplace(y_row, s.ow * s.k, act); });
}

}  // namespace pycnn
#endif
