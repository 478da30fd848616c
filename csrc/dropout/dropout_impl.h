// dropout_impl.h — the dropout loop, compiled once per instruction set.
//
// Included by dropout_kernels{,_avx2,_avx512}.cpp inside their own namespace
// (PYCNN_DROPOUT_NS) with their own symbol (PYCNN_DROPOUT_KERNEL). Per block
// of 64 elements: one vectorised Philox pass (16 lanes x 4 words), then one
// compare-and-select pass over the 64 outputs.
#include <algorithm>

#include "dropout/dropout_kernels.h"
#include "dropout/philox.h"

namespace pycnn {
namespace PYCNN_DROPOUT_NS {
namespace {

void apply(float* __restrict y, const float* __restrict x, const uint32_t* __restrict words,
           int64_t count, uint32_t threshold, float scale, bool keep_none) {
  if (keep_none) {
    std::fill(y, y + count, 0.f);
    return;
  }
  if (x) {
#pragma omp simd
    for (int64_t i = 0; i < count; ++i) y[i] = words[i] >= threshold ? x[i] * scale : 0.f;
  } else {
#pragma omp simd
    for (int64_t i = 0; i < count; ++i) y[i] = words[i] >= threshold ? scale : 0.f;
  }
}

void kernel(float* y, const float* x, int64_t begin, int64_t end, const DropoutParams& p) {
  alignas(64) uint32_t words[kPhiloxBlock];
  const bool keep_none = p.threshold > 0xFFFFFFFFull;
  const uint32_t threshold = uint32_t(std::min<uint64_t>(p.threshold, 0xFFFFFFFFull));
  for (int64_t b = begin; b < end; b += kPhiloxBlock) {
    philox_block(words, uint64_t(b) / kPhiloxBlock, p.seed, p.step);
    apply(y + b, x ? x + b : nullptr, words, std::min<int64_t>(kPhiloxBlock, end - b), threshold,
          p.scale, keep_none);
  }
}

}  // namespace
}  // namespace PYCNN_DROPOUT_NS

extern const DropoutKernel PYCNN_DROPOUT_KERNEL = PYCNN_DROPOUT_NS::kernel;

}  // namespace pycnn
