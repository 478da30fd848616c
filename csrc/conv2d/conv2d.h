// conv2d.h — 2-D convolution, NHWC float32, Keras semantics.
//
//   x (N, H, W, C), weight (KH, KW, C/G, K), bias (K,), y (N, OH, OW, K)
//   y[n,oh,ow,g*K/G+m] = act( bias + sum_{i,j,c} x[n, oh*sh-pt+i*dh, ow*sw-pl+j*dw, g*C/G+c]
//                                               * weight[i, j, c, g*K/G+m] )
//
// Every function overwrites its outputs (no accumulation); the model sums
// gradients where a tensor has several consumers. Backward functions take dy
// with respect to the pre-activation output. Scratch comes from
// thread_scratch(); results do not depend on the thread count.
#pragma once

#include <cstdint>

#include "common/activation.h"

namespace pycnn {

enum class Conv2dPadding : int { kValid = 0, kSame = 1, kExplicit = 2 };

// What a caller has: the array shapes and the layer's options.
struct Conv2dArgs {
  int64_t x_shape[4] = {0, 0, 0, 0};       // N, H, W, C
  int64_t weight_shape[4] = {0, 0, 0, 0};  // KH, KW, C/G, K
  int64_t bias_size = -1;                  // -1: no bias
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
  Conv2dPadding padding = Conv2dPadding::kValid;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;  // kExplicit only
};

// The validated problem every pass works from.
struct Conv2dShape {
  int64_t n, h, w, c;        // input
  int64_t kh, kw, k;         // kernel window, output channels
  int64_t groups, cg, kg;    // groups, C/G, K/G
  int64_t sh, sw, dh, dw;    // strides, dilations
  int64_t pad_top, pad_bottom, pad_left, pad_right;
  int64_t oh, ow;            // output
  int64_t rows() const { return n * oh * ow; }     // GEMM M
  int64_t patch() const { return kh * kw * cg; }   // GEMM K (one group)
  // 1x1, stride 1, no padding: x is already the [M, C] GEMM operand.
  bool pointwise() const {
    return kh == 1 && kw == 1 && sh == 1 && sw == 1 && pad_top == 0 && pad_bottom == 0 &&
           pad_left == 0 && pad_right == 0;
  }
  // Few input channels per group (depthwise, first layers with C <= 4):
  // the GEMM would have K = KH*KW*C/G <= 36, so forward and d-weight run the
  // direct kernel instead (vectorised over output channels).
  bool direct() const { return cg == 1 || (cg <= 4 && kg >= 16); }
  // d-input runs direct only for true depthwise shapes (one channel per
  // group, several groups); otherwise dcols = dy · W^T is a GEMM.
  bool direct_input() const { return cg == 1 && groups > 1; }
};

// The one validation point: throws std::invalid_argument "[conv2d] ...".
Conv2dShape conv2d_shape(const Conv2dArgs& a);

// y = act(conv(x, weight) + bias); bias may be nullptr.
void conv2d_forward(float* y, const float* x, const float* weight, const float* bias,
                    const Conv2dShape& s, const ActivationSpec& act);
// dx = conv^T(dy, weight).
void conv2d_backward_input(float* dx, const float* dy, const float* weight, const Conv2dShape& s);
// dweight = sum over pixels of x-patch ⊗ dy; dbias = sum of dy (nullptr: skipped).
void conv2d_backward_weight(float* dweight, float* dbias, const float* dy, const float* x,
                            const Conv2dShape& s);

}  // namespace pycnn
