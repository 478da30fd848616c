// parallel.cpp — the thread-count setting shared by all kernels.
#include "common/parallel.h"

#include "common/check.h"

namespace pycnn {

int num_threads() { return omp_get_max_threads(); }

void set_num_threads(int n) {
  check(n >= 1, "set_num_threads", "expected a thread count >= 1, got ", n);
  omp_set_num_threads(n);
}

}  // namespace pycnn
