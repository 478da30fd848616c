// dense.h — fully connected layer on the last axis, float32.
//
//   x [rows, in] (rows = product of the leading axes), weight [in, out] (Keras),
//   bias [out], y [rows, out] = act(x · weight + bias)
//
// Every function overwrites its outputs. dy is the gradient with respect to
// the pre-activation output. Results do not depend on the thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "common/activation.h"

namespace pycnn {

struct DenseShape {
  int64_t rows, in, out;
};

// The one validation point: throws std::invalid_argument "[dense] ...".
DenseShape dense_shape(const std::vector<int64_t>& x_shape, int64_t weight_in, int64_t weight_out,
                       int64_t bias_size);

void dense_forward(float* y, const float* x, const float* weight, const float* bias,
                   const DenseShape& s, const ActivationSpec& act);
void dense_backward_input(float* dx, const float* dy, const float* weight, const DenseShape& s);
// dweight = x^T · dy; dbias = column sums of dy (nullptr: skipped).
void dense_backward_weight(float* dweight, float* dbias, const float* dy, const float* x,
                           const DenseShape& s);

// out[j] = sum_i a[i, j] over `rows` rows of `cols` floats: fixed row chunks
// summed in chunk order, so the result is the same for any thread count.
// Shared by every bias gradient (dense, conv2d).
void column_sums(float* out, const float* a, int64_t rows, int64_t cols);

}  // namespace pycnn
