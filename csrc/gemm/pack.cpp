// pack.cpp — copies a K-slice of B into the panel layout the micro-kernels read.
#include <algorithm>

#include "gemm/ukernel.h"

namespace pycnn::gemm_detail {

void pack_b_panel(float* dst, const float* b, int64_t ldb, bool trans_b, int64_t kc, int n, int nr) {
  if (!trans_b) {
    for (int64_t p = 0; p < kc; ++p) {
      const float* src = b + p * ldb;
      float* out = dst + p * nr;
      for (int j = 0; j < n; ++j) out[j] = src[j];
      for (int j = n; j < nr; ++j) out[j] = 0.f;
    }
    return;
  }
  // Transposed: column j of B is row j of b; walk it contiguously and
  // scatter into the panel with stride nr (stays within L1 for kc <= 256).
  for (int j = 0; j < n; ++j) {
    const float* src = b + j * ldb;
    for (int64_t p = 0; p < kc; ++p) dst[p * nr + j] = src[p];
  }
  for (int j = n; j < nr; ++j)
    for (int64_t p = 0; p < kc; ++p) dst[p * nr + j] = 0.f;
}

void pack_b_panels(float* dst, int64_t panel_stride, const float* b, int64_t ldb, bool trans_b, int64_t kc,
                   int64_t n, int nr, PackBTransposed transposed) {
  const int64_t panels = (n + nr - 1) / nr;
  if (trans_b) {
    for (int64_t q = 0; q < panels; ++q) {
      const int cols = int(std::min<int64_t>(nr, n - q * nr));
      if (transposed) transposed(dst + q * panel_stride, b + q * nr * ldb, ldb, kc, cols, nr);
      else pack_b_panel(dst + q * panel_stride, b + q * nr * ldb, ldb, true, kc, cols, nr);
    }
    return;
  }
  for (int64_t p = 0; p < kc; ++p) {
    const float* src = b + p * ldb;
    for (int64_t q = 0; q < panels; ++q) {
      float* out = dst + q * panel_stride + p * nr;
      const int cols = int(std::min<int64_t>(nr, n - q * nr));
      for (int j = 0; j < cols; ++j) out[j] = src[q * nr + j];
      for (int j = cols; j < nr; ++j) out[j] = 0.f;
    }
  }
}

void pack_a_panel(float* dst, const float* a, int64_t lda, int64_t kc, int rows, int mr) {
  for (int i = 0; i < rows; ++i) {
    const float* src = a + i * lda;
    for (int64_t p = 0; p < kc; ++p) dst[p * mr + i] = src[p];
  }
}

}  // namespace pycnn::gemm_detail
