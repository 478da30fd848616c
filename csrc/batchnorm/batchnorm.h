// batchnorm.h — batch normalisation over the last axis, float32.
//
// x is viewed as (M, C): M = the product of all leading axes (N*H*W for an
// NHWC activation, N for a dense one), C channels. Per channel:
//   training:  mean, var = batch mean and biased variance over the M rows,
//              inv_std = 1 / sqrt(var + eps),
//              y = act((x - mean) * inv_std * gamma + beta),
//              moving = moving * momentum + batch * (1 - momentum) (in place);
//   inference: the same with the moving statistics.
// gamma / beta may be null (scale / center off). Statistics are computed in
// fixed chunks of rows (chunk size from C alone): a corrected two-pass mean
// and M2 per chunk, merged exactly in double in chunk order, so results are
// bitwise the same for any thread count and stay accurate for large offsets.
// Every function overwrites its outputs.
#pragma once

#include <cstdint>

#include "common/activation.h"

namespace pycnn {

struct BatchNormShape {
  int64_t rows;      // M
  int64_t channels;  // C
};

// Validates sizes (rows, channels >= 0, no overflow). Throws "[op] ...".
BatchNormShape batch_norm_shape(const char* op, int64_t rows, int64_t channels);

// y (M, C); mean, inv_std (C); moving_mean, moving_var (C) updated in place
// (left alone when M == 0, where mean = 0 and inv_std = 1/sqrt(eps)).
void batch_norm_forward_train(float* y, float* mean, float* inv_std, float* moving_mean,
                              float* moving_var, const float* x, const float* gamma,
                              const float* beta, float momentum, float eps, ActivationSpec act,
                              const BatchNormShape& s);

// y (M, C) from the moving statistics.
void batch_norm_forward_inference(float* y, const float* x, const float* gamma, const float* beta,
                                  const float* moving_mean, const float* moving_var, float eps,
                                  ActivationSpec act, const BatchNormShape& s);

// Training-mode backward; dy is the gradient of the normalised output (before
// any fused activation). With xhat = (x - mean) * inv_std:
//   dbeta = sum dy, dgamma = sum dy * xhat,
//   dx = gamma * inv_std / M * (M * dy - dbeta - xhat * dgamma)
// — one pass for the sums, one output pass. gamma null means 1. `mean` may
// be the float32 rounding of the batch mean: the pass also sums x - mean and
// re-centres on the exact batch mean, so large offsets cost no accuracy.
void batch_norm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                         const float* gamma, const float* mean, const float* inv_std,
                         const BatchNormShape& s);

// The same through an activation fused into the forward: dy is the gradient
// of the activated output y = act(bn(x)) and act'(.) is taken from y, so
// y must be recoverable (relu, leaky_relu / elu with alpha > 0, sigmoid,
// tanh). relu and leaky_relu are applied inside both passes; the others
// take one extra element-wise pass. act kNone ignores y (may be null).
void batch_norm_backward_activation(float* dx, float* dgamma, float* dbeta, const float* dy,
                                    const float* y, const float* x, const float* gamma,
                                    const float* mean, const float* inv_std, ActivationSpec act,
                                    const BatchNormShape& s);

}  // namespace pycnn
