// bind_optim.cpp — Python bindings of the fused optimizer updates.
//
// Each takes lists of arrays (params, grads, slots...) and updates params and
// slots in place. Arrays updated in place must be float32, C-contiguous and
// writeable, and every grad and slot must have its param's shape (a grad may
// also be a tuple of factors, see factored_grad); anything else raises
// ValueError naming the op before any array is touched.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "bindings/bindings.h"
#include "optim/optim.h"

namespace pycnn {
namespace {

bool is_float32_c(const py::array& a) {
  return a.dtype().is(py::dtype::of<float>()) && (a.flags() & py::array::c_style);
}

// The element name of list `what` at `index`: "params[3]". Only built
// for a message: these checks run once per parameter on every step, and
// formatting eagerly (numpy's dtype __str__ runs Python) cost 10+ us each.
std::string item(const std::string& what, size_t index) { return what + "[" + std::to_string(index) + "]"; }

// `index` < 0: `what` names the object alone.
py::array as_array(const py::handle& h, const char* op, const std::string& what, int64_t index) {
  if (!py::isinstance<py::array>(h))
    fail(op, "expected ", index < 0 ? what : item(what, size_t(index)), " to be a numpy array, got ",
         std::string(py::str(py::type::handle_of(h).attr("__name__"))));
  return py::reinterpret_borrow<py::array>(h);
}

// An array updated in place twice in one call (the same buffer passed as a
// param and a slot, say) would be updated twice, and a gradient factor that
// shares memory with one would be read after part of it was updated: every
// non-empty param and slot must cover memory no other array does (factors
// may share with each other, they are only read). Sorted by start, so a
// call with many parameters checks in n log n.
void require_distinct(const char* op, const std::vector<ParamSlots>& arrays,
                      const std::vector<std::pair<const char*, py::object>>& slots) {
  struct Span {
    uintptr_t begin, end;
    size_t order;
    const char* name;
    size_t index;
    bool written;
  };
  std::vector<Span> spans;
  for (size_t i = 0; i < arrays.size(); ++i) {
    if (arrays[i].size == 0) continue;
    auto add = [&](const float* p, int64_t floats, const char* name, bool written) {
      const uintptr_t begin = reinterpret_cast<uintptr_t>(p);
      if (floats > 0)
        spans.push_back({begin, begin + uintptr_t(floats) * sizeof(float), spans.size(), name, i, written});
    };
    add(arrays[i].param, arrays[i].size, "params", true);
    for (size_t k = 0; k < slots.size(); ++k)
      if (arrays[i].slot[k]) add(arrays[i].slot[k], arrays[i].size, slots[k].first, true);
    const FactoredGrad& f = arrays[i].factored;
    if (f.a) {
      add(f.a, f.rows * (arrays[i].size / f.cols), "grads (factor a)", false);
      add(f.b, f.rows * f.cols, "grads (factor b)", false);
    }
  }
  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.begin != b.begin ? a.begin < b.begin : a.order < b.order; });
  // Sweep: the span reaching furthest so far, among all and among written.
  const Span *reach_any = nullptr, *reach_written = nullptr;
  for (const Span& s : spans) {
    const Span* other = s.written ? reach_any : reach_written;
    if (other && s.begin < other->end) {
      const Span &later = s.order > other->order ? s : *other, &earlier = s.order > other->order ? *other : s;
      const bool same = s.begin == other->begin && s.end == other->end;
      fail(op, later.name, "[", later.index, "] ", same ? "is the same array as " : "overlaps ", earlier.name, "[",
           earlier.index, "]; every array updated in place must be distinct from the other arrays");
    }
    if (!reach_any || s.end > reach_any->end) reach_any = &s;
    if (s.written && (!reach_written || s.end > reach_written->end)) reach_written = &s;
  }
}

// A factored gradient comes as a tuple (a, b) of float32 C-contiguous
// matrices, a: (rows, in) and b: (rows, cols), for an (in, cols) parameter.
FactoredGrad factored_grad(const char* op, const py::tuple& t, const py::array& p, size_t index) {
  const std::string idx = "[" + std::to_string(index) + "]";
  check(t.size() == 2, op, "grads", idx, " given as a tuple must be the factors (a, b), got ", t.size(), " items");
  py::array a = as_array(t[0], op, "grads" + idx + " factor a", -1);
  py::array b = as_array(t[1], op, "grads" + idx + " factor b", -1);
  check(is_float32_c(a) && is_float32_c(b), op, "grads", idx, " factors must be float32 C-contiguous");
  if (!(a.ndim() == 2 && b.ndim() == 2 && a.shape(0) == b.shape(0)))
    fail(op, "grads", idx, " factors must be matrices a (rows, in) and b (rows, out) with the same rows, got a.shape=",
         shape_str(a), " b.shape=", shape_str(b));
  const int64_t in = a.shape(1), cols = b.shape(1);
  if (!(p.ndim() == 2 && p.shape(0) == in && p.shape(1) == cols))
    fail(op, "grads", idx, " factors a.shape=", shape_str(a), " b.shape=", shape_str(b), " give a gradient of shape (",
         in, ", ", cols, ") but params", idx, " has shape ", shape_str(p));
  return {static_cast<const float*>(a.data()), static_cast<const float*>(b.data()), a.shape(0), cols};
}

// Collects the arrays: params and every slot list are updated in place; the
// lists must all have one entry per parameter (slot lists may be None when
// the optimizer does not use them).
std::vector<ParamSlots> collect(const char* op, const py::list& params, const py::list& grads,
                                const std::vector<std::pair<const char*, py::object>>& slots) {
  const size_t count = params.size();
  check(grads.size() == count, op, "expected one gradient per parameter: ", count, " params, ", grads.size(),
        " grads");
  std::vector<ParamSlots> out(count);
  std::vector<py::list> lists(slots.size());  // empty for an unused slot
  for (size_t k = 0; k < slots.size(); ++k) {
    if (slots[k].second.is_none()) continue;
    lists[k] = py::list(slots[k].second);
    check(lists[k].size() == count, op, "expected one `", slots[k].first, "` entry per parameter: ", count,
          " params, ", lists[k].size(), " ", slots[k].first);
  }
  for (size_t i = 0; i < count; ++i) {
    py::array p = as_array(params[i], op, "params", int64_t(i));
    if (!(is_float32_c(p) && p.writeable()))
      fail(op, item("params", i), " must be a writeable float32 C-contiguous array (updated in place), got dtype ",
           std::string(py::str(p.dtype())));
    out[i].param = static_cast<float*>(p.mutable_data());
    out[i].size = p.size();
    if (py::isinstance<py::tuple>(grads[i])) {
      out[i].factored = factored_grad(op, py::reinterpret_borrow<py::tuple>(grads[i]), p, i);
    } else {
      py::array g = as_array(grads[i], op, "grads", int64_t(i));
      if (!is_float32_c(g)) fail(op, item("grads", i), " must be float32 C-contiguous");
      if (!same_shape(g, p))
        fail(op, item("grads", i), " has shape ", shape_str(g), " but ", item("params", i), " has shape ", shape_str(p));
      out[i].grad = static_cast<const float*>(g.data());
    }
    for (size_t k = 0; k < slots.size(); ++k) {
      if (slots[k].second.is_none()) continue;
      const char* name = slots[k].first;
      py::array s = as_array(lists[k][i], op, name, int64_t(i));
      if (!(is_float32_c(s) && s.writeable()))
        fail(op, item(name, i), " must be a writeable float32 C-contiguous array (updated in place)");
      if (!same_shape(s, p))
        fail(op, item(name, i), " has shape ", shape_str(s), " but ", item("params", i), " has shape ", shape_str(p));
      out[i].slot[k] = static_cast<float*>(s.mutable_data());
    }
  }
  require_distinct(op, out, slots);
  return out;
}

}  // namespace

void bind_optim(py::module_& m) {
  m.def("sgd_update", [](py::list params, py::list grads, py::object velocities, float learning_rate,
                         float momentum, bool nesterov) {
    const char* op = "sgd_update";
    SgdHyper h{learning_rate, momentum, nesterov};
    check(momentum == 0.f || !velocities.is_none(), op, "momentum != 0 needs `velocities`");
    auto arrays = collect(op, params, grads, {{"velocities", momentum != 0.f ? velocities : py::none()}});
    py::gil_scoped_release release;
    sgd_update(arrays.data(), int64_t(arrays.size()), h);
  }, py::arg("params"), py::arg("grads"), py::arg("velocities"), py::arg("learning_rate"), py::arg("momentum"),
     py::arg("nesterov"));

  m.def("rmsprop_update", [](py::list params, py::list grads, py::list velocities, py::object momenta,
                             py::object average_grads, float learning_rate, float rho, float epsilon,
                             float momentum, bool centered) {
    const char* op = "rmsprop_update";
    RmspropHyper h{learning_rate, rho, epsilon, momentum, centered};
    check(!(momentum > 0.f) || !momenta.is_none(), op, "momentum > 0 needs `momenta`");
    check(!centered || !average_grads.is_none(), op, "centered=True needs `average_grads`");
    auto arrays = collect(op, params, grads,
                          {{"velocities", velocities},
                           {"momenta", momentum > 0.f ? momenta : py::none()},
                           {"average_grads", centered ? average_grads : py::none()}});
    py::gil_scoped_release release;
    rmsprop_update(arrays.data(), int64_t(arrays.size()), h);
  }, py::arg("params"), py::arg("grads"), py::arg("velocities"), py::arg("momenta"), py::arg("average_grads"),
     py::arg("learning_rate"), py::arg("rho"), py::arg("epsilon"), py::arg("momentum"), py::arg("centered"));

  m.def("adam_update", [](py::list params, py::list grads, py::list m_, py::list v, py::object v_hat,
                          float learning_rate, int64_t step, float beta_1, float beta_2, float epsilon,
                          bool amsgrad, float weight_decay) {
    const char* op = "adam_update";
    check(step >= 1, op, "expected the 1-based `step` >= 1, got ", step);
    check(!amsgrad || !v_hat.is_none(), op, "amsgrad=True needs `v_hat`");
    AdamHyper h{learning_rate, beta_1, beta_2, epsilon, weight_decay, step, amsgrad};
    auto arrays = collect(op, params, grads, {{"m", m_}, {"v", v}, {"v_hat", amsgrad ? v_hat : py::none()}});
    py::gil_scoped_release release;
    adam_update(arrays.data(), int64_t(arrays.size()), h);
  }, py::arg("params"), py::arg("grads"), py::arg("m"), py::arg("v"), py::arg("v_hat"), py::arg("learning_rate"),
     py::arg("step"), py::arg("beta_1"), py::arg("beta_2"), py::arg("epsilon"), py::arg("amsgrad"),
     py::arg("weight_decay"));
}

}  // namespace pycnn
