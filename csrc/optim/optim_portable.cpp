// optim_portable.cpp — the optimizer element kernels for the baseline ISA.
#define PYCNN_ISA_NAMESPACE portable
#include "optim/optim_impl.h"

namespace pycnn {
const OptimTable& optim_table_portable() { return portable::kOptimTable; }
}  // namespace pycnn
