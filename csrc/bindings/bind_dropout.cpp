// bind_dropout.cpp — Python bindings of the dropout kernel (csrc/dropout).
#include <algorithm>
#include <optional>

#include "bindings/bindings.h"
#include "dropout/dropout.h"

namespace pycnn {

void bind_dropout(py::module_& m) {
  // Dropout of x (any shape); the backward is the same call on dy. `fill`
  // pre-fills the output (a test hook for unwritten elements).
  m.def("dropout", [](FloatArray x, double rate, uint64_t seed, uint64_t step,
                      const std::string& op, std::optional<float> fill) {
    DropoutParams p = dropout_params(op.c_str(), rate, seed, step);
    auto y = empty_array(shape_of(x), op.c_str());
    if (fill) std::fill(y.mutable_data(), y.mutable_data() + y.size(), *fill);
    {
      py::gil_scoped_release release;
      dropout_forward(y.mutable_data(), x.data(), int64_t(x.size()), p);
    }
    return y;
  }, py::arg("x"), py::arg("rate"), py::arg("seed"), py::arg("step"), py::arg("op") = "dropout",
     py::arg("fill") = py::none());

  m.def("dropout_mask", [](std::vector<int64_t> shape, double rate, uint64_t seed, uint64_t step) {
    const char* op = "dropout_mask";
    for (int64_t d : shape) check(d >= 0, op, "expected a shape of sizes >= 0, got ", shape_str(shape.begin(), shape.end()));
    DropoutParams p = dropout_params(op, rate, seed, step);
    auto mask = empty_array(shape, op);
    {
      py::gil_scoped_release release;
      dropout_forward(mask.mutable_data(), nullptr, int64_t(mask.size()), p);
    }
    return mask;
  }, py::arg("shape"), py::arg("rate"), py::arg("seed"), py::arg("step"));
}

}  // namespace pycnn
