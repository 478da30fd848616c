// gemm.cpp — PLACEHOLDER driver (plain loops) so that the other kernel
// families can be written against gemm.h; replaced by the packed BLIS-style
// driver and micro-kernels.
#include "gemm/gemm.h"

#include <vector>

#include "common/check.h"
#include "common/parallel.h"

namespace pycnn {

void gemm_check(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                int64_t lda, int64_t ldb, int64_t ldc) {
  const char* op = "gemm";
  check(m >= 0 && n >= 0 && k >= 0, op, "sizes must be >= 0, got m=", m, " n=", n, " k=", k);
  check(lda >= (trans_a ? m : k) && lda >= 1, op, "lda=", lda, " is too small");
  check(ldb >= (trans_b ? k : n) && ldb >= 1, op, "ldb=", ldb, " is too small");
  check(ldc >= n && ldc >= 1, op, "ldc=", ldc, " is too small");
}

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
           float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
           float beta, float* c, int64_t ldc, const GemmEpilogue& ep) {
  parallel_for(m, 8, [&](int64_t i0, int64_t i1) {
    std::vector<float> row(n);
    for (int64_t i = i0; i < i1; ++i) {
      for (int64_t j = 0; j < n; ++j) row[j] = 0.f;
      for (int64_t p = 0; p < k; ++p) {
        float av = trans_a ? a[p * lda + i] : a[i * lda + p];
        for (int64_t j = 0; j < n; ++j) row[j] += av * (trans_b ? b[j * ldb + p] : b[p * ldb + j]);
      }
      for (int64_t j = 0; j < n; ++j) {
        float v = alpha * row[j] + (beta == 0.f ? 0.f : beta * c[i * ldc + j]);
        if (ep.bias) v += ep.bias[j];
        c[i * ldc + j] = apply_activation(v, ep.activation);
      }
    }
  });
}

}  // namespace pycnn
