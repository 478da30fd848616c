// batchnorm_kernels.h — the per-ISA loops behind batchnorm.h.
//
// batchnorm_impl.h holds them once; batchnorm_kernels{,_avx2,_avx512}.cpp
// compile it with their instruction sets; batchnorm.cpp chunks the rows,
// merges the per-chunk results and picks one table at run time.
#pragma once

#include <cstdint>

#include "common/activation.h"
#include "common/parallel.h"

namespace pycnn {

struct BatchNormKernels {
  // Rows [0, rows) of x (row stride C): per-channel mean and sum of squared
  // deviations (M2) of this chunk, in double. `guess` (C floats, or null) is
  // a guess of the mean that may save a pass; any guess gives M2 to within
  // twice the two-pass rounding error. `scratch` holds 3*C floats.
  void (*chunk_moments)(double* mean, double* m2, const float* x, const float* guess, int64_t rows, int64_t c,
                        float* scratch);
  // Per channel, from the chunk_moments partials of the chunks ch
  // ([chunk][mean | m2][C], merged in chunk order into `merged`, 2*C
  // doubles; a single chunk's are read in place): mean, inv_std = 1 /
  // sqrt(M2 / rows + eps), the normalize pass's scale gamma * inv_std and
  // shift beta + (mean - mu) * scale (gamma / beta may be null: 1 / 0), and
  // the moving statistics' update with `momentum`.
  void (*train_statistics)(float* mean, float* inv_std, float* scale, float* shift, float* moving_mean,
                           float* moving_var, const double* partials, const FixedChunks& ch, double* merged,
                           const float* gamma, const float* beta, float momentum, float eps, int64_t c);
  // y = act((x - center) * scale + shift) for `rows` rows.
  void (*normalize)(float* y, const float* x, const float* center, const float* scale,
                    const float* shift, int64_t rows, int64_t c, ActivationSpec act);
  // sum g, sum g * (x - center) and sum (x - center) over a chunk of rows,
  // in double, with g = dy, or dy * act'(.) from the activation output y for
  // a fused relu / leaky_relu (act kNone ignores y). `scratch` holds 3*C floats.
  void (*chunk_grad_sums)(double* sum_dy, double* sum_dy_xc, double* sum_xc, const float* dy,
                          const float* y, const float* x, const float* center, int64_t rows,
                          int64_t c, ActivationSpec act, float* scratch);
  // From the chunk_grad_sums partials of `chunks` chunks ([chunk][3][C],
  // added in chunk order into `total`, 3*C doubles) over `rows` rows:
  // dgamma, dbeta and backward_apply's a, b, k (gamma null: 1).
  void (*backward_coefficients)(float* dgamma, float* dbeta, float* a, float* b, float* k, double* total,
                                const double* partials, int64_t chunks, int64_t rows, const float* gamma,
                                const float* inv_std, int64_t c);
  // dx = a * g + b * (x - center) + k for `rows` rows, g as above.
  void (*backward_apply)(float* dx, const float* dy, const float* y, const float* x,
                         const float* center, const float* a, const float* b, const float* k,
                         int64_t rows, int64_t c, ActivationSpec act);
};

extern const BatchNormKernels batchnorm_kernels_portable;
#if defined(PYCNN_X86)
extern const BatchNormKernels batchnorm_kernels_avx2;
extern const BatchNormKernels batchnorm_kernels_avx512;
#endif

}  // namespace pycnn
