// bind_batchnorm.cpp — Python bindings of the batch-norm kernels (csrc/batchnorm).
//
// x has any rank >= 2 and is viewed as (M, C) over its last axis. The moving
// statistics are updated in place, so they must already be float32,
// C-contiguous and writeable: they are taken as plain arrays and checked
// here, never converted (a converted copy would swallow the update).
#include <algorithm>
#include <optional>

#include "batchnorm/batchnorm.h"
#include "bindings/bindings.h"

namespace pycnn {
namespace {

BatchNormShape shape_for(const char* op, const py::array& x) {
  check(x.ndim() >= 2, op, "expected `x` of rank >= 2 (..., C), got shape ", shape_str(x));
  int64_t c = x.shape(x.ndim() - 1);
  int64_t rows = 1;
  for (int i = 0; i + 1 < x.ndim(); ++i) rows = checked_mul(rows, x.shape(i), op);
  return batch_norm_shape(op, rows, c);
}

void require_vector(const py::array& v, int64_t c, const char* op, const char* name) {
  check(v.ndim() == 1 && v.shape(0) == c, op, "expected `", name, "` of shape (", c,
        ",) for ", c, " channels, got ", shape_str(v));
}

const float* optional_vector(const std::optional<FloatArray>& v, int64_t c, const char* op,
                             const char* name) {
  if (!v) return nullptr;
  require_vector(*v, c, op, name);
  return v->data();
}

float* in_place_vector(py::array& v, int64_t c, const char* op, const char* name) {
  check(v.dtype().is(py::dtype::of<float>()) && (v.flags() & py::array::c_style) && v.writeable(),
        op, "`", name, "` is updated in place and must be a writeable float32 C-contiguous array");
  require_vector(v, c, op, name);
  return static_cast<float*>(v.mutable_data());
}

ActivationSpec activation_arg(int kind, float alpha, const char* op) {
  check(kind >= int(Activation::kNone) && kind <= int(Activation::kTanh), op,
        "unknown activation code ", kind);
  return {Activation(kind), alpha};
}

}  // namespace

void bind_batchnorm(py::module_& m) {
  m.def("batch_norm_train", [](FloatArray x, std::optional<FloatArray> gamma,
                               std::optional<FloatArray> beta, py::array moving_mean,
                               py::array moving_var, float momentum, float eps, int act, float alpha,
                               std::optional<float> fill) {
    const char* op = "batch_norm";
    BatchNormShape s = shape_for(op, x);
    const int64_t C = s.channels;
    const float* g = optional_vector(gamma, C, op, "gamma");
    const float* b = optional_vector(beta, C, op, "beta");
    float* mm = in_place_vector(moving_mean, C, op, "moving_mean");
    float* mv = in_place_vector(moving_var, C, op, "moving_variance");
    auto y = empty_array(shape_of(x), op);
    auto mean = empty_array({C}, op);
    auto inv_std = empty_array({C}, op);
    prefill(y, fill);
    prefill(mean, fill);
    prefill(inv_std, fill);
    {
      py::gil_scoped_release release;
      batch_norm_forward_train(y.mutable_data(), mean.mutable_data(), inv_std.mutable_data(), mm, mv,
                               x.data(), g, b, momentum, eps, activation_arg(act, alpha, op), s);
    }
    return py::make_tuple(y, mean, inv_std);
  }, py::arg("x"), py::arg("gamma"), py::arg("beta"), py::arg("moving_mean"),
     py::arg("moving_variance"), py::arg("momentum"), py::arg("epsilon"), py::arg("activation"),
     py::arg("alpha"), py::arg("fill") = py::none());

  m.def("batch_norm_inference", [](FloatArray x, std::optional<FloatArray> gamma,
                                   std::optional<FloatArray> beta, FloatArray moving_mean,
                                   FloatArray moving_var, float eps, int act, float alpha,
                                   std::optional<float> fill) {
    const char* op = "batch_norm";
    BatchNormShape s = shape_for(op, x);
    const int64_t C = s.channels;
    const float* g = optional_vector(gamma, C, op, "gamma");
    const float* b = optional_vector(beta, C, op, "beta");
    require_vector(moving_mean, C, op, "moving_mean");
    require_vector(moving_var, C, op, "moving_variance");
    auto y = empty_array(shape_of(x), op);
    prefill(y, fill);
    {
      py::gil_scoped_release release;
      batch_norm_forward_inference(y.mutable_data(), x.data(), g, b, moving_mean.data(),
                                   moving_var.data(), eps, activation_arg(act, alpha, op), s);
    }
    return y;
  }, py::arg("x"), py::arg("gamma"), py::arg("beta"), py::arg("moving_mean"),
     py::arg("moving_variance"), py::arg("epsilon"), py::arg("activation"), py::arg("alpha"),
     py::arg("fill") = py::none());

  m.def("batch_norm_backward", [](FloatArray dy, FloatArray x, std::optional<FloatArray> gamma,
                                  FloatArray mean, FloatArray inv_std, std::optional<FloatArray> y,
                                  int act, float alpha, std::optional<float> fill) {
    const char* op = "batch_norm_backward";
    BatchNormShape s = shape_for(op, x);
    check(shape_of(dy) == shape_of(x), op, "dy of shape ", shape_str(dy),
          " does not match x of shape ", shape_str(x));
    const int64_t C = s.channels;
    const float* g = optional_vector(gamma, C, op, "gamma");
    require_vector(mean, C, op, "mean");
    require_vector(inv_std, C, op, "inv_std");
    ActivationSpec spec = activation_arg(act, alpha, op);
    check(spec.kind == Activation::kNone || (y && shape_of(*y) == shape_of(x)), op,
          "a fused activation needs the activated output `y` of the shape of x ", shape_str(x));
    check(!((spec.kind == Activation::kLeakyRelu || spec.kind == Activation::kElu) && !(alpha > 0.f)), op,
          "the activation's derivative cannot be taken from its output when alpha <= 0");
    auto dx = empty_array(shape_of(x), op);
    auto dgamma = empty_array({C}, op);
    auto dbeta = empty_array({C}, op);
    prefill(dx, fill);
    prefill(dgamma, fill);
    prefill(dbeta, fill);
    {
      py::gil_scoped_release release;
      batch_norm_backward_activation(dx.mutable_data(), dgamma.mutable_data(), dbeta.mutable_data(),
                                     dy.data(), spec.kind == Activation::kNone ? nullptr : y->data(),
                                     x.data(), g, mean.data(), inv_std.data(), spec, s);
    }
    return py::make_tuple(dx, dgamma, dbeta);
  }, py::arg("dy"), py::arg("x"), py::arg("gamma"), py::arg("mean"), py::arg("inv_std"),
     py::arg("y") = py::none(), py::arg("activation") = 0, py::arg("alpha") = 0.f,
     py::arg("fill") = py::none());
}

}  // namespace pycnn
