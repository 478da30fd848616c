// bindings.h — pybind11 glue shared by the bind_*.cpp files.
//
// The bindings are thin: they check dtype, contiguity and rank, hand raw
// pointers and sizes to a family's validating *_shape() function, allocate
// outputs, release the GIL and call the kernel. Only csrc/bindings/ includes
// pybind11. pycnn.ops (Python) is the public face and converts inputs to
// contiguous float32 before calling here; these checks are the last guard.
// The small ops also have a fast lane that is called first (fast_lane.h).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/check.h"

namespace pycnn {
namespace py = pybind11;

// The arrays the core accepts: float32, C-contiguous. Without forcecast,
// pybind11 refuses other dtypes instead of silently converting them.
using FloatArray = py::array_t<float, py::array::c_style>;
using IntArray = py::array_t<int32_t, py::array::c_style>;
using Int64Array = py::array_t<int64_t, py::array::c_style>;

inline std::vector<int64_t> shape_of(const py::array& a) {
  return std::vector<int64_t>(a.shape(), a.shape() + a.ndim());
}

inline ShapeText<const py::ssize_t*> shape_str(const py::array& a) {
  return shape_str(a.shape(), a.shape() + a.ndim());
}

inline bool same_shape(const py::array& a, const py::array& b) {
  return a.ndim() == b.ndim() && std::equal(a.shape(), a.shape() + a.ndim(), b.shape());
}

// "[op] expected `x` of rank 4 (N, H, W, C), got shape (28, 28)" (the
// wording of pycnn.ops' require_rank)
inline void require_rank(const py::array& a, int rank, const char* op, const char* name,
                         const char* layout) {
  check(a.ndim() == rank, op, "expected `", name, "` of rank ", rank, " ", layout,
        ", got shape ", shape_str(a));
}

// A fresh C-contiguous float32 array; numpy raises MemoryError if too big.
template <typename T = float>
py::array_t<T> empty_array(const std::vector<int64_t>& shape, const char* op) {
  // numpy's strides multiply the trailing dimensions even when another one
  // is 0, so an empty array with huge dimensions would overflow them: the
  // product of the dimensions > 1 must stay in range, whatever the count.
  int64_t stride_span = int64_t(sizeof(T));
  for (int64_t d : shape) {
    check(d >= 0, op, "negative dimension in the output shape ", shape_str(shape.begin(), shape.end()));
    if (d > 1 && stride_span > kMaxElements / d)
      fail(op, "the output of shape ", shape_str(shape.begin(), shape.end()), " is too large");
    if (d > 1) stride_span *= d;
  }
  return py::array_t<T>(std::vector<py::ssize_t>(shape.begin(), shape.end()));
}

// Test hook: fills an output before the kernel runs (NaN, say), so an
// element the kernel forgot to write shows up.
template <typename T, int Flags>
void prefill(py::array_t<T, Flags>& a, const std::optional<float>& fill) {
  if (fill) std::fill(a.mutable_data(), a.mutable_data() + a.size(), T(*fill));
}

void bind_runtime(py::module_& m);
void bind_gemm(py::module_& m);
void bind_conv2d(py::module_& m);
void bind_dense(py::module_& m);
void bind_pool2d(py::module_& m);
void bind_batchnorm(py::module_& m);
void bind_activations(py::module_& m);
void bind_losses(py::module_& m);
void bind_dropout(py::module_& m);
void bind_optim(py::module_& m);
void bind_fast_op(py::module_& m);

}  // namespace pycnn
