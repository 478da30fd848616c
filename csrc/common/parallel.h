// parallel.h — the one OpenMP pool and how kernels split work over it.
//
// Rules every kernel follows:
//  * parallelise the outermost useful loop, never inside another parallel
//    region (parallel_for runs serially when already inside one);
//  * stay single-threaded below a work threshold, since a fork/join costs
//    microseconds and far more on a busy host;
//  * reductions use fixed_chunks(): the partition depends on the problem size
//    only, never on the thread count, and partial results are summed in chunk
//    order, so results are bitwise identical for any number of threads.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace pycnn {

int num_threads();            // threads the next parallel region will use
void set_num_threads(int n);  // n >= 1; honours OMP_NUM_THREADS until called

// Elements of simple element-wise work below which forking does not pay.
constexpr int64_t kSerialElementwise = 1 << 15;

// Calls body(begin, end) on disjoint ranges covering [0, n). `grain` is the
// smallest range worth giving a thread; with work for fewer than two grains,
// or inside a parallel region, body(0, n) runs on the calling thread.
template <typename Body>
void parallel_for(int64_t n, int64_t grain, Body&& body) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  int threads = num_threads();
  int64_t max_parts = (n + grain - 1) / grain;
  if (threads <= 1 || max_parts < 2 || omp_in_parallel()) {
    body(int64_t(0), n);
    return;
  }
  int parts = int(std::min<int64_t>(threads, max_parts));
#pragma omp parallel num_threads(parts)
  {
    int t = omp_get_thread_num();
    int64_t begin = n * t / parts, end = n * (t + 1) / parts;
    if (begin < end) body(begin, end);
  }
}

// A partition of [0, n) into chunks of `chunk` items (the last may be short).
// It is a function of n and chunk alone; see the rules above.
struct FixedChunks {
  int64_t n, chunk, count;
  int64_t begin(int64_t i) const { return i * chunk; }
  int64_t end(int64_t i) const { return std::min(n, (i + 1) * chunk); }
};
inline FixedChunks fixed_chunks(int64_t n, int64_t chunk) {
  chunk = std::max<int64_t>(chunk, 1);
  return {n, chunk, n <= 0 ? 0 : (n + chunk - 1) / chunk};
}

// A partition of [0, n) into `count` chunks whose sizes differ by at most
// one, about `chunk` items each, their count rounded up to a multiple of the
// thread count so that every thread takes as much work. For work whose
// result does not depend on the partition only, never a reduction: a thread
// left one chunk short waits out a whole chunk at the join (29 chunks of
// the stride-2 forward's tiles on 2 threads: 7 % of a call spent waiting).
struct EvenChunks {
  int64_t n, count;
  int64_t begin(int64_t i) const { return n * i / count; }
  int64_t end(int64_t i) const { return n * (i + 1) / count; }
};
inline EvenChunks even_chunks(int64_t n, int64_t chunk) {
  if (n <= 0) return {n, 0};
  // Inside a parallel region the chunks run on the calling thread alone.
  const int64_t threads = omp_in_parallel() ? 1 : num_threads();
  int64_t count = (n + std::max<int64_t>(chunk, 1) - 1) / std::max<int64_t>(chunk, 1);
  if (count > 1 && threads > 1) count = std::min(n, (count + threads - 1) / threads * threads);
  return {n, count};
}

// Runs body(i) for each chunk index i in [0, count), spread over the threads.
template <typename Body>
void parallel_for_chunks(int64_t count, Body&& body) {
  parallel_for(count, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) body(i);
  });
}

// The last step of a fixed-chunk reduction: total[e] += partials[i*size + e]
// for i = 0 .. count-1 in that order. Element-wise, so any split of the
// elements over threads gives the same bits.
inline void add_partials(float* total, const float* partials, int64_t count, int64_t size) {
  if (count <= 0) return;
  parallel_for(size, 1 << 14, [&](int64_t e0, int64_t e1) {
    for (int64_t i = 0; i < count; ++i) {
      const float* p = partials + i * size;
#pragma omp simd
      for (int64_t e = e0; e < e1; ++e) total[e] += p[e];
    }
  });
}

}  // namespace pycnn
