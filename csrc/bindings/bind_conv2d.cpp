// bind_conv2d.cpp — Python bindings of the conv2d kernels (filled in with the family).
#include "bindings/bindings.h"

namespace pycnn {

void bind_conv2d(py::module_& m) {}

}  // namespace pycnn
