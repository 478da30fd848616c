// activations_avx512.cpp — the element-wise kernels compiled for AVX-512 (16 floats per vector);
// called only where isa_supported() says the CPU has it.
#include "activations/kernel_table.h"

#if defined(PYCNN_X86)
#define PYCNN_ISA_NAMESPACE avx512
#include "activations/elementwise_impl.h"

namespace pycnn {
const ElementwiseTable& elementwise_table_avx512() { return avx512::kTable; }
}  // namespace pycnn
#else
namespace pycnn {
const ElementwiseTable& elementwise_table_avx512() { return elementwise_table_portable(); }
}  // namespace pycnn
#endif
