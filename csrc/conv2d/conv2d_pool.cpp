// conv2d_pool.cpp — conv2d + max pooling, one image at a time.
#include "conv2d/conv2d_pool.h"

#include "common/check.h"
#include "common/parallel.h"
#include "common/workspace.h"
#include "conv2d/winograd.h"

namespace pycnn {

void conv2d_max_pool2d_forward(float* y, int32_t* argmax, const float* x, const float* weight, const float* bias,
                               const Conv2dShape& conv, const ActivationSpec& act, const Pool2dShape& pool) {
  if (conv.n == 0) return;
  Conv2dShape one_conv = conv;
  one_conv.n = 1;
  Pool2dShape one_pool = pool;
  one_pool.n = 1;
  const int64_t in_image = conv.h * conv.w * conv.c, conv_image = conv.oh * conv.ow * conv.k;
  const int64_t out_image = pool.oh * pool.ow * pool.c;
  // Each thread's image buffer is allocated here, before the parallel
  // region (an allocation failure must not be thrown inside it).
  const int64_t team = num_threads();
  float* buffers = thread_scratch(kScratchConvPool).floats(size_t(checked_mul(team, conv_image, "conv2d")));
  // A Winograd weight is transformed once here, not once per image.
  const bool winograd = winograd_forward_applies(one_conv);
  float* transformed = winograd ? thread_scratch(kScratchWinograd).floats(size_t(winograd_weight_floats(one_conv)))
                                : nullptr;
  if (winograd) winograd_transform_weight(transformed, weight, one_conv);
  // One image per grain: inside the parallel region the convolution and the
  // pooling run serially on their thread; a lone image keeps every thread.
  parallel_for(conv.n, 1, [&](int64_t n0, int64_t n1) {
    float* conv_out = buffers + omp_get_thread_num() * conv_image;
    for (int64_t n = n0; n < n1; ++n) {
      if (winograd) winograd_forward_transformed(conv_out, x + n * in_image, transformed, bias, one_conv, act);
      else conv2d_forward(conv_out, x + n * in_image, weight, bias, one_conv, act);
      max_pool2d_forward(y + n * out_image, argmax ? argmax + n * out_image : nullptr, conv_out, one_pool);
    }
  });
}

}  // namespace pycnn
