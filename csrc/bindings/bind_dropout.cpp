// bind_dropout.cpp — Python bindings of the dropout kernel (csrc/dropout).
#include <algorithm>
#include <optional>

#include "bindings/bindings.h"
#include "bindings/fast_lane.h"
#include "dropout/dropout.h"

namespace pycnn {
namespace {

// x * mask as a new array of x's shape.
py::array_t<float> apply(const float* x, const py::array& x_shape, const DropoutParams& p,
                         const std::optional<float>& fill = std::nullopt) {
  auto y = fast::new_array(x_shape);
  prefill(y, fill);
  float* py = y.mutable_data();
  const int64_t n = int64_t(y.size());
  fast::run_kernel(double(n), [&] { dropout_forward(py, x, n, p); });
  return y;
}

// The fast lane of pycnn.ops.dropout and dropout_backward (fast_lane.h).
py::object dropout_fast(PyObject* const* args) {
  const py::handle x_in = args[0], rate_in = args[1], seed_in = args[2], step_in = args[3];
  py::array x = fast::no_array();
  double rate;
  uint64_t seed, step;
  if (!fast::float_array(x_in, x) || !fast::real(rate_in, rate) || !(rate >= 0.0 && rate < 1.0) ||
      !fast::counter(seed_in, seed) || !fast::counter(step_in, step))
    return py::none();
  return apply(static_cast<const float*>(x.data()), x, dropout_params("dropout", rate, seed, step));
}

}  // namespace

void bind_dropout(py::module_& m) {
  // Dropout of x (any shape); the backward is the same call on dy. `fill`
  // pre-fills the output (a test hook for unwritten elements).
  m.def("dropout", [](FloatArray x, double rate, uint64_t seed, uint64_t step,
                      const std::string& op, std::optional<float> fill) {
    return apply(x.data(), x, dropout_params(op.c_str(), rate, seed, step), fill);
  }, py::arg("x"), py::arg("rate"), py::arg("seed"), py::arg("step"), py::arg("op") = "dropout",
     py::arg("fill") = py::none());

  fast::def<dropout_fast, 4>(m, "dropout_fast",
                             "dropout_fast(x, rate, seed, step): the fast lane of pycnn.ops.dropout(_backward)");

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
