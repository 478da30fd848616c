// bind_dense.cpp — Python bindings of the dense kernels (filled in with the family).
#include "bindings/bindings.h"

namespace pycnn {

void bind_dense(py::module_& m) {}

}  // namespace pycnn
