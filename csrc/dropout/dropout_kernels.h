// dropout_kernels.h — the per-ISA mask loop behind dropout.h (see dropout_impl.h).
#pragma once

#include <cstdint>

#include "dropout/dropout.h"

namespace pycnn {

// Elements [begin, end) of the output; begin is a multiple of kPhiloxBlock.
using DropoutKernel = void (*)(float* y, const float* x, int64_t begin, int64_t end,
                               const DropoutParams& p);

extern const DropoutKernel dropout_kernel_portable;
#if defined(PYCNN_X86)
extern const DropoutKernel dropout_kernel_avx2;
extern const DropoutKernel dropout_kernel_avx512;
#endif

}  // namespace pycnn
