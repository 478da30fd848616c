// parallel.cpp — the thread-count setting shared by all kernels.
//
// OpenMP keeps omp_set_num_threads() per calling thread, so a count set from
// Python's main thread would not reach kernels called from other Python
// threads. The setting is therefore kept process-wide here; until it is set,
// each thread gets OpenMP's default (OMP_NUM_THREADS or all cores).
#include "common/parallel.h"

#include <atomic>

#include "common/check.h"

namespace pycnn {

namespace {
std::atomic<int> requested_threads{0};  // 0: never set
}  // namespace

int num_threads() {
  int n = requested_threads.load(std::memory_order_relaxed);
  return n > 0 ? n : omp_get_max_threads();
}

void set_num_threads(int n) {
  check(n >= 1, "set_num_threads", "expected a thread count >= 1, got ", n);
  requested_threads.store(n, std::memory_order_relaxed);
  omp_set_num_threads(n);
}

}  // namespace pycnn
