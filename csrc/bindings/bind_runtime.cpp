// bind_runtime.cpp — threads and instruction-set information.
#include "bindings/bindings.h"
#include "common/cpu_features.h"
#include "common/parallel.h"

namespace pycnn {

void bind_runtime(py::module_& m) {
  m.def("set_num_threads", &set_num_threads, py::arg("n"));
  m.def("get_num_threads", &num_threads);
  m.def("best_isa", [] { return std::string(isa_name(best_isa())); });
  m.def("active_isa", [] { return std::string(isa_name(active_isa())); });
  m.def("supported_isas", [] {
    std::vector<std::string> names;
    for (Isa isa : {Isa::kPortable, Isa::kAvx2, Isa::kAvx512})
      if (isa_supported(isa)) names.emplace_back(isa_name(isa));
    return names;
  });
  // Forces every dispatched kernel onto one ISA (tests and benchmarks);
  // None restores the automatic choice.
  m.def("set_isa", [](py::object name) {
    if (name.is_none()) return clear_forced_isa();
    std::string s = py::cast<std::string>(name);
    for (Isa isa : {Isa::kPortable, Isa::kAvx2, Isa::kAvx512})
      if (s == isa_name(isa)) return set_forced_isa(isa);
    fail("set_isa", "expected one of 'portable', 'avx2', 'avx512' or None, got '", s, "'");
  }, py::arg("name"));
}

}  // namespace pycnn
