// activations_avx2.cpp — the element-wise kernels compiled for AVX2+FMA (8 floats per vector);
// called only where isa_supported() says the CPU has it.
#include "activations/kernel_table.h"

#if defined(PYCNN_X86)
#define PYCNN_ISA_NAMESPACE avx2
#include "activations/elementwise_impl.h"

namespace pycnn {
const ElementwiseTable& elementwise_table_avx2() { return avx2::kTable; }
}  // namespace pycnn
#else
namespace pycnn {
const ElementwiseTable& elementwise_table_avx2() { return elementwise_table_portable(); }
}  // namespace pycnn
#endif
