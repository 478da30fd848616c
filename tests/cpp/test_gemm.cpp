// test_gemm.cpp — sgemm on every micro-kernel ISA this CPU supports, against
// double-precision loops: all transposes, odd sizes and sizes that cross the
// K-slice / column-block / row-tile boundaries, leading dimensions larger
// than the matrix, beta == 0 over a NaN-filled C, the fused epilogue, and a
// guard band after C that must stay untouched.
#include <cmath>
#include <limits>
#include <random>

#include "common/cpu_features.h"
#include "gemm/gemm.h"
#include "testing.h"

using namespace pycnn;
using pycnn::testing::GuardedBuffer;

namespace {

double reference_activation(double v, const ActivationSpec& a) {
  switch (a.kind) {
    case Activation::kRelu: return v < 0 ? 0 : v;
    case Activation::kLeakyRelu: return v < 0 ? a.alpha * v : v;
    case Activation::kElu: return v < 0 ? a.alpha * std::expm1(v) : v;
    case Activation::kSigmoid: return 1 / (1 + std::exp(-v));
    case Activation::kTanh: return std::tanh(v);
    default: return v;
  }
}

void check_case(std::mt19937& rng, Isa isa, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                float beta, bool with_epilogue) {
  std::normal_distribution<float> normal;
  const int64_t pad = 3;  // leading dimensions larger than the rows
  const int64_t lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
  std::vector<float> a((ta ? k : m) * lda), b((tb ? n : k) * ldb), bias(n);
  for (float& v : a) v = normal(rng);
  for (float& v : b) v = normal(rng);
  for (float& v : bias) v = normal(rng);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  GuardedBuffer c(size_t(m * ldc), beta == 0.f ? nan : 0.5f);
  std::vector<float> c_before(c.data(), c.data() + m * ldc);

  GemmEpilogue ep;
  const Activation acts[] = {Activation::kNone, Activation::kRelu, Activation::kLeakyRelu, Activation::kSigmoid};
  if (with_epilogue) {
    ep.bias = bias.data();
    ep.activation = {acts[(m + n + k) % 4], 0.1f};
  }
  set_forced_isa(isa);
  sgemm(ta, tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc, ep);
  clear_forced_isa();

  CHECK(c.guard_intact(), "[%s] wrote past C (m=%ld n=%ld k=%ld)", isa_name(isa), long(m), long(n), long(k));
  double worst = 0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < k; ++p)
        s += double(ta ? a[p * lda + i] : a[i * lda + p]) * double(tb ? b[j * ldb + p] : b[p * ldb + j]);
      double want = alpha * s + (beta == 0.f ? 0.0 : beta * double(c_before[i * ldc + j]));
      if (with_epilogue) want = reference_activation(want + bias[j], ep.activation);
      double err = std::fabs(double(c[i * ldc + j]) - want) / (1.0 + std::fabs(want));
      if (!(err <= worst)) worst = err;  // NaN counts as the worst error
    }
  for (int64_t i = 0; i < m; ++i)  // the padding columns of C are not C's
    for (int64_t j = n; j < ldc; ++j)
      CHECK(std::memcmp(&c[i * ldc + j], &c_before[i * ldc + j], sizeof(float)) == 0,
            "[%s] wrote into C's padding", isa_name(isa));
  CHECK(worst < 1e-5 * std::sqrt(double(k) + 1), "[%s] ta=%d tb=%d m=%ld n=%ld k=%ld alpha=%g beta=%g: error %g",
        isa_name(isa), ta, tb, long(m), long(n), long(k), alpha, beta, worst);
}

}  // namespace

int main() {
  std::mt19937 rng(20261123);
  for (Isa isa : pycnn::testing::supported_isas()) {
    std::uniform_int_distribution<int64_t> small(1, 40);
    for (int trial = 0; trial < 60; ++trial) {
      bool ta = trial & 1, tb = trial & 2;
      check_case(rng, isa, ta, tb, small(rng), small(rng), small(rng), trial % 3 ? 1.f : -0.5f,
                 trial % 4 == 0 ? 0.25f : 0.f, trial % 5 == 0);
    }
    // Block boundaries: K over one 384 slice, N over one column block, many row tiles.
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        check_case(rng, isa, ta, tb, 131, 37, 801, 1.f, 0.f, true);
        check_case(rng, isa, ta, tb, 29, 1100, 70, 1.f, 1.f, false);
      }
    // Small-M routes and their near-misses: B in place up to m = 16 (K slices
    // of 192), dot-product kernels for A * B^T up to m = 32 with k >= 64.
    for (int64_t m : {1, 12, 16, 17})
      check_case(rng, isa, false, false, m, 45, 401, 1.f, m % 2 ? 0.f : 0.5f, true);
    for (int64_t m : {1, 5, 16, 32, 33})
      for (int64_t k : {63, 64, 130})
        check_case(rng, isa, false, true, m, 29, k, m == 5 ? -0.5f : 1.f, k == 64 ? 0.25f : 0.f, m != 32);
    // Few columns: row-major A with n <= 4 (k >= 64) on the dot-product
    // kernels over a copy of B^T, transposed A with n < 16 and m >= 32 turned
    // around (C^T, stored transposed); n = 5 / 16 and m = 31 are near-misses.
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (int64_t n : {1, 2, 4, 5, 15, 16})
          for (int64_t m : {31, 133})
            check_case(rng, isa, ta, tb, m, n, ta ? 17 : 70, ta ? -0.5f : 1.f, n % 2 ? 0.25f : 0.f, m != 31);
    check_case(rng, isa, false, false, 1, 1, 1, 2.f, 0.f, false);
    check_case(rng, isa, false, false, 7, 5, 0, 1.f, 0.5f, true);  // empty product: beta*C + bias
  }
  return pycnn::testing::finish("test_gemm");
}
