// test_batchnorm.cpp — the batch-norm forward (training and inference) with y
// placed at chosen offsets from x modulo 4096 bytes, on every ISA this CPU
// supports, against double-precision loops. The normalisation walks its rows
// backwards where y's stores would alias later loads of x (4K aliasing), and
// numpy puts y wherever its allocator does: here both directions run for
// every width, whatever the allocator does. Guard bands before and after y
// catch a write outside it.
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "batchnorm/batchnorm.h"
#include "common/cpu_features.h"
#include "testing.h"

using namespace pycnn;

namespace {

constexpr int64_t kGuard = 64;  // floats on each side of y
constexpr float kSentinel = -12345.678f;

// y's storage: `rows * c` floats starting `offset` bytes past a 4096-byte
// boundary, between two guard bands.
struct PlacedOutput {
  std::vector<float> storage;
  float* y;
  int64_t count;

  PlacedOutput(int64_t count, int64_t offset) : storage(size_t(count + 2 * kGuard + 2048), kSentinel), count(count) {
    const uintptr_t first = reinterpret_cast<uintptr_t>(storage.data() + kGuard);
    const uintptr_t page = (first + 4095) & ~uintptr_t(4095);
    y = reinterpret_cast<float*>(page + uintptr_t(offset));  // at most 2031 floats past the front band
  }
  bool guards_intact() const {
    for (int64_t i = 1; i <= kGuard; ++i)
      if (y[-i] != kSentinel || y[count + i - 1] != kSentinel) return false;
    return true;
  }
};

double leaky(double v) { return v < 0 ? 0.2 * v : v; }

void check_case(std::mt19937& rng, Isa isa, int64_t rows, int64_t c, int64_t offset) {
  // x starts on a page boundary: y - x modulo 4096 is `offset`.
  std::vector<float> x_storage(size_t(rows * c + 1024));
  float* x = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(x_storage.data()) + 4095) & ~uintptr_t(4095));
  std::normal_distribution<float> normal;
  for (int64_t i = 0; i < rows * c; ++i) x[i] = 3.f + 2.f * normal(rng);
  std::vector<float> gamma(c), beta(c), mean(c), inv_std(c), mm(c, 0.f), mv(c, 1.f);
  for (int64_t k = 0; k < c; ++k) gamma[k] = 1.f + 0.1f * normal(rng), beta[k] = normal(rng);
  const BatchNormShape s = batch_norm_shape("batch_norm", rows, c);
  const ActivationSpec act{Activation::kLeakyRelu, 0.2f};
  PlacedOutput train(rows * c, offset), infer(rows * c, offset);
  set_forced_isa(isa);
  batch_norm_forward_train(train.y, mean.data(), inv_std.data(), mm.data(), mv.data(), x, gamma.data(), beta.data(),
                           0.9f, 1e-3f, act, s);
  batch_norm_forward_inference(infer.y, x, gamma.data(), beta.data(), mm.data(), mv.data(), 1e-3f, act, s);
  clear_forced_isa();
  CHECK(train.guards_intact() && infer.guards_intact(), "%s rows %lld c %lld offset %lld: write outside y",
        isa_name(isa), (long long)rows, (long long)c, (long long)offset);
  int bad = 0;
  for (int64_t k = 0; k < c; ++k) {
    double sum = 0, sq = 0;
    for (int64_t r = 0; r < rows; ++r) sum += x[r * c + k];
    const double mu = sum / double(rows);
    for (int64_t r = 0; r < rows; ++r) sq += (x[r * c + k] - mu) * (x[r * c + k] - mu);
    const double is = 1 / std::sqrt(sq / double(rows) + 1e-3);
    const double infer_scale = gamma[k] / std::sqrt(double(mv[k]) + 1e-3);
    bad += std::fabs(mean[k] - mu) > 1e-5 * (1 + std::fabs(mu)) || std::fabs(inv_std[k] - is) > 2e-6 * is;
    for (int64_t r = 0; r < rows; ++r) {
      const double v = x[r * c + k];
      const double want = leaky((v - mu) * is * gamma[k] + beta[k]);
      const double want_infer = leaky((v - mm[k]) * infer_scale + beta[k]);
      bad += std::fabs(train.y[r * c + k] - want) > 2e-5 * (1 + std::fabs(want));
      bad += std::fabs(infer.y[r * c + k] - want_infer) > 2e-5 * (1 + std::fabs(want_infer));
    }
  }
  CHECK(bad == 0, "%s rows %lld c %lld offset %lld: %d values off", isa_name(isa), (long long)rows, (long long)c,
        (long long)offset, bad);
}

}  // namespace

int main() {
  std::mt19937 rng(7);
  for (Isa isa : pycnn::testing::supported_isas()) {
    // One reduction chunk and several; the constant widths and one at run
    // time; y behind, on and ahead of x.
    for (int64_t rows : {1, 7, 32, 300})
      for (int64_t c : {16, 19, 32, 64, 128})
        for (int64_t offset : {0, 64, 192, 1024, 2048, 3072, 4032}) check_case(rng, isa, rows, c, offset);
  }
  return pycnn::testing::finish("test_batchnorm");
}
