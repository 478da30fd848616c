// fast_op.cpp — _core.FastOp: a pycnn.ops function whose fast lane runs
// without a Python frame.
//
// An op with a fast lane (fast_lane.h) is written as a Python function, its
// checked path, and wrapped (pycnn/ops/_fast_lane.py) in a FastOp holding
// its `*_fast` entry. A call binds the arguments to the entry's slots here,
// in C: positionals, keywords by name, the function's own defaults. Only when
// they do not bind (the function then raises its own TypeError) or when the
// entry returns None (something to convert or to refuse) does the Python
// function run, with the arguments as they came. The Python frame that used
// to call the entry first cost 0.14 us of a 1.4 us dense batch norm.
//
// For inspect and help() a FastOp looks like the function it wraps: it
// carries its __name__, __doc__ and __wrapped__ (functools.update_wrapper),
// and binds like a function when it is a class attribute.
#include <cstddef>
#include <cstring>

#include "bindings/bindings.h"

namespace pycnn {
namespace {

constexpr int kMaxParams = 12;

// Py_XNewRef (Python 3.10+).
PyObject* new_ref(PyObject* obj) {
  Py_XINCREF(obj);
  return obj;
}

// A METH_FASTCALL builtin's C function.
using FastCall = PyObject* (*)(PyObject* self, PyObject* const* args, Py_ssize_t nargs);

struct FastOp {
  PyObject_HEAD
  vectorcallfunc vectorcall;
  PyObject* dict;      // __name__, __doc__, __wrapped__, ...
  PyObject* function;  // the checked path: a Python function
  PyObject* entry;     // the fast lane: a METH_FASTCALL builtin
  FastCall call;       // its C function
  int positional;      // parameters that may be given by position
  int params;          // all of them, positional first, then keyword-only
  PyObject* names[kMaxParams];     // interned
  PyObject* defaults[kMaxParams];  // nullptr: required
  int slot_of[kMaxParams];         // where the entry takes each parameter
};

// Parameter p of `op` named `name`, or -1. Keywords are usually the
// interned names themselves.
int param_named(const FastOp* op, PyObject* name) {
  for (int p = 0; p < op->params; ++p)
    if (op->names[p] == name) return p;
  for (int p = 0; p < op->params; ++p)
    if (PyUnicode_Compare(op->names[p], name) == 0) return p;
  return -1;
}

PyObject* fast_op_call(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  auto* op = reinterpret_cast<FastOp*>(self);
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  if (nargs <= op->positional) {
    PyObject* given[kMaxParams] = {};
    for (Py_ssize_t i = 0; i < nargs; ++i) given[i] = args[i];
    bool bound = true;
    const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw && bound; ++k) {
      const int p = param_named(op, PyTuple_GET_ITEM(kwnames, k));
      bound = p >= 0 && !given[p];
      if (bound) given[p] = args[nargs + k];
    }
    PyObject* slots[kMaxParams];
    for (int p = 0; p < op->params && bound; ++p) {
      PyObject* value = given[p] ? given[p] : op->defaults[p];
      bound = value != nullptr;
      slots[op->slot_of[p]] = value;
    }
    if (bound) {
      PyObject* result = op->call(nullptr, slots, op->params);
      if (result != Py_None) return result;  // the result, or nullptr with an error set
      Py_DECREF(result);
    }
  }
  return PyObject_Vectorcall(op->function, args, nargsf, kwnames);
}

// An int attribute of a code object (co_argcount, ...), -1 with an error set.
int int_attr(PyObject* obj, const char* name) {
  PyObject* value = PyObject_GetAttrString(obj, name);
  if (!value) return -1;
  const long v = PyLong_AsLong(value);
  Py_DECREF(value);
  return int(v);
}

// FastOp(entry, function, order): `order` names the function's parameters in
// the order the entry takes them.
PyObject* fast_op_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  PyObject *entry, *function, *order;
  static const char* keywords[] = {"entry", "function", "order", nullptr};
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO!:FastOp", const_cast<char**>(keywords), &entry, &function,
                                   &PyTuple_Type, &order))
    return nullptr;
  if (!PyCFunction_Check(entry) || PyCFunction_GET_FLAGS(entry) != METH_FASTCALL) {
    PyErr_SetString(PyExc_TypeError, "FastOp: `entry` must be a _core.*_fast function");
    return nullptr;
  }
  if (!PyFunction_Check(function)) {
    PyErr_SetString(PyExc_TypeError, "FastOp: `function` must be a Python function");
    return nullptr;
  }
  PyObject* code = PyFunction_GET_CODE(function);
  const int positional = int_attr(code, "co_argcount"), keyword_only = int_attr(code, "co_kwonlyargcount");
  const int positional_only = int_attr(code, "co_posonlyargcount"), flags = int_attr(code, "co_flags");
  if (PyErr_Occurred()) return nullptr;
  const int params = positional + keyword_only;
  if (positional_only != 0 || (flags & (CO_VARARGS | CO_VARKEYWORDS)) || params > kMaxParams ||
      PyTuple_GET_SIZE(order) != params) {
    PyErr_Format(PyExc_TypeError,
                 "FastOp: the function needs at most %d named parameters (no /, *args or **kwargs), "
                 "each named once in `order`", kMaxParams);
    return nullptr;
  }
  PyObject* varnames = PyObject_GetAttrString(code, "co_varnames");
  if (!varnames) return nullptr;
  auto* op = reinterpret_cast<FastOp*>(type->tp_alloc(type, 0));
  if (!op) {
    Py_DECREF(varnames);
    return nullptr;
  }
  op->vectorcall = fast_op_call;
  op->function = new_ref(function);
  op->entry = new_ref(entry);
  op->call = reinterpret_cast<FastCall>(reinterpret_cast<void (*)()>(PyCFunction_GET_FUNCTION(entry)));
  op->positional = positional;
  op->params = params;
  PyObject* defaults = PyFunction_GET_DEFAULTS(function);      // the last positionals', or nullptr
  PyObject* kw_defaults = PyFunction_GET_KW_DEFAULTS(function);  // dict or nullptr
  const Py_ssize_t first_default = positional - (defaults ? PyTuple_GET_SIZE(defaults) : 0);
  bool ok = true;
  for (int p = 0; p < params && ok; ++p) {
    PyObject* name = PyTuple_GET_ITEM(varnames, p);
    Py_INCREF(name);
    PyUnicode_InternInPlace(&name);
    op->names[p] = name;  // owned from here (dealloc releases `params` of them)
    PyObject* value = nullptr;
    if (p < positional && p >= first_default) value = PyTuple_GET_ITEM(defaults, p - first_default);
    if (p >= positional && kw_defaults) value = PyDict_GetItemWithError(kw_defaults, name);
    op->defaults[p] = new_ref(value);
    op->slot_of[p] = -1;
    for (int s = 0; s < params; ++s) {
      PyObject* slot = PyTuple_GET_ITEM(order, s);
      if (PyUnicode_Check(slot) && PyUnicode_Compare(slot, name) == 0) op->slot_of[p] = s;
    }
    ok = !PyErr_Occurred() && op->slot_of[p] >= 0;
  }
  Py_DECREF(varnames);
  if (!ok) {
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_TypeError, "FastOp: `order` must name each of the function's parameters once");
    Py_DECREF(op);
    return nullptr;
  }
  return reinterpret_cast<PyObject*>(op);
}

int fast_op_traverse(PyObject* self, visitproc visit, void* arg) {
  auto* op = reinterpret_cast<FastOp*>(self);
  Py_VISIT(op->dict);
  Py_VISIT(op->function);
  Py_VISIT(op->entry);
  for (int p = 0; p < op->params; ++p) Py_VISIT(op->defaults[p]);
  return 0;
}

int fast_op_clear(PyObject* self) {
  auto* op = reinterpret_cast<FastOp*>(self);
  Py_CLEAR(op->dict);
  Py_CLEAR(op->function);
  Py_CLEAR(op->entry);
  for (int p = 0; p < op->params; ++p) Py_CLEAR(op->defaults[p]);
  return 0;
}

void fast_op_dealloc(PyObject* self) {
  auto* op = reinterpret_cast<FastOp*>(self);
  PyObject_GC_UnTrack(self);
  fast_op_clear(self);
  for (int p = 0; p < op->params; ++p) Py_CLEAR(op->names[p]);
  Py_TYPE(self)->tp_free(self);
}

// As a class attribute it binds like the function it wraps.
PyObject* fast_op_get(PyObject* self, PyObject* obj, PyObject* /*type*/) {
  if (obj == nullptr || obj == Py_None) return new_ref(self);
  return PyMethod_New(self, obj);
}

PyObject* fast_op_repr(PyObject* self) { return PyObject_Repr(reinterpret_cast<FastOp*>(self)->function); }

// Pickled, and copied, by name, as functions are: __reduce__ returns the
// __qualname__ that functools.update_wrapper set.
PyObject* fast_op_reduce(PyObject* self, PyObject* /*unused*/) {
  return PyObject_GetAttrString(self, "__qualname__");
}

PyMethodDef fast_op_methods[] = {{"__reduce__", fast_op_reduce, METH_NOARGS, nullptr},
                                 {nullptr, nullptr, 0, nullptr}};

PyGetSetDef fast_op_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, nullptr, nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyTypeObject fast_op_type;  // zeros; filled in by bind_fast_op

}  // namespace

void bind_fast_op(py::module_& m) {
  PyTypeObject& t = fast_op_type;
  Py_SET_REFCNT(reinterpret_cast<PyObject*>(&t), 1);  // as PyVarObject_HEAD_INIT
  t.tp_name = "pycnn._core.FastOp";
  t.tp_doc = "FastOp(entry, function, order): `function` (the checked path) with its fast lane `entry` run first";
  t.tp_basicsize = sizeof(FastOp);
  t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL;
  t.tp_new = fast_op_new;
  t.tp_dealloc = fast_op_dealloc;
  t.tp_traverse = fast_op_traverse;
  t.tp_clear = fast_op_clear;
  t.tp_vectorcall_offset = offsetof(FastOp, vectorcall);
  t.tp_call = PyVectorcall_Call;
  t.tp_dictoffset = offsetof(FastOp, dict);
  t.tp_getset = fast_op_getset;
  t.tp_methods = fast_op_methods;
  t.tp_descr_get = fast_op_get;
  t.tp_repr = fast_op_repr;
  if (PyType_Ready(&t) < 0) throw py::error_already_set();
  m.add_object("FastOp", py::reinterpret_borrow<py::object>(reinterpret_cast<PyObject*>(&t)));
}

}  // namespace pycnn
