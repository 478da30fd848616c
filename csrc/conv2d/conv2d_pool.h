// conv2d_pool.h — convolution followed by max pooling, one image at a time.
#pragma once

#include "common/activation.h"
#include "conv2d/conv2d.h"
#include "pool2d/pool2d.h"

namespace pycnn {

// y (N, POH, POW, K) = max_pool(act(conv2d(x) + bias)), with argmax (as
// max_pool2d_forward's, indices into one image of the convolution's output)
// when argmax is not nullptr: training, where backward routes dy through it.
// `pool` describes the pooling of the convolution's output (pool.n, h, w, c
// == conv.n, oh, ow, k). Images are spread over the threads; each image's
// convolution output stays in the thread's cache (scratch) until it is
// pooled, so the full-size activation never goes through memory. Every image
// is computed the same way for any thread count.
void conv2d_max_pool2d_forward(float* y, int32_t* argmax, const float* x, const float* weight, const float* bias,
                               const Conv2dShape& conv, const ActivationSpec& act, const Pool2dShape& pool);

}  // namespace pycnn
