// optim_avx2.cpp — the optimizer element kernels compiled for avx2; called
// only where isa_supported() says the CPU has it.
#include "optim/optim_table.h"

#if defined(PYCNN_X86)
#define PYCNN_ISA_NAMESPACE avx2
#include "optim/optim_impl.h"

namespace pycnn {
const OptimTable& optim_table_avx2() { return avx2::kOptimTable; }
}  // namespace pycnn
#else
namespace pycnn {
const OptimTable& optim_table_avx2() { return optim_table_portable(); }
}  // namespace pycnn
#endif
