// bind_optim.cpp — Python bindings of the optim kernels (filled in with the family).
#include "bindings/bindings.h"

namespace pycnn {

void bind_optim(py::module_& m) {}

}  // namespace pycnn
