// direct_input_avx2.cpp — the first-layer d-input (direct_input_impl.h) on
// ymm registers: 4 dx pixels x cg channels in 8-lane partial sums. Called
// only when active_isa() is kAvx2.
#include "conv2d/direct.h"

#if defined(PYCNN_X86)
#include "conv2d/direct_input_impl.h"

namespace pycnn {

void direct_input_row_avx2(float* dx_row, const float* dy, const float* w, const Conv2dShape& s, int64_t n,
                           int64_t ih) {
  first_layer_input_row<VecInputBlock<Avx2Vec>>(dx_row, dy, w, s, n, ih);
}

}  // namespace pycnn
#endif
