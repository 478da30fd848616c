// activations_portable.cpp — the element-wise kernels for the baseline ISA.
#define PYCNN_ISA_NAMESPACE portable
#include "activations/elementwise_impl.h"

namespace pycnn {
const ElementwiseTable& elementwise_table_portable() { return portable::kTable; }
}  // namespace pycnn
