// bind_dense.cpp — Python bindings of the dense kernels.
//
// Same shape as bind_conv2d.cpp: validate through dense_shape(), allocate,
// release the GIL, call. The optional out arrays are a NaN-sentinel test hook.
#include <optional>

#include "bindings/bindings.h"
#include "dense/dense.h"

namespace pycnn {
namespace {

constexpr const char* kOp = "dense";

FloatArray output(const std::optional<py::array>& out, const std::vector<int64_t>& shape, const char* name) {
  if (!out) return empty_array(shape, kOp);
  const py::array& o = *out;
  check(o.dtype().is(py::dtype::of<float>()) && (o.flags() & py::array::c_style) && o.writeable(), kOp,
        "`", name, "` must be a writeable C-contiguous float32 array");
  check(shape_of(o) == shape, kOp, "`", name, "` has shape ", shape_str(o), ", expected ",
        shape_str(shape.begin(), shape.end()));
  return py::reinterpret_borrow<FloatArray>(o);
}

DenseShape shape_for(const FloatArray& x, const FloatArray& weight, int64_t bias_size) {
  require_rank(weight, 2, kOp, "kernel", "(in_features, units)");
  return dense_shape(shape_of(x), weight.shape(0), weight.shape(1), bias_size);
}

}  // namespace

void bind_dense(py::module_& m) {
  m.def(
      "dense_forward",
      [](FloatArray x, FloatArray weight, std::optional<FloatArray> bias, int activation, float alpha,
         std::optional<py::array> out) {
        if (bias) require_rank(*bias, 1, kOp, "bias", "(units,)");
        DenseShape s = shape_for(x, weight, bias ? bias->shape(0) : -1);
        check(activation >= 0 && activation <= static_cast<int>(Activation::kTanh), kOp,
              "unknown activation code ", activation);
        ActivationSpec act{static_cast<Activation>(activation), alpha};
        std::vector<int64_t> y_shape = shape_of(x);
        y_shape.back() = s.out;
        FloatArray y = output(out, y_shape, "out");
        const float* b = bias ? bias->data() : nullptr;
        {
          py::gil_scoped_release release;
          dense_forward(y.mutable_data(), x.data(), weight.data(), b, s, act);
        }
        return y;
      },
      py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("activation"), py::arg("alpha"),
      py::arg("out") = py::none());

  m.def(
      "dense_backward",
      [](FloatArray dy, FloatArray x, FloatArray weight, bool need_input_grad, bool need_bias_grad,
         bool need_weight_grad, std::optional<py::array> out_dx, std::optional<py::array> out_dweight,
         std::optional<py::array> out_dbias) {
        DenseShape s = shape_for(x, weight, -1);
        std::vector<int64_t> y_shape = shape_of(x);
        y_shape.back() = s.out;
        check(shape_of(dy) == y_shape, kOp, "expected dy of shape ", shape_str(y_shape.begin(), y_shape.end()),
              " (the output shape for x.shape=", shape_str(x), "), got ", shape_str(dy));
        py::object dx = py::none(), dweight = py::none(), dbias = py::none();
        float *dx_ptr = nullptr, *dw_ptr = nullptr, *db_ptr = nullptr;
        if (need_weight_grad) {
          FloatArray a = output(out_dweight, shape_of(weight), "out_dweight");
          dw_ptr = a.mutable_data();
          dweight = a;
        }
        if (need_input_grad) {
          FloatArray a = output(out_dx, shape_of(x), "out_dx");
          dx_ptr = a.mutable_data();
          dx = a;
        }
        if (need_bias_grad) {
          FloatArray a = output(out_dbias, {s.out}, "out_dbias");
          db_ptr = a.mutable_data();
          dbias = a;
        }
        {
          py::gil_scoped_release release;
          if (dx_ptr) dense_backward_input(dx_ptr, dy.data(), weight.data(), s);
          if (dw_ptr) dense_backward_weight(dw_ptr, db_ptr, dy.data(), x.data(), s);
          else if (db_ptr) column_sums(db_ptr, dy.data(), s.rows, s.out);
        }
        return py::make_tuple(dx, dweight, dbias);
      },
      py::arg("dy"), py::arg("x"), py::arg("weight"), py::arg("need_input_grad") = true,
      py::arg("need_bias_grad") = true, py::arg("need_weight_grad") = true, py::arg("out_dx") = py::none(),
      py::arg("out_dweight") = py::none(), py::arg("out_dbias") = py::none());
}

}  // namespace pycnn
