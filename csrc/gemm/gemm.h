// gemm.h — single-precision matrix multiply, the engine under conv2d and dense.
//
//   C[m, n] = act( alpha · op(A)[m, k] · op(B)[k, n] + beta · C[m, n] + bias[n] )
//
// All matrices are row-major with leading dimensions in elements; op(X) is X
// or X^T. With beta == 0, C is write-only (it may hold NaN before the call).
// The epilogue (bias per column, then activation) is applied once, after the
// full sum over k.
//
// Threads: the call splits M and N over the OpenMP pool and never splits K,
// so each C element is summed in the same order for any thread count
// (bitwise-deterministic). Called from inside a parallel region it runs on
// the calling thread alone.
#pragma once

#include <cstdint>

#include "common/activation.h"
#include "common/cpu_features.h"

namespace pycnn {

struct GemmEpilogue {
  const float* bias = nullptr;  // length n, or nullptr
  ActivationSpec activation;    // applied after the bias
};

// Validates sizes and leading dimensions (throws std::invalid_argument
// "[gemm] ...") — the one check every caller goes through.
void gemm_check(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                int64_t lda, int64_t ldb, int64_t ldc);

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
           float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
           float beta, float* c, int64_t ldc, const GemmEpilogue& epilogue = {});

}  // namespace pycnn
