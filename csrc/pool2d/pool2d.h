// pool2d.h — 2-D max and average pooling, NHWC float32, Keras/TF semantics.
//
// x (N, H, W, C) -> y (N, OH, OW, C). 'valid': OH = (H - PH) / SH + 1 and the
// pool must fit in the input; 'same' (TF rule): OH = ceil(H / SH), total pad
// max((OH-1)*SH + PH - H, 0), the odd cell at the bottom/right. Padded cells
// never take part: max ignores them and the average divides by the number of
// real cells in the window (Keras). Any stride is allowed, also stride > pool.
//
// Max pooling saves argmax: int32 indices into one input image,
// (h * W + w) * C + c, so backward is a scatter through them. Global pooling
// is the same kernels with the pool equal to the input (one window).
// Every function overwrites its outputs.
#pragma once

#include <cstdint>

#include "common/activation.h"

namespace pycnn {

struct Pool2dShape {
  int64_t n, h, w, c;             // input
  int64_t pool_h, pool_w;
  int64_t stride_h, stride_w;
  int64_t oh, ow;                 // output
  int64_t pad_top, pad_left;      // 'same' only; bottom/right padding is implied
};

// The one validation point: sizes >= 1 (N, C >= 0), a 'valid' pool no larger
// than the input, image sizes that fit an int32 argmax. Throws "[op] ...".
Pool2dShape pool2d_shape(const char* op, int64_t n, int64_t h, int64_t w, int64_t c,
                         int64_t pool_h, int64_t pool_w, int64_t stride_h, int64_t stride_w,
                         bool same);

// y, argmax (N, OH, OW, C); one pass over x. Ties keep the first cell in
// row-major window order. argmax may be nullptr (inference: values only).
void max_pool2d_forward(float* y, int32_t* argmax, const float* x, const Pool2dShape& s);

// dx (N, in_per_image) = scatter-add of dy (N, out_per_image) through argmax,
// image by image in output order (deterministic with overlapping windows);
// dx is zeroed first.
// argmax comes from the caller and is range-checked while scattering: returns
// false, leaving dx unspecified but never writing outside it, if any index
// is outside [0, in_per_image).
bool max_pool2d_backward_input(float* dx, const float* dy, const int32_t* argmax, int64_t n,
                               int64_t in_per_image, int64_t out_per_image);

// The same with the windows known (s describes the forward), and with the
// backward of an activation applied before the pooling fused in: dx is the
// gradient w.r.t. the activation's input, dy * act'(y) scattered, where y
// (N, OH, OW, C) is the pooled output — the activation's output at the
// argmax. `act` kNone ignores y (may be null). Windows that do not overlap
// (stride >= pool) write dx in one pass in input order, without a zero
// fill. Returns false if an argmax entry lies outside its window (for
// disjoint windows) or outside the image.
bool max_pool2d_backward_windows(float* dx, const float* dy, const int32_t* argmax, const float* y,
                                 ActivationSpec act, const Pool2dShape& s);

// y (N, OH, OW, C): the mean of the real cells of each window.
void avg_pool2d_forward(float* y, const float* x, const Pool2dShape& s);

// dx (N, H, W, C): each dy spread evenly over the real cells of its window.
void avg_pool2d_backward_input(float* dx, const float* dy, const Pool2dShape& s);

}  // namespace pycnn
