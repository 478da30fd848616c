// kernel_table.h — one table of element-wise kernels per instruction set.
//
// elementwise_impl.h is compiled three times (activations_portable.cpp,
// activations_avx2.cpp, activations_avx512.cpp), each with its own target
// flags; active_table() picks the one active_isa() names. The kernels run on
// the calling thread over the range they are given; activations.cpp splits
// the work over threads.
#pragma once

#include <cstdint>

#include "common/activation.h"

namespace pycnn {

struct ElementwiseTable {
  void (*forward)(float* y, const float* x, int64_t n, ActivationSpec a);
  void (*backward_from_output)(float* dx, const float* dy, const float* y, int64_t n, ActivationSpec a);
  void (*backward_from_input)(float* dx, const float* dy, const float* x, int64_t n, ActivationSpec a);
  void (*exp)(float* y, const float* x, int64_t n);
  float (*max)(const float* x, int64_t n);
  float (*exp_shifted_sum)(float* y, const float* x, float shift, int64_t n);
  void (*softmax_rows)(float* y, const float* x, int64_t rows, int64_t cols);
  void (*softmax_backward_rows)(float* dx, const float* dy, const float* y, int64_t rows, int64_t cols);
};

const ElementwiseTable& elementwise_table_portable();
const ElementwiseTable& elementwise_table_avx2();    // only valid where AVX2+FMA is supported
const ElementwiseTable& elementwise_table_avx512();  // only valid where AVX-512 is supported
const ElementwiseTable& active_elementwise_table();

}  // namespace pycnn
