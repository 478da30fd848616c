// activations.h — element-wise activations and the row softmax, forward and
// backward, on float32 arrays of any layout (element-wise) or (rows, cols)
// row-major (softmax along the last axis).
//
// Every function overwrites its output; the output may alias the input of
// the same shape (in-place use). Work is split over the OpenMP pool above
// kSerialElementwise elements; each element (or row) is computed the same way
// for any thread count, so results are bitwise identical for 1 and N threads.
// The exp inside sigmoid/tanh/elu/softmax is a vectorised polynomial (see
// elementwise_impl.h) dispatched per ISA with active_isa().
#pragma once

#include <cstdint>

#include "common/activation.h"

namespace pycnn {

// y = act(x)
void activation_forward(float* y, const float* x, int64_t n, const ActivationSpec& a);

// dx = dy * act'(x), with act' computed from the output y = act(x). Valid when
// activation_backward_needs_input(a) is false.
void activation_backward_from_output(float* dx, const float* dy, const float* y, int64_t n,
                                     const ActivationSpec& a);
// dx = dy * act'(x), from the input x.
void activation_backward_from_input(float* dx, const float* dy, const float* x, int64_t n,
                                    const ActivationSpec& a);
// leaky_relu with slope <= 0 and elu with alpha <= 0 cannot recover the sign
// of x from y; every other activation can.
bool activation_backward_needs_input(const ActivationSpec& a);

// y[r, :] = exp(x[r, :] - max) / sum(exp(x[r, :] - max))      x, y (rows, cols)
void softmax_forward(float* y, const float* x, int64_t rows, int64_t cols);
// dx[r, :] = y[r, :] * (dy[r, :] - <dy[r, :], y[r, :]>)
void softmax_backward(float* dx, const float* dy, const float* y, int64_t rows, int64_t cols);

// The fast exp itself, element-wise (tests measure its accuracy through this).
void exp_forward(float* y, const float* x, int64_t n);

// Row primitives for other families (losses), on the calling thread:
// the maximum of x[0, n) and y[i] = exp(x[i] - shift) returning sum(y).
float row_max(const float* x, int64_t n);
float exp_shifted_sum(float* y, const float* x, float shift, int64_t n);

}  // namespace pycnn
