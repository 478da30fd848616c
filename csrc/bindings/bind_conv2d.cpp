// bind_conv2d.cpp — Python bindings of the conv2d kernels.
//
// conv2d_forward / conv2d_backward take float32 C-contiguous arrays (pycnn.ops
// converts), build Conv2dArgs from the shapes, validate through
// conv2d_shape() and run with the GIL released. The optional out arrays are a
// test hook: tests pre-fill them with NaN so an unwritten element shows;
// need_weight_grad=False (benchmarks) computes dx alone.
#include <array>
#include <optional>

#include "bindings/bindings.h"
#include "conv2d/conv2d.h"
#include "conv2d/conv2d_pool.h"
#include "dense/dense.h"

namespace pycnn {
namespace {

constexpr const char* kOp = "conv2d";

using Pair = std::array<int64_t, 2>;
using Pads = std::array<int64_t, 4>;  // top, bottom, left, right

Conv2dArgs make_args(const py::array& x, const py::array& weight, int64_t bias_size, Pair strides,
                     int padding, Pads pads, Pair dilation, int64_t groups) {
  require_rank(x, 4, kOp, "x", "(batch, height, width, channels)");
  require_rank(weight, 4, kOp, "kernel", "(kernel_h, kernel_w, in_channels/groups, out_channels)");
  check(padding >= 0 && padding <= 2, kOp, "unknown padding mode ", padding);
  Conv2dArgs a;
  for (int d = 0; d < 4; ++d) a.x_shape[d] = x.shape(d), a.weight_shape[d] = weight.shape(d);
  a.bias_size = bias_size;
  a.stride_h = strides[0], a.stride_w = strides[1];
  a.dilation_h = dilation[0], a.dilation_w = dilation[1];
  a.groups = groups;
  a.padding = static_cast<Conv2dPadding>(padding);
  a.pad_top = pads[0], a.pad_bottom = pads[1], a.pad_left = pads[2], a.pad_right = pads[3];
  return a;
}

ActivationSpec activation_spec(int kind, float alpha, const char* op) {
  check(kind >= 0 && kind <= static_cast<int>(Activation::kTanh), op, "unknown activation code ", kind);
  return {static_cast<Activation>(kind), alpha};
}

// A caller-supplied output (test hook) or a fresh array.
FloatArray output(const std::optional<py::array>& out, const std::vector<int64_t>& shape, const char* op,
                  const char* name) {
  if (!out) return empty_array(shape, op);
  const py::array& o = *out;
  check(o.dtype().is(py::dtype::of<float>()) && (o.flags() & py::array::c_style) && o.writeable(), op,
        "`", name, "` must be a writeable C-contiguous float32 array");
  check(shape_of(o) == shape, op, "`", name, "` has shape ", shape_str(o), ", expected ",
        shape_str(shape.begin(), shape.end()));
  return py::reinterpret_borrow<FloatArray>(o);
}

}  // namespace

void bind_conv2d(py::module_& m) {
  m.def(
      "conv2d_max_pool2d",
      [](FloatArray x, FloatArray weight, std::optional<FloatArray> bias, Pair strides, int padding,
         Pads pads, Pair dilation, int64_t groups, int activation, float alpha, Pair pool, Pair pool_strides,
         bool pool_same, bool return_argmax, std::optional<float> fill) -> py::object {
        const char* op = "conv2d_max_pool2d";
        if (bias) require_rank(*bias, 1, kOp, "bias", "(out_channels,)");
        Conv2dShape s = conv2d_shape(make_args(x, weight, bias ? bias->shape(0) : -1, strides, padding,
                                               pads, dilation, groups));
        ActivationSpec act = activation_spec(activation, alpha, kOp);
        Pool2dShape p = pool2d_shape(op, s.n, s.oh, s.ow, s.k, pool[0], pool[1], pool_strides[0],
                                     pool_strides[1], pool_same);
        FloatArray y = empty_array({p.n, p.oh, p.ow, p.c}, op);
        prefill(y, fill);
        py::array_t<int32_t> argmax;
        if (return_argmax) {
          argmax = empty_array<int32_t>({p.n, p.oh, p.ow, p.c}, op);
          prefill(argmax, fill ? std::optional<float>(-1.f) : std::nullopt);
        }
        const float* b = bias ? bias->data() : nullptr;
        {
          py::gil_scoped_release release;
          conv2d_max_pool2d_forward(y.mutable_data(), return_argmax ? argmax.mutable_data() : nullptr, x.data(),
                                    weight.data(), b, s, act, p);
        }
        if (return_argmax) return py::make_tuple(y, argmax);
        return y;
      },
      py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("strides"), py::arg("padding"),
      py::arg("pads"), py::arg("dilation"), py::arg("groups"), py::arg("activation"), py::arg("alpha"),
      py::arg("pool"), py::arg("pool_strides"), py::arg("pool_same"), py::arg("return_argmax") = false,
      py::arg("fill") = py::none());

  m.def(
      "conv2d_forward",
      [](FloatArray x, FloatArray weight, std::optional<FloatArray> bias, Pair strides, int padding,
         Pads pads, Pair dilation, int64_t groups, int activation, float alpha,
         std::optional<py::array> out) {
        if (bias) require_rank(*bias, 1, kOp, "bias", "(out_channels,)");
        Conv2dShape s = conv2d_shape(make_args(x, weight, bias ? bias->shape(0) : -1, strides, padding,
                                               pads, dilation, groups));
        ActivationSpec act = activation_spec(activation, alpha, kOp);
        FloatArray y = output(out, {s.n, s.oh, s.ow, s.k}, kOp, "out");
        const float* b = bias ? bias->data() : nullptr;
        {
          py::gil_scoped_release release;
          conv2d_forward(y.mutable_data(), x.data(), weight.data(), b, s, act);
        }
        return y;
      },
      py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("strides"), py::arg("padding"),
      py::arg("pads"), py::arg("dilation"), py::arg("groups"), py::arg("activation"),
      py::arg("alpha"), py::arg("out") = py::none());

  m.def(
      "conv2d_backward",
      [](FloatArray dy, FloatArray x, FloatArray weight, Pair strides, int padding, Pads pads,
         Pair dilation, int64_t groups, bool need_input_grad, bool need_bias_grad,
         bool need_weight_grad, std::optional<py::array> out_dx, std::optional<py::array> out_dweight,
         std::optional<py::array> out_dbias) {
        Conv2dShape s = conv2d_shape(make_args(x, weight, -1, strides, padding, pads, dilation, groups));
        std::vector<int64_t> y_shape{s.n, s.oh, s.ow, s.k};
        check(shape_of(dy) == y_shape, kOp, "expected dy of shape ", shape_str(y_shape.begin(), y_shape.end()),
              " (the output shape for x.shape=", shape_str(x), "), got ", shape_str(dy));
        py::object dx = py::none(), dweight = py::none(), dbias = py::none();
        float *dx_ptr = nullptr, *dw_ptr = nullptr, *db_ptr = nullptr;
        if (need_weight_grad) {
          FloatArray a = output(out_dweight, shape_of(weight), kOp, "out_dweight");
          dw_ptr = a.mutable_data();
          dweight = a;
        }
        if (need_input_grad) {
          FloatArray a = output(out_dx, shape_of(x), kOp, "out_dx");
          dx_ptr = a.mutable_data();
          dx = a;
        }
        if (need_bias_grad) {
          FloatArray a = output(out_dbias, {s.k}, kOp, "out_dbias");
          db_ptr = a.mutable_data();
          dbias = a;
        }
        {
          py::gil_scoped_release release;
          if (dx_ptr) conv2d_backward_input(dx_ptr, dy.data(), weight.data(), s);
          if (dw_ptr)
            conv2d_backward_weight(dw_ptr, db_ptr, dy.data(), x.data(), s);
          else if (db_ptr)
            column_sums(db_ptr, dy.data(), s.rows(), s.k);
        }
        return py::make_tuple(dx, dweight, dbias);
      },
      py::arg("dy"), py::arg("x"), py::arg("weight"), py::arg("strides"), py::arg("padding"),
      py::arg("pads"), py::arg("dilation"), py::arg("groups"), py::arg("need_input_grad") = true,
      py::arg("need_bias_grad") = true, py::arg("need_weight_grad") = true, py::arg("out_dx") = py::none(),
      py::arg("out_dweight") = py::none(), py::arg("out_dbias") = py::none());
}

}  // namespace pycnn
