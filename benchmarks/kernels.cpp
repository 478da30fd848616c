// kernels.cpp — the kernel benchmark: runs every case registered by the
// benchmarks/bench_<family>.cpp files (see bench.h).
//
//   pycnn_bench_kernels [--threads 1,2] [--filter TEXT] [--reps N] [--min-ms MS]
//
// Per thread count it first measures its own yardsticks — SGEMM GFLOP/s at
// 2048^3 through pycnn::sgemm and copy GB/s over 256 MiB — then verifies
// each case once (a wrong kernel is never timed) and times the cases in
// interleaved rounds, printing medians and the % of the yardstick.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench.h"
#include "common/cpu_features.h"
#include "common/parallel.h"
#include "common/workspace.h"
#include "gemm/gemm.h"

namespace pycnn::bench {

std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

namespace {

using Clock = std::chrono::steady_clock;

// Seconds per call, calling fn until min_seconds have passed.
double seconds_per_call(const std::function<void()>& fn, double min_seconds) {
  int calls = 0;
  auto start = Clock::now();
  double elapsed = 0;
  do {
    fn();
    ++calls;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < min_seconds);
  return elapsed / calls;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double timed_median(const std::function<void()>& fn, int reps, double min_seconds) {
  fn();  // warm-up
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) t.push_back(seconds_per_call(fn, min_seconds));
  return median(t);
}

double sgemm_peak_gflops(int reps) {
  const int64_t n = 2048;
  AlignedBuffer a(n * n), b(n * n), c(n * n);
  for (int64_t i = 0; i < n * n; ++i) a.data()[i] = b.data()[i] = float(i % 7) * 0.25f;
  double s = timed_median([&] { sgemm(false, false, n, n, n, 1.f, a.data(), n, b.data(), n, 0.f, c.data(), n); },
                          reps, 0.2);
  return 2.0 * n * n * n / s * 1e-9;
}

double copy_bandwidth_gbs(int reps) {
  const int64_t n = int64_t(64) << 20;  // 64 Mi floats = 256 MiB
  AlignedBuffer src(n), dst(n);
  std::memset(src.data(), 1, n * sizeof(float));
  std::memset(dst.data(), 0, n * sizeof(float));
  double s = timed_median([&] {
    parallel_for(n, int64_t(1) << 20, [&](int64_t b, int64_t e) {
      std::memcpy(dst.data() + b, src.data() + b, (e - b) * sizeof(float));
    });
  }, reps, 0.2);
  return 2.0 * n * sizeof(float) / s * 1e-9;
}

struct Options {
  std::vector<int> threads{1};
  std::string filter;
  int reps = 7;
  double min_seconds = 0.05;
};

Options parse(int argc, char** argv) {
  Options o;
  o.threads = {1, num_threads()};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "missing value after %s\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--threads") {
      o.threads.clear();
      std::string list = value();
      for (char* tok = std::strtok(list.data(), ","); tok; tok = std::strtok(nullptr, ","))
        o.threads.push_back(std::max(1, std::atoi(tok)));
    } else if (arg == "--filter") {
      o.filter = value();
    } else if (arg == "--reps") {
      o.reps = std::max(1, std::atoi(value().c_str()));
    } else if (arg == "--min-ms") {
      o.min_seconds = std::max(0.001, std::atof(value().c_str()) / 1000.0);
    } else {
      std::fprintf(stderr, "usage: %s [--threads 1,2] [--filter TEXT] [--reps N] [--min-ms MS]\n", argv[0]);
      std::exit(2);
    }
  }
  return o;
}

}  // namespace
}  // namespace pycnn::bench

int main(int argc, char** argv) {
  using namespace pycnn;
  using namespace pycnn::bench;
  Options opt = parse(argc, argv);
  std::vector<Case*> cases;
  for (Case& c : registry())
    if (opt.filter.empty() || (c.family + " " + c.name).find(opt.filter) != std::string::npos) cases.push_back(&c);
  std::printf("# pycnn kernel benchmark: %zu cases, isa %s, %d repetitions (interleaved), median\n", cases.size(),
              isa_name(active_isa()), opt.reps);

  for (int threads : opt.threads) {
    set_num_threads(threads);
    const double peak = sgemm_peak_gflops(3), bandwidth = copy_bandwidth_gbs(3);
    std::printf("\n## %d thread(s): SGEMM 2048^3 %.1f GFLOP/s, copy %.1f GB/s (measured now)\n\n", threads, peak,
                bandwidth);
    std::vector<Case*> good;
    for (Case* c : cases) {
      if (c->verify && !c->verify()) {
        std::printf("FAIL  %-10s %s (verification failed; not timed)\n", c->family.c_str(), c->name.c_str());
        continue;
      }
      c->run();  // warm-up
      good.push_back(c);
    }
    std::vector<std::vector<double>> samples(good.size());
    for (int r = 0; r < opt.reps; ++r)
      for (size_t i = 0; i < good.size(); ++i) samples[i].push_back(seconds_per_call(good[i]->run, opt.min_seconds));
    std::printf("| family | case | ms | rate | %% of yardstick |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < good.size(); ++i) {
      const Case& c = *good[i];
      const double s = median(samples[i]);
      if (c.flops > 0) {
        double g = c.flops / s * 1e-9;
        std::printf("| %s | %s | %.3f | %.1f GFLOP/s | %.0f%% |\n", c.family.c_str(), c.name.c_str(), s * 1e3, g,
                    100 * g / peak);
      } else if (c.bytes > 0) {
        double g = c.bytes / s * 1e-9;
        std::printf("| %s | %s | %.3f | %.1f GB/s | %.0f%% |\n", c.family.c_str(), c.name.c_str(), s * 1e3, g,
                    100 * g / bandwidth);
      } else {
        std::printf("| %s | %s | %.3f | | |\n", c.family.c_str(), c.name.c_str(), s * 1e3);
      }
    }
  }
  return 0;
}
