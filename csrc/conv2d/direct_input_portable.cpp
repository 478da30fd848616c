// direct_input_portable.cpp — the first-layer d-input (direct_input_impl.h)
// on 4-float vectors (SSE2 on x86-64, NEON on Arm).
#include "conv2d/direct.h"
#include "conv2d/direct_input_impl.h"

namespace pycnn {

// Here because every build compiles this file, whatever its CPU.
bool direct_input_applies(const Conv2dShape& s) { return first_layer_input_applies(s); }

void direct_input_row_portable(float* dx_row, const float* dy, const float* w, const Conv2dShape& s, int64_t n,
                               int64_t ih) {
  first_layer_input_row<VecInputBlock<PortableVec>>(dx_row, dy, w, s, n, ih);
}

}  // namespace pycnn
