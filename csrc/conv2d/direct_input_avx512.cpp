// direct_input_avx512.cpp — the first-layer d-input (direct_input_impl.h)
// on zmm registers: 4 dx pixels x cg channels in 16-lane partial sums. Called
// only when active_isa() is kAvx512.
#include "conv2d/direct.h"

#if defined(PYCNN_X86)
// GCC 12 reports the deliberately undefined pass-through operand of its own
// _mm512_extractf64x4_pd (_mm512_undefined_pd, inside _mm512_reduce_add_ps)
// as uninitialised.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include "conv2d/direct_input_impl.h"

namespace pycnn {

void direct_input_row_avx512(float* dx_row, const float* dy, const float* w, const Conv2dShape& s,
                             int64_t n, int64_t ih) {
  first_layer_input_row<VecInputBlock<Avx512Vec>>(dx_row, dy, w, s, n, ih);
}

}  // namespace pycnn
#endif
