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
#include "bindings/fast_lane.h"

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

// Fast lane (fast_lane.h): x as the kernels read it, with at least one
// channel (C = 0 takes the checked path's shortcut), viewed as (rows, C).
bool fast_input(py::handle h, py::array& x, BatchNormShape& s) {
  if (!fast::float_array(h, x) || x.ndim() < 2 || x.shape(x.ndim() - 1) == 0) return false;
  s = {x.size() / x.shape(x.ndim() - 1), x.shape(x.ndim() - 1)};
  return true;
}

// An array shaped like x and two (C,) vectors, pre-filled by the test hook,
// written by kernel(array, vector, vector) and returned as a tuple: the
// outputs of the forward (y, mean, inv_std) and the backward (dx, dgamma,
// dbeta), from either entry.
template <typename Kernel>
py::tuple outputs(const py::array& x, const BatchNormShape& s, const std::optional<float>& fill, Kernel&& kernel) {
  auto full = fast::new_array(x);
  auto first = fast::new_vector(s.channels);
  auto second = fast::new_vector(s.channels);
  prefill(full, fill);
  prefill(first, fill);
  prefill(second, fill);
  float *pf = full.mutable_data(), *p1 = first.mutable_data(), *p2 = second.mutable_data();
  fast::run_kernel(double(s.rows) * double(s.channels), [&] { kernel(pf, p1, p2); });
  return py::make_tuple(full, first, second);
}

py::tuple train(const float* x, const py::array& x_shape, const float* gamma, const float* beta, float* moving_mean,
                float* moving_var, float momentum, float eps, ActivationSpec act, const BatchNormShape& s,
                const std::optional<float>& fill = std::nullopt) {
  return outputs(x_shape, s, fill, [&](float* y, float* mean, float* inv_std) {
    batch_norm_forward_train(y, mean, inv_std, moving_mean, moving_var, x, gamma, beta, momentum, eps, act, s);
  });
}

py::tuple backward(const float* dy, const float* y, const float* x, const py::array& x_shape, const float* gamma,
                   const float* mean, const float* inv_std, ActivationSpec act, const BatchNormShape& s,
                   const std::optional<float>& fill = std::nullopt) {
  return outputs(x_shape, s, fill, [&](float* dx, float* dgamma, float* dbeta) {
    batch_norm_backward_activation(dx, dgamma, dbeta, dy, y, x, gamma, mean, inv_std, act, s);
  });
}

// The fast lane of pycnn.ops.batch_norm_train: its arguments as they come,
// the activation by name; None unless all are as the kernel reads them.
py::object batch_norm_train_fast(PyObject* const* args) {
  const py::handle x_in = args[0], gamma_in = args[1], beta_in = args[2], mm_in = args[3], mv_in = args[4],
                   momentum_in = args[5], eps_in = args[6], act_in = args[7], alpha_in = args[8];
  py::array x = fast::no_array();
  BatchNormShape s;
  const float *g, *b;
  float *mm, *mv;
  double momentum, eps;
  ActivationSpec act;
  if (!fast_input(x_in, x, s) || !fast::vector(gamma_in, s.channels, g, true) ||
      !fast::vector(beta_in, s.channels, b, true) || !fast::writeable_vector(mm_in, s.channels, mm) ||
      !fast::writeable_vector(mv_in, s.channels, mv) || !fast::real(momentum_in, momentum) ||
      !(momentum >= 0.0 && momentum <= 1.0) || !fast::real(eps_in, eps) || !(eps > 0.0) ||
      !fast::activation(act_in, alpha_in, act))
    return py::none();
  return train(static_cast<const float*>(x.data()), x, g, b, mm, mv, float(momentum), float(eps), act, s);
}

// The fast lane of pycnn.ops.batch_norm_backward (y is read only with a
// fused activation, as there).
py::object batch_norm_backward_fast(PyObject* const* args) {
  const py::handle dy_in = args[0], x_in = args[1], gamma_in = args[2], mean_in = args[3], inv_std_in = args[4],
                   act_in = args[5], alpha_in = args[6], y_in = args[7];
  py::array dy = fast::no_array(), x = fast::no_array(), y = fast::no_array();
  BatchNormShape s;
  const float *g, *mean, *inv_std;
  ActivationSpec act;
  if (!fast_input(x_in, x, s) || !fast::float_array(dy_in, dy) || !same_shape(dy, x) ||
      !fast::vector(gamma_in, s.channels, g, true) || !fast::vector(mean_in, s.channels, mean) ||
      !fast::vector(inv_std_in, s.channels, inv_std) || !fast::activation(act_in, alpha_in, act))
    return py::none();
  const bool fused = act.kind != Activation::kNone;
  if (fused && (!fast::float_array(y_in, y) || !same_shape(y, x))) return py::none();
  if ((act.kind == Activation::kLeakyRelu || act.kind == Activation::kElu) && !(act.alpha > 0.f))
    return py::none();
  return backward(static_cast<const float*>(dy.data()), fused ? static_cast<const float*>(y.data()) : nullptr,
                  static_cast<const float*>(x.data()), x, g, mean, inv_std, act, s);
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
    return train(x.data(), x, g, b, mm, mv, momentum, eps, activation_arg(act, alpha, op), s, fill);
  }, py::arg("x"), py::arg("gamma"), py::arg("beta"), py::arg("moving_mean"),
     py::arg("moving_variance"), py::arg("momentum"), py::arg("epsilon"), py::arg("activation"),
     py::arg("alpha"), py::arg("fill") = py::none());

  fast::def<batch_norm_train_fast, 9>(m, "batch_norm_train_fast",
                                      "batch_norm_train_fast(x, gamma, beta, moving_mean, moving_variance, momentum, "
                                      "epsilon, activation, alpha): the fast lane of pycnn.ops.batch_norm_train");

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
    return backward(dy.data(), spec.kind == Activation::kNone ? nullptr : y->data(), x.data(), x, g, mean.data(),
                    inv_std.data(), spec, s, fill);
  }, py::arg("dy"), py::arg("x"), py::arg("gamma"), py::arg("mean"), py::arg("inv_std"),
     py::arg("y") = py::none(), py::arg("activation") = 0, py::arg("alpha") = 0.f,
     py::arg("fill") = py::none());

  fast::def<batch_norm_backward_fast, 8>(m, "batch_norm_backward_fast",
                                         "batch_norm_backward_fast(dy, x, gamma, mean, inv_std, activation, alpha, y): "
                                         "the fast lane of pycnn.ops.batch_norm_backward");
}

}  // namespace pycnn
