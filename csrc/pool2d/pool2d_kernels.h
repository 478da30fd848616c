// pool2d_kernels.h — the per-ISA kernel table behind pool2d.h.
//
// pool2d_impl.h holds the loops once; pool2d_kernels{,_avx2,_avx512}.cpp
// compile it with their instruction sets, and pool2d.cpp picks one table at
// run time (active_isa()).
#pragma once

#include "pool2d/pool2d.h"

namespace pycnn {

struct Pool2dKernels {
  void (*max_forward)(float*, int32_t*, const float*, const Pool2dShape&);
  bool (*max_backward)(float*, const float*, const int32_t*, int64_t, int64_t, int64_t);
  bool (*max_backward_windows)(float*, const float*, const int32_t*, const float*, ActivationSpec,
                               const Pool2dShape&);
  void (*avg_forward)(float*, const float*, const Pool2dShape&);
  void (*avg_backward)(float*, const float*, const Pool2dShape&);
};

extern const Pool2dKernels pool2d_kernels_portable;
#if defined(PYCNN_X86)
extern const Pool2dKernels pool2d_kernels_avx2;
extern const Pool2dKernels pool2d_kernels_avx512;
#endif

}  // namespace pycnn
