// bind_gemm.cpp — Python bindings of the gemm kernels (filled in with the family).
#include "bindings/bindings.h"

namespace pycnn {

void bind_gemm(py::module_& m) {}

}  // namespace pycnn
