// bench_gemm.cpp — SGEMM cases: 2048^3 and the GEMMs the seed networks'
// conv and dense passes imply (same list as benchmarks/bench_gemm.py).
// Each is verified once on a sample of entries against double sums.
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench.h"
#include "common/workspace.h"
#include "gemm/gemm.h"

namespace {

struct GemmCase {
  const char* name;
  int64_t m, n, k;
  bool trans_a, trans_b;
};

const GemmCase kCases[] = {
    {"square 2048", 2048, 2048, 2048, false, false},
    {"mnist conv2 fwd", 7744, 64, 288, false, false},
    {"mnist conv2 d-input", 7744, 288, 64, false, true},
    {"mnist conv2 d-weight", 288, 64, 7744, true, false},
    {"cifar conv3 fwd", 8192, 64, 288, false, false},
    {"face conv2 fwd", 41216, 32, 144, false, false},
    {"face conv3 fwd", 10304, 64, 288, false, false},
    {"face conv3 d-weight", 288, 64, 10304, true, false},
    {"mnist dense 576->64", 64, 64, 576, false, false},
    {"face dense 10752->512 fwd", 16, 512, 10752, false, false},
    {"face dense 10752->512 dW", 10752, 512, 16, true, false},
    {"face dense 10752->512 dx", 16, 10752, 512, false, true},
};

struct Operands {
  pycnn::AlignedBuffer a, b, c;
  Operands(const GemmCase& g) : a(g.m * g.k), b(g.k * g.n), c(g.m * g.n) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (size_t i = 0; i < a.size(); ++i) a.data()[i] = u(rng);
    for (size_t i = 0; i < b.size(); ++i) b.data()[i] = u(rng);
  }
};

void run(const GemmCase& g, Operands& o) {
  pycnn::sgemm(g.trans_a, g.trans_b, g.m, g.n, g.k, 1.f, o.a.data(), g.trans_a ? g.m : g.k, o.b.data(),
               g.trans_b ? g.k : g.n, 0.f, o.c.data(), g.n);
}

bool verify(const GemmCase& g, Operands& o) {
  run(g, o);
  std::mt19937 rng(11);
  for (int s = 0; s < 64; ++s) {
    int64_t i = rng() % g.m, j = rng() % g.n;
    double want = 0;
    for (int64_t p = 0; p < g.k; ++p)
      want += double(g.trans_a ? o.a.data()[p * g.m + i] : o.a.data()[i * g.k + p]) *
              double(g.trans_b ? o.b.data()[j * g.k + p] : o.b.data()[p * g.n + j]);
    if (!(std::fabs(o.c.data()[i * g.n + j] - want) <= 1e-4 * std::sqrt(double(g.k)) * (1 + std::fabs(want))))
      return false;
  }
  return true;
}

const bool registered = [] {
  for (const GemmCase& g : kCases) {
    auto operands = std::make_shared<Operands>(g);
    pycnn::bench::add({"gemm", g.name, 2.0 * g.m * g.n * g.k, 0, [g, operands] { run(g, *operands); },
                       [g, operands] { return verify(g, *operands); }});
  }
  return true;
}();

}  // namespace
