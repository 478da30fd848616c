// bind_losses.cpp — Python bindings of the losses kernels (filled in with the family).
#include "bindings/bindings.h"

namespace pycnn {

void bind_losses(py::module_& m) {}

}  // namespace pycnn
