// dropout.cpp — parameter validation, the parallel split and ISA dispatch.
#include "dropout/dropout.h"

#include <cmath>
#include <cstring>

#include "common/check.h"
#include "common/cpu_features.h"
#include "common/parallel.h"
#include "dropout/dropout_kernels.h"
#include "dropout/philox.h"

namespace pycnn {
namespace {

// Elements per thread below which dropout stays serial. Philox makes it
// compute-bound (~0.3 ns an element on one core, 4x a copy), so a fork pays
// off at far fewer elements than kSerialElementwise.
constexpr int64_t kSerialDropout = 1 << 12;

DropoutKernel kernel() {
#if defined(PYCNN_X86)
  switch (active_isa()) {
    case Isa::kAvx512: return dropout_kernel_avx512;
    case Isa::kAvx2: return dropout_kernel_avx2;
    case Isa::kPortable: break;
  }
#endif
  return dropout_kernel_portable;
}

}  // namespace

DropoutParams dropout_params(const char* op, double rate, uint64_t seed, uint64_t step) {
  check(rate >= 0.0 && rate < 1.0, op, "expected rate in [0, 1), got ", rate);
  // rate * 2^32 is exact in double; keep iff u * 2^32 >= it <=> u >= rate.
  uint64_t threshold = uint64_t(std::ceil(std::ldexp(rate, 32)));
  return {threshold, float(1.0 / (1.0 - rate)), seed, step};
}

void dropout_forward(float* y, const float* x, int64_t n, const DropoutParams& p) {
  if (n <= 0) return;
  if (p.threshold == 0) {  // rate 0: identity (or a mask of ones)
    if (x) {
      std::memcpy(y, x, sizeof(float) * size_t(n));
    } else {
      for (int64_t i = 0; i < n; ++i) y[i] = 1.f;
    }
    return;
  }
  DropoutKernel k = kernel();
  const int64_t blocks = (n + kDropoutBlock - 1) / kDropoutBlock;
  parallel_for(blocks, kSerialDropout / kDropoutBlock, [&](int64_t b0, int64_t b1) {
    k(y, x, b0 * kDropoutBlock, std::min<int64_t>(b1 * kDropoutBlock, n), p);
  });
}

}  // namespace pycnn
