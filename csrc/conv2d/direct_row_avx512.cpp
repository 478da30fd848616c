// direct_row_avx512.cpp — the direct forward row kernel built with AVX-512
// flags (one 16-float accumulator row per zmm register); called only when
// active_isa() is kAvx512.
#include "conv2d/direct.h"

#if defined(PYCNN_X86)
#include "conv2d/direct_row_impl.h"

namespace pycnn {

void direct_forward_row_avx512(float* y_row, const float* x, const float* weight,
                               const float* bias, const Conv2dShape& s, int64_t n, int64_t oh,
                               const ActivationSpec& act) {
  forward_row_impl(y_row, x, weight, bias, s, n, oh);
  activate_inplace(y_row, s.ow * s.k, act);
}

}  // namespace pycnn
#endif
