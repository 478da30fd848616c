// im2col_avx512.cpp — im2col/col2im_add with runs moved by 16-float zmm
// loads and stores (the tail masked), instead of a libc call per run.
#include "conv2d/im2col.h"

#if defined(PYCNN_X86)
#include <immintrin.h>

#include "conv2d/im2col_impl.h"

namespace pycnn {

void im2col_avx512(float* cols, int64_t ld, const float* x, const Conv2dShape& s, int64_t r0,
                   int64_t rows, int64_t c0) {
  im2col_impl(cols, ld, x, s, r0, rows, c0, [](float* to, const float* from, int64_t count) {
    int64_t t = 0;
    for (; t + 16 <= count; t += 16) _mm512_storeu_ps(to + t, _mm512_loadu_ps(from + t));
    if (t < count) {
      const __mmask16 m = __mmask16((1u << (count - t)) - 1);
      _mm512_mask_storeu_ps(to + t, m, _mm512_maskz_loadu_ps(m, from + t));
    }
  });
}

void col2im_add_avx512(float* dx, const float* cols, int64_t ld, const Conv2dShape& s, int64_t r0,
                       int64_t rows, int64_t c0) {
  col2im_impl(dx, cols, ld, s, r0, rows, c0, [](float* to, const float* from, int64_t count) {
    int64_t t = 0;
    for (; t + 16 <= count; t += 16)
      _mm512_storeu_ps(to + t, _mm512_add_ps(_mm512_loadu_ps(to + t), _mm512_loadu_ps(from + t)));
    if (t < count) {
      const __mmask16 m = __mmask16((1u << (count - t)) - 1);
      _mm512_mask_storeu_ps(to + t, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, to + t), _mm512_maskz_loadu_ps(m, from + t)));
    }
  });
}

}  // namespace pycnn
#endif
