// bind_activations.cpp — Python bindings of the activations kernels (filled in with the family).
#include "bindings/bindings.h"

namespace pycnn {

void bind_activations(py::module_& m) {}

}  // namespace pycnn
