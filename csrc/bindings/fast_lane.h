// fast_lane.h — the small ops' fast lane: arguments used as they come.
//
// On small tensors a call's cost is its argument handling, not its kernel:
// a 32x128 batch norm spent 6 us in the Python checks and pybind11's
// conversions around a 1.3 us kernel, where a numpy call costs 1 us in all.
// The *_fast entry points take their arguments as plain handles (pybind11
// converts nothing) and run the kernel only when every argument already is
// what the kernel reads: float32 ndarrays, aligned and C-contiguous (gemm:
// rows contiguous), exact Python floats, ints and bools, shapes that agree,
// values in range. Anything else, well-formed or not, makes them return None,
// and the op's Python function, its checked path, converts the inputs or
// raises the documented error. The fast lane therefore never raises (an
// allocation's MemoryError aside) and never changes what a call returns.
// pycnn.ops calls the entries from C, without a Python frame (fast_op.cpp).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <new>
#include <stdexcept>

#include "bindings/bindings.h"
#include "common/activation.h"

namespace pycnn::fast {

// Kernels on fewer elements than this keep the GIL: releasing and taking it
// back costs about as much as the kernel itself (numpy does the same).
constexpr int64_t kReleaseGilElements = 1 << 14;

// Runs kernel(), releasing the GIL when `elements` (a double: a GEMM's
// multiply-adds may exceed int64) reach kReleaseGilElements.
template <typename Kernel>
void run_kernel(double elements, Kernel&& kernel) {
  if (elements < double(kReleaseGilElements)) return kernel();
  py::gil_scoped_release release;
  kernel();
}

// A py::array holding nothing yet. py::array's default constructor makes a
// zero-size numpy array, freed again when the holder is assigned: two of
// numpy's allocations for each array argument of a call.
inline py::array no_array() { return py::reinterpret_borrow<py::array>(py::handle()); }

// `h` as an array the kernels can read in place: an ndarray of native
// float32, aligned, and C-contiguous when `c_contiguous`.
inline bool float_array(py::handle h, py::array& out, bool c_contiguous = true) {
  if (!py::array_t<float>::check_(h)) return false;
  out = py::reinterpret_borrow<py::array>(h);
  const int need = py::detail::npy_api::NPY_ARRAY_ALIGNED_ | (c_contiguous ? py::array::c_style : 0);
  return (out.flags() & need) == need;
}

// A (c,) float32 vector, or None (nullptr) when `optional`.
inline bool vector(py::handle h, int64_t c, const float*& data, bool optional = false) {
  if (h.is_none()) {
    data = nullptr;
    return optional;
  }
  py::array v = no_array();
  if (!float_array(h, v) || v.ndim() != 1 || v.shape(0) != c) return false;
  data = static_cast<const float*>(v.data());
  return true;
}

// A (c,) float32 vector the kernel writes in place.
inline bool writeable_vector(py::handle h, int64_t c, float*& data) {
  py::array v = no_array();
  if (!float_array(h, v) || !v.writeable() || v.ndim() != 1 || v.shape(0) != c) return false;
  data = static_cast<float*>(v.mutable_data());
  return true;
}

// An exact Python float that is finite.
inline bool real(py::handle h, double& value) {
  if (!PyFloat_CheckExact(h.ptr())) return false;
  value = PyFloat_AS_DOUBLE(h.ptr());
  return std::isfinite(value);
}

// True or False themselves.
inline bool flag(py::handle h, bool& value) {
  if (h.ptr() != Py_True && h.ptr() != Py_False) return false;
  value = h.ptr() == Py_True;
  return true;
}

// An exact Python int in [0, 2**64).
inline bool counter(py::handle h, uint64_t& value) {
  if (!PyLong_CheckExact(h.ptr())) return false;
  value = PyLong_AsUnsignedLongLong(h.ptr());
  if (value == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
    PyErr_Clear();  // negative or too large: the checked path says so
    return false;
  }
  return true;
}

// A fusable activation given as pycnn.ops names it (None or a lower-case
// name) and its alpha (None: the name's default, else an exact float).
inline bool activation(py::handle name, py::handle alpha, ActivationSpec& spec) {
  struct Named {
    const char* name;
    Activation kind;
    float default_alpha;
  };
  static const Named kNamed[] = {{"linear", Activation::kNone, 0.f},      {"relu", Activation::kRelu, 0.f},
                                 {"leaky_relu", Activation::kLeakyRelu, 0.2f}, {"elu", Activation::kElu, 1.f},
                                 {"sigmoid", Activation::kSigmoid, 0.f},  {"tanh", Activation::kTanh, 0.f}};
  spec = {Activation::kNone, 0.f};
  if (!name.is_none()) {
    if (!PyUnicode_CheckExact(name.ptr())) return false;
    const char* text = PyUnicode_AsUTF8(name.ptr());
    if (!text) {
      PyErr_Clear();
      return false;
    }
    const Named* found = nullptr;
    for (const Named& n : kNamed)
      if (std::strcmp(text, n.name) == 0) found = &n;
    if (!found) return false;
    spec = {found->kind, found->default_alpha};
  }
  if (alpha.is_none()) return true;
  double a;
  if (!real(alpha, a)) return false;
  spec.alpha = float(a);
  return true;
}

// A new C-contiguous float32 array of a shape the caller has validated (an
// input's shape, or sizes checked against kMaxElements). Straight through
// numpy's API: pybind11's constructor builds shape and stride vectors first
// (170 -> 120 ns a (32, 128) array, and a batch norm returns three).
inline py::array_t<float> new_array(const py::ssize_t* shape, int ndim) {
  auto& api = py::detail::npy_api::get();
  PyObject* descr = api.PyArray_DescrFromType_(py::detail::npy_api::NPY_FLOAT_);
  PyObject* array = api.PyArray_NewFromDescr_(api.PyArray_Type_, descr, ndim, const_cast<Py_intptr_t*>(shape),
                                              nullptr, nullptr, 0, nullptr);  // steals descr
  if (!array) throw py::error_already_set();
  return py::reinterpret_steal<py::array_t<float>>(array);
}

inline py::array_t<float> new_array(const py::array& like) { return new_array(like.shape(), int(like.ndim())); }

inline py::array_t<float> new_vector(py::ssize_t n) { return new_array(&n, 1); }

// The entries are plain METH_FASTCALL builtins of a fixed number of
// positional arguments: pybind11's dispatcher loads every argument through a
// caster, about 15 ns each (a batch norm has nine).
using Entry = py::object (*)(PyObject* const* args);

template <Entry kEntry, Py_ssize_t kArity>
PyObject* call_entry(PyObject* /*self*/, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != kArity)
    return PyErr_Format(PyExc_TypeError, "expected %zd positional arguments, got %zd", kArity, nargs);
  try {
    return kEntry(args).release().ptr();
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (const std::bad_alloc&) {
    PyErr_NoMemory();
  } catch (const std::invalid_argument& e) {  // what check() throws, as pybind11 maps it
    PyErr_SetString(PyExc_ValueError, e.what());
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  }
  return nullptr;
}

// m.name = kEntry, taking kArity positional arguments.
template <Entry kEntry, Py_ssize_t kArity>
void def(py::module_& m, const char* name, const char* doc) {
  static PyMethodDef method = {
      name, reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&call_entry<kEntry, kArity>)),
      METH_FASTCALL, doc};
  m.add_object(name, py::reinterpret_steal<py::object>(PyCFunction_NewEx(&method, nullptr, nullptr)));
}

}  // namespace pycnn::fast
