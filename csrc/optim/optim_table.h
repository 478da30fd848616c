// optim_table.h — the per-ISA element kernels behind optim.h. Each runs on
// the calling thread over n elements of one array; the scalars are already
// derived from the hyper-parameters (bias corrections, 1 - rho, ...).
#pragma once

#include <cstdint>

namespace pycnn {

struct SgdScalars {
  float lr, momentum;
  bool use_velocity, nesterov;
};
struct RmspropScalars {
  float lr, rho, one_minus_rho, epsilon, momentum;
  bool use_momentum, centered;
};
struct AdamScalars {
  float alpha, one_minus_beta_1, one_minus_beta_2, epsilon, decay;  // decay = weight_decay·lr
  bool amsgrad;
};

constexpr int kFactoredRows = 4;

struct OptimTable {
  void (*sgd)(float* p, const float* g, float* velocity, int64_t n, const SgdScalars& s);
  void (*rmsprop)(float* p, const float* g, float* velocity, float* momentum, float* average, int64_t n,
                  const RmspropScalars& s);
  void (*adam)(float* p, const float* g, float* m, float* v, float* v_hat, int64_t n, const AdamScalars& s);
  // g[k * ldg + j] = sum_r a[r * a_stride + k] · b[r * b_stride + j] for
  // k < row_count (1 or kFactoredRows), j < n: a block of a factored gradient
  // (optim.h) with `rows` terms per element.
  void (*factored_rows)(float* g, int64_t ldg, const float* a, int64_t a_stride, const float* b,
                        int64_t b_stride, int64_t rows, int row_count, int64_t n);
};

const OptimTable& optim_table_portable();
const OptimTable& optim_table_avx2();
const OptimTable& optim_table_avx512();

}  // namespace pycnn
