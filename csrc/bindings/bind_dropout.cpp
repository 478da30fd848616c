// bind_dropout.cpp — Python bindings of the dropout kernels (filled in with the family).
#include "bindings/bindings.h"

namespace pycnn {

void bind_dropout(py::module_& m) {}

}  // namespace pycnn
