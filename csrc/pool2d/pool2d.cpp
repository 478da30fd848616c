// pool2d.cpp — shape validation and per-ISA dispatch of the pooling kernels.
#include "pool2d/pool2d.h"

#include <algorithm>
#include <limits>

#include "common/check.h"
#include "common/cpu_features.h"
#include "pool2d/pool2d_kernels.h"

namespace pycnn {
namespace {

// One spatial axis: output size and leading padding.
void pool_axis(const char* op, const char* axis, int64_t in, int64_t pool, int64_t stride,
               bool same, int64_t* out, int64_t* pad_before) {
  check(pool >= 1, op, "pool size must be >= 1, got ", pool, " along the ", axis);
  check(stride >= 1, op, "strides must be >= 1, got ", stride, " along the ", axis);
  check(in >= 1, op, "input ", axis, " must be >= 1, got ", in);
  if (same) {
    *out = ceil_div(in, stride);
    // (out - 1) * stride <= in - 1, so neither step below can overflow.
    int64_t total = std::max<int64_t>((*out - 1) * stride - in + pool, 0);
    *pad_before = total / 2;
  } else {
    check(pool <= in, op, "pool size ", pool, " is larger than the input ", axis, " ", in,
          " with padding='valid'; use a smaller pool or padding='same'");
    *out = (in - pool) / stride + 1;
    *pad_before = 0;
  }
}

const Pool2dKernels& kernels() {
#if defined(PYCNN_X86)
  switch (active_isa()) {
    case Isa::kAvx512: return pool2d_kernels_avx512;
    case Isa::kAvx2: return pool2d_kernels_avx2;
    case Isa::kPortable: break;
  }
#endif
  return pool2d_kernels_portable;
}

}  // namespace

Pool2dShape pool2d_shape(const char* op, int64_t n, int64_t h, int64_t w, int64_t c,
                         int64_t pool_h, int64_t pool_w, int64_t stride_h, int64_t stride_w,
                         bool same) {
  check(n >= 0 && c >= 0, op, "batch and channel sizes must be >= 0, got N=", n, ", C=", c);
  Pool2dShape s{n, h, w, c, pool_h, pool_w, stride_h, stride_w, 0, 0, 0, 0};
  pool_axis(op, "height", h, pool_h, stride_h, same, &s.oh, &s.pad_top);
  pool_axis(op, "width", w, pool_w, stride_w, same, &s.ow, &s.pad_left);
  int64_t image = checked_product(op, h, w, c);
  check(image <= std::numeric_limits<int32_t>::max(), op, "one image of ", h, "x", w, "x", c,
        " elements is too large for int32 argmax indices");
  checked_product(op, n, image);
  checked_product(op, n, s.oh, s.ow, c);
  return s;
}

void max_pool2d_forward(float* y, int32_t* argmax, const float* x, const Pool2dShape& s) {
  kernels().max_forward(y, argmax, x, s);
}

bool max_pool2d_backward_input(float* dx, const float* dy, const int32_t* argmax, int64_t n,
                               int64_t in_per_image, int64_t out_per_image) {
  return kernels().max_backward(dx, dy, argmax, n, in_per_image, out_per_image);
}

bool max_pool2d_backward_windows(float* dx, const float* dy, const int32_t* argmax, const float* y,
                                 ActivationSpec act, const Pool2dShape& s) {
  return kernels().max_backward_windows(dx, dy, argmax, y, act, s);
}

void avg_pool2d_forward(float* y, const float* x, const Pool2dShape& s) {
  kernels().avg_forward(y, x, s);
}

void avg_pool2d_backward_input(float* dx, const float* dy, const Pool2dShape& s) {
  kernels().avg_backward(dx, dy, s);
}

}  // namespace pycnn
