// bench.h — how a kernel family registers cases with the benchmark executable.
//
// Each benchmarks/bench_<family>.cpp defines cases at static-init time:
//
//   static const bool registered = pycnn::bench::add({
//       "conv2d", "mnist conv2 fwd N64 13x13x32->64 k3",
//       /*flops=*/2.0 * m * n * k, /*bytes=*/0,
//       [=] { pycnn::conv2d_forward(...); },   // the timed call
//       [=] { return max_error_vs_reference() < 1e-3; }});  // checked once
//
// benchmarks/kernels.cpp runs every case at 1 and at N threads: verifies it
// once (a wrong kernel is never timed), times interleaved repetitions, and
// prints the median ms, GFLOP/s (flops > 0) or GB/s (bytes > 0), and the
// percentage of the SGEMM peak / memory bandwidth it measured itself.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace pycnn::bench {

struct Case {
  std::string family;             // "gemm", "conv2d", "pool2d", ...
  std::string name;               // readable: network, layer, pass, shape
  double flops = 0;               // useful floating-point operations per call
  double bytes = 0;               // minimum bytes moved per call (memory-bound ops)
  std::function<void()> run;      // the timed call
  std::function<bool()> verify;   // optional correctness check, run once first
};

std::vector<Case>& registry();
inline bool add(Case c) {
  registry().push_back(std::move(c));
  return true;
}

}  // namespace pycnn::bench
