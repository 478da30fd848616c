// bind_batchnorm.cpp — Python bindings of the batchnorm kernels (filled in with the family).
#include "bindings/bindings.h"

namespace pycnn {

void bind_batchnorm(py::module_& m) {}

}  // namespace pycnn
