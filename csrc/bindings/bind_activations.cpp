// bind_activations.cpp — Python bindings of the activation kernels.
//
// Every function takes an optional `out` (float32, C-contiguous, same shape
// as the result) so tests can pre-fill it with NaN; by default a fresh array
// is returned. `out` may be the input itself (in place).
#include "activations/activations.h"
#include "bindings/bindings.h"

#include <optional>

namespace pycnn {
namespace {

ActivationSpec activation_spec(const std::string& name, float alpha, const char* op) {
  static const std::pair<const char*, Activation> kinds[] = {
      {"linear", Activation::kNone},   {"relu", Activation::kRelu},     {"leaky_relu", Activation::kLeakyRelu},
      {"elu", Activation::kElu},       {"sigmoid", Activation::kSigmoid}, {"tanh", Activation::kTanh}};
  for (const auto& [n, kind] : kinds)
    if (name == n) return {kind, alpha};
  fail(op, "unknown activation '", name, "'; expected one of linear, relu, leaky_relu, elu, sigmoid, tanh");
}

void require_same_shape(const py::array& a, const py::array& b, const char* op, const char* na,
                        const char* nb) {
  check(same_shape(a, b), op, "expected `", nb, "` with the shape of `", na, "` ", shape_str(a),
        ", got ", shape_str(b));
}

FloatArray output_like(const py::array& like, std::optional<FloatArray>& out, const char* op) {
  if (!out) return empty_array(shape_of(like), op);
  require_same_shape(like, *out, op, "input", "out");
  check(out->writeable(), op, "`out` is read-only");
  return *out;
}

int64_t last_axis(const py::array& a, const char* op) {
  check(a.ndim() >= 1, op, "expected an array of rank >= 1, got a scalar");
  return a.shape(a.ndim() - 1);
}

}  // namespace

void bind_activations(py::module_& m) {
  m.def("activation_forward", [](FloatArray x, const std::string& name, float alpha, std::optional<FloatArray> out) {
    const char* op = "activation";
    ActivationSpec a = activation_spec(name, alpha, op);
    FloatArray y = output_like(x, out, op);
    float* py = y.mutable_data();
    const float* px = x.data();
    int64_t n = x.size();
    {
      py::gil_scoped_release release;
      activation_forward(py, px, n, a);
    }
    return y;
  }, py::arg("x"), py::arg("name"), py::arg("alpha") = 0.f, py::arg("out") = py::none());

  // from_output: t is y = act(x); otherwise t is x.
  m.def("activation_backward", [](FloatArray dy, FloatArray t, const std::string& name, float alpha,
                                  bool from_output, std::optional<FloatArray> out) {
    const char* op = "activation_backward";
    ActivationSpec a = activation_spec(name, alpha, op);
    require_same_shape(dy, t, op, "dy", from_output ? "y" : "x");
    check(!(from_output && activation_backward_needs_input(a)), op, name, " with alpha ", alpha,
          " needs the input x, not the output y");
    FloatArray dx = output_like(dy, out, op);
    float* pdx = dx.mutable_data();
    const float *pdy = dy.data(), *pt = t.data();
    int64_t n = dy.size();
    {
      py::gil_scoped_release release;
      if (from_output) activation_backward_from_output(pdx, pdy, pt, n, a);
      else activation_backward_from_input(pdx, pdy, pt, n, a);
    }
    return dx;
  }, py::arg("dy"), py::arg("t"), py::arg("name"), py::arg("alpha"), py::arg("from_output"),
     py::arg("out") = py::none());

  m.def("softmax", [](FloatArray x, std::optional<FloatArray> out) {
    const char* op = "softmax";
    int64_t cols = last_axis(x, op);
    FloatArray y = output_like(x, out, op);
    float* py = y.mutable_data();
    const float* px = x.data();
    int64_t rows = cols ? x.size() / cols : 0;
    {
      py::gil_scoped_release release;
      softmax_forward(py, px, rows, cols);
    }
    return y;
  }, py::arg("x"), py::arg("out") = py::none());

  m.def("softmax_backward", [](FloatArray dy, FloatArray y, std::optional<FloatArray> out) {
    const char* op = "softmax_backward";
    int64_t cols = last_axis(dy, op);
    require_same_shape(dy, y, op, "dy", "y");
    FloatArray dx = output_like(dy, out, op);
    float* pdx = dx.mutable_data();
    const float *pdy = dy.data(), *py_ = y.data();
    int64_t rows = cols ? dy.size() / cols : 0;
    {
      py::gil_scoped_release release;
      softmax_backward(pdx, pdy, py_, rows, cols);
    }
    return dx;
  }, py::arg("dy"), py::arg("y"), py::arg("out") = py::none());

  m.def("fast_exp", [](FloatArray x, std::optional<FloatArray> out) {
    FloatArray y = output_like(x, out, "fast_exp");
    float* py = y.mutable_data();
    const float* px = x.data();
    int64_t n = x.size();
    {
      py::gil_scoped_release release;
      exp_forward(py, px, n);
    }
    return y;
  }, py::arg("x"), py::arg("out") = py::none());
}

}  // namespace pycnn
