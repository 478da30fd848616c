// bind_pool2d.cpp — Python bindings of the pool2d kernels (filled in with the family).
#include "bindings/bindings.h"

namespace pycnn {

void bind_pool2d(py::module_& m) {}

}  // namespace pycnn
