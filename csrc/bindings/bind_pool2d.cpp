// bind_pool2d.cpp — Python bindings of the pooling kernels (csrc/pool2d).
//
// Pool sizes and strides arrive as (h, w) pairs, padding as same=True/False.
// Global pooling is pooling with the window equal to the input.
#include <algorithm>
#include <optional>

#include "bindings/bindings.h"
#include "pool2d/pool2d.h"

namespace pycnn {
namespace {

Pool2dShape shape_for(const char* op, const std::vector<int64_t>& in, int64_t ph, int64_t pw,
                      int64_t sh, int64_t sw, bool same) {
  return pool2d_shape(op, in[0], in[1], in[2], in[3], ph, pw, sh, sw, same);
}

std::vector<int64_t> input_shape_arg(const char* op, const std::vector<int64_t>& in) {
  check(in.size() == 4, op, "expected input_shape (N, H, W, C), got ", shape_str(in.begin(), in.end()));
  return in;
}

// (y, argmax), or y alone without with_argmax (inference: nothing to route gradients through).
py::object max_pool(const char* op, FloatArray x, int64_t ph, int64_t pw, int64_t sh, int64_t sw,
                    bool same, const std::optional<float>& fill, bool with_argmax) {
  require_rank(x, 4, op, "x", "(N, H, W, C)");
  Pool2dShape s = shape_for(op, shape_of(x), ph, pw, sh, sw, same);
  auto y = empty_array({s.n, s.oh, s.ow, s.c}, op);
  prefill(y, fill);
  if (!with_argmax) {
    py::gil_scoped_release release;
    max_pool2d_forward(y.mutable_data(), nullptr, x.data(), s);
    return std::move(y);
  }
  auto argmax = empty_array<int32_t>({s.n, s.oh, s.ow, s.c}, op);
  prefill(argmax, fill ? std::optional<float>(-1.f) : std::nullopt);
  {
    py::gil_scoped_release release;
    max_pool2d_forward(y.mutable_data(), argmax.mutable_data(), x.data(), s);
  }
  return py::make_tuple(y, argmax);
}

FloatArray max_pool_backward(const char* op, FloatArray dy, IntArray argmax,
                             const std::vector<int64_t>& input_shape, const std::optional<float>& fill) {
  auto in = input_shape_arg(op, input_shape);
  check(dy.ndim() == argmax.ndim() && shape_of(dy) == shape_of(argmax), op, "argmax of shape ",
        shape_str(argmax), " does not match dy of shape ", shape_str(dy));
  check(dy.ndim() >= 2 && dy.shape(0) == in[0] && dy.shape(dy.ndim() - 1) == in[3], op,
        "dy of shape ", shape_str(dy), " does not match input_shape ",
        shape_str(in.begin(), in.end()));
  // Validates the input shape (sizes, int32 range) with a 1x1 valid pool.
  Pool2dShape s = shape_for(op, in, 1, 1, 1, 1, false);
  int64_t in_img = s.h * s.w * s.c, out_img = s.n ? int64_t(dy.size()) / s.n : 0;
  auto dx = empty_array({s.n, s.h, s.w, s.c}, op);
  prefill(dx, fill);
  bool ok;
  {
    py::gil_scoped_release release;
    ok = max_pool2d_backward_input(dx.mutable_data(), dy.data(), argmax.data(), s.n, in_img, out_img);
  }
  check(ok, op, "argmax holds indices outside [0, ", in_img, "), the size of one input image ",
        shape_str(in.begin() + 1, in.end()), "; pass the argmax returned by the forward pass");
  return dx;
}

// The backward with the forward's windows known, optionally through the
// activation that produced the pooled tensor (act code as in batch norm).
FloatArray max_pool_backward_windows(FloatArray dy, IntArray argmax, const std::vector<int64_t>& input_shape,
                                     int64_t ph, int64_t pw, int64_t sh, int64_t sw, bool same,
                                     std::optional<FloatArray> y, int act, float alpha,
                                     const std::optional<float>& fill) {
  const char* op = "max_pool2d_backward";
  auto in = input_shape_arg(op, input_shape);
  Pool2dShape s = shape_for(op, in, ph, pw, sh, sw, same);
  std::vector<int64_t> want{s.n, s.oh, s.ow, s.c};
  check(shape_of(dy) == want, op, "expected dy of shape ", shape_str(want.begin(), want.end()),
        " for input_shape ", shape_str(in.begin(), in.end()), ", got ", shape_str(dy));
  check(shape_of(argmax) == want, op, "argmax of shape ", shape_str(argmax), " does not match dy of shape ",
        shape_str(dy));
  check(act >= int(Activation::kNone) && act <= int(Activation::kTanh), op, "unknown activation code ", act);
  ActivationSpec spec{Activation(act), alpha};
  check(spec.kind == Activation::kNone || (y && shape_of(*y) == want), op,
        "a fused activation needs the pooled output `y` of shape ", shape_str(want.begin(), want.end()));
  check(!((spec.kind == Activation::kLeakyRelu || spec.kind == Activation::kElu) && !(alpha > 0.f)), op,
        "the activation's derivative cannot be taken from its output when alpha <= 0");
  auto dx = empty_array({s.n, s.h, s.w, s.c}, op);
  prefill(dx, fill);
  bool ok;
  {
    py::gil_scoped_release release;
    ok = max_pool2d_backward_windows(dx.mutable_data(), dy.data(), argmax.data(), y ? y->data() : nullptr,
                                     spec, s);
  }
  check(ok, op, "argmax holds indices outside the pooling windows of an input image ",
        shape_str(in.begin() + 1, in.end()), "; pass the argmax returned by the forward pass");
  return dx;
}

}  // namespace

void bind_pool2d(py::module_& m) {
  // `op` names the public function in error messages (global pooling reuses these).
  m.def("max_pool2d", [](FloatArray x, int64_t ph, int64_t pw, int64_t sh, int64_t sw, bool same,
                         const std::string& op, std::optional<float> fill, bool with_argmax) {
    return max_pool(op.c_str(), x, ph, pw, sh, sw, same, fill, with_argmax);
  }, py::arg("x"), py::arg("pool_h"), py::arg("pool_w"), py::arg("stride_h"), py::arg("stride_w"),
     py::arg("same"), py::arg("op") = "max_pool2d", py::arg("fill") = py::none(), py::arg("with_argmax") = true);

  m.def("max_pool2d_backward", [](FloatArray dy, IntArray argmax, std::vector<int64_t> input_shape,
                                  const std::string& op, std::optional<float> fill) {
    return max_pool_backward(op.c_str(), dy, argmax, input_shape, fill);
  }, py::arg("dy"), py::arg("argmax"), py::arg("input_shape"), py::arg("op") = "max_pool2d_backward",
     py::arg("fill") = py::none());

  m.def("max_pool2d_backward_windows", &max_pool_backward_windows, py::arg("dy"), py::arg("argmax"),
        py::arg("input_shape"), py::arg("pool_h"), py::arg("pool_w"), py::arg("stride_h"), py::arg("stride_w"),
        py::arg("same"), py::arg("y") = py::none(), py::arg("act") = 0, py::arg("alpha") = 0.f,
        py::arg("fill") = py::none());

  m.def("avg_pool2d", [](FloatArray x, int64_t ph, int64_t pw, int64_t sh, int64_t sw, bool same,
                         const std::string& op_name, std::optional<float> fill) {
    const char* op = op_name.c_str();
    require_rank(x, 4, op, "x", "(N, H, W, C)");
    Pool2dShape s = shape_for(op, shape_of(x), ph, pw, sh, sw, same);
    auto y = empty_array({s.n, s.oh, s.ow, s.c}, op);
    prefill(y, fill);
    {
      py::gil_scoped_release release;
      avg_pool2d_forward(y.mutable_data(), x.data(), s);
    }
    return y;
  }, py::arg("x"), py::arg("pool_h"), py::arg("pool_w"), py::arg("stride_h"), py::arg("stride_w"),
     py::arg("same"), py::arg("op") = "avg_pool2d", py::arg("fill") = py::none());

  m.def("avg_pool2d_backward", [](FloatArray dy, std::vector<int64_t> input_shape, int64_t ph,
                                  int64_t pw, int64_t sh, int64_t sw, bool same,
                                  const std::string& op_name, std::optional<float> fill) {
    const char* op = op_name.c_str();
    auto in = input_shape_arg(op, input_shape);
    Pool2dShape s = shape_for(op, in, ph, pw, sh, sw, same);
    std::vector<int64_t> want{s.n, s.oh, s.ow, s.c};
    check(shape_of(dy) == want, op, "expected dy of shape ", shape_str(want.begin(), want.end()),
          " for input_shape ", shape_str(in.begin(), in.end()), ", got ", shape_str(dy));
    auto dx = empty_array({s.n, s.h, s.w, s.c}, op);
    prefill(dx, fill);
    {
      py::gil_scoped_release release;
      avg_pool2d_backward_input(dx.mutable_data(), dy.data(), s);
    }
    return dx;
  }, py::arg("dy"), py::arg("input_shape"), py::arg("pool_h"), py::arg("pool_w"),
     py::arg("stride_h"), py::arg("stride_w"), py::arg("same"), py::arg("op") = "avg_pool2d_backward",
     py::arg("fill") = py::none());
}

}  // namespace pycnn
