// im2col.cpp — gather patches into the GEMM operand and scatter them back
// (portable build; the AVX-512 build of the run copies is picked at run time).
#include "conv2d/im2col.h"

#include "common/cpu_features.h"
#include "conv2d/im2col_impl.h"

namespace pycnn {

#if defined(PYCNN_X86)
void im2col_avx512(float* cols, int64_t ld, const float* x, const Conv2dShape& s, int64_t r0,
                   int64_t rows, int64_t c0);
void col2im_add_avx512(float* dx, const float* cols, int64_t ld, const Conv2dShape& s, int64_t r0,
                       int64_t rows, int64_t c0);
#endif

void im2col(float* cols, int64_t ld, const float* x, const Conv2dShape& s, int64_t r0, int64_t rows,
            int64_t c0) {
#if defined(PYCNN_X86)
  if (active_isa() == Isa::kAvx512) return im2col_avx512(cols, ld, x, s, r0, rows, c0);
#endif
  im2col_impl(cols, ld, x, s, r0, rows, c0, [](float* to, const float* from, int64_t count) {
    for (int64_t t = 0; t < count; ++t) to[t] = from[t];
  });
}

void col2im_add(float* dx, const float* cols, int64_t ld, const Conv2dShape& s, int64_t r0,
                int64_t rows, int64_t c0) {
#if defined(PYCNN_X86)
  if (active_isa() == Isa::kAvx512) return col2im_add_avx512(dx, cols, ld, s, r0, rows, c0);
#endif
  col2im_impl(dx, cols, ld, s, r0, rows, c0, [](float* to, const float* from, int64_t count) {
#pragma omp simd
    for (int64_t t = 0; t < count; ++t) to[t] += from[t];
  });
}

}  // namespace pycnn
