// bind_losses.cpp — Python bindings of the per-sample losses.
//
// Predictions are (..., C): every leading axis is a sample axis; losses come
// back with the leading shape and gradients with the prediction's shape.
// `out` (optional) is a (losses, gradient) pair of preallocated float32
// C-contiguous arrays, so tests can pre-fill them with NaN.
#include <optional>
#include <utility>

#include "bindings/bindings.h"
#include "losses/losses.h"

namespace pycnn {
namespace {

using Outputs = std::optional<std::pair<FloatArray, FloatArray>>;

struct Prepared {
  LossShape shape;
  FloatArray loss, grad;
};

Prepared prepare(const FloatArray& pred, Outputs& out, const char* op) {
  check(pred.ndim() >= 1, op, "expected predictions of rank >= 1 (samples..., classes), got a scalar");
  std::vector<int64_t> full = shape_of(pred), lead(full.begin(), full.end() - 1);
  int64_t cols = full.back();
  LossShape s = loss_shape(op, cols ? pred.size() / cols : 0, cols);
  if (!out) return {s, empty_array(lead, op), empty_array(full, op)};
  check(shape_of(out->first) == lead && shape_of(out->second) == full, op, "expected `out` arrays of shapes ",
        shape_str(lead.begin(), lead.end()), " and ", shape_str(full.begin(), full.end()));
  return {s, out->first, out->second};
}

void require_same(const py::array& a, const py::array& b, const char* op, const char* na, const char* nb) {
  check(shape_of(a) == shape_of(b), op, "expected `", nb, "` with the shape of `", na, "` ", shape_str(a),
        ", got ", shape_str(b));
}

void require_sparse(const FloatArray& pred, const IntArray& labels, const char* op) {
  std::vector<int64_t> lead = shape_of(pred);
  lead.pop_back();
  check(shape_of(labels) == lead, op, "expected integer labels of shape ", shape_str(lead.begin(), lead.end()),
        ", got ", shape_str(labels));
}

using DenseKernel = void (*)(float*, float*, const float*, const float*, const LossShape&);
using SparseKernel = void (*)(float*, float*, const float*, const int32_t*, const LossShape&);

py::tuple run_dense(DenseKernel kernel, const char* op, FloatArray pred, FloatArray target, Outputs out) {
  require_same(pred, target, op, "predictions", "labels");
  Prepared p = prepare(pred, out, op);
  float *loss = p.loss.mutable_data(), *grad = p.grad.mutable_data();
  const float *x = pred.data(), *t = target.data();
  {
    py::gil_scoped_release release;
    kernel(loss, grad, x, t, p.shape);
  }
  return py::make_tuple(p.loss, p.grad);
}

py::tuple run_sparse(SparseKernel kernel, const char* op, FloatArray pred, IntArray labels, Outputs out) {
  Prepared p = prepare(pred, out, op);
  require_sparse(pred, labels, op);
  float *loss = p.loss.mutable_data(), *grad = p.grad.mutable_data();
  const float* x = pred.data();
  const int32_t* k = labels.data();
  {
    py::gil_scoped_release release;
    kernel(loss, grad, x, k, p.shape);
  }
  return py::make_tuple(p.loss, p.grad);
}

}  // namespace

void bind_losses(py::module_& m) {
  m.def("softmax_cross_entropy", [](FloatArray logits, FloatArray labels, Outputs out) {
    return run_dense(softmax_cross_entropy, "softmax_cross_entropy", logits, labels, out);
  }, py::arg("logits"), py::arg("labels"), py::arg("out") = py::none());
  m.def("softmax_cross_entropy_sparse", [](FloatArray logits, IntArray labels, Outputs out) {
    return run_sparse(softmax_cross_entropy_sparse, "softmax_cross_entropy", logits, labels, out);
  }, py::arg("logits"), py::arg("labels"), py::arg("out") = py::none());
  m.def("categorical_cross_entropy", [](FloatArray probs, FloatArray labels, Outputs out) {
    return run_dense(categorical_cross_entropy, "categorical_cross_entropy", probs, labels, out);
  }, py::arg("probs"), py::arg("labels"), py::arg("out") = py::none());
  m.def("categorical_cross_entropy_sparse", [](FloatArray probs, IntArray labels, Outputs out) {
    return run_sparse(categorical_cross_entropy_sparse, "categorical_cross_entropy", probs, labels, out);
  }, py::arg("probs"), py::arg("labels"), py::arg("out") = py::none());
  m.def("binary_cross_entropy", [](FloatArray pred, FloatArray target, bool from_logits, Outputs out) {
    const char* op = "binary_cross_entropy";
    require_same(pred, target, op, "y_pred", "y_true");
    Prepared p = prepare(pred, out, op);
    float *loss = p.loss.mutable_data(), *grad = p.grad.mutable_data();
    const float *x = pred.data(), *t = target.data();
    {
      py::gil_scoped_release release;
      binary_cross_entropy(loss, grad, x, t, p.shape, from_logits);
    }
    return py::make_tuple(p.loss, p.grad);
  }, py::arg("y_pred"), py::arg("y_true"), py::arg("from_logits"), py::arg("out") = py::none());
  m.def("mean_squared_error", [](FloatArray pred, FloatArray target, Outputs out) {
    return run_dense(mean_squared_error, "mean_squared_error", pred, target, out);
  }, py::arg("y_pred"), py::arg("y_true"), py::arg("out") = py::none());
}

}  // namespace pycnn
