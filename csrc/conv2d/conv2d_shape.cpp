// conv2d_shape.cpp — validation of a conv2d call and its output size.
//
// Everything a conv2d pass may assume is checked here, before any memory is
// touched: positive window/strides/dilations, channel and group agreement,
// a window that fits the padded input, and element counts that cannot
// overflow. 'same' follows TF: out = ceil(in / stride), the odd padding pixel
// goes to the bottom/right.
#include "conv2d/conv2d.h"

#include <algorithm>

#include "common/check.h"

namespace pycnn {
namespace {

constexpr const char* kOp = "conv2d";

struct Axis {
  int64_t pad_before, pad_after, out;
};

Axis resolve_axis(int64_t in, int64_t window, int64_t stride, int64_t dilation, Conv2dPadding mode,
                  int64_t pad_before, int64_t pad_after, const char* name, const Conv2dArgs& a) {
  int64_t extent = checked_mul(window - 1, dilation, kOp) + 1;  // dilated window
  if (mode == Conv2dPadding::kSame) {
    // (out - 1) * stride <= in - 1: no overflow for huge strides or windows.
    int64_t out = ceil_div(in, stride);
    int64_t total = std::max<int64_t>(extent - in + (out - 1) * stride, 0);
    return {total / 2, total - total / 2, out};
  }
  if (mode == Conv2dPadding::kValid) pad_before = pad_after = 0;
  check(pad_before >= 0 && pad_after >= 0, kOp, "padding must be >= 0, got ", pad_before, " and ",
        pad_after, " on the ", name, " axis");
  int64_t padded = 0;
  if (__builtin_add_overflow(in, pad_before, &padded) || __builtin_add_overflow(padded, pad_after, &padded))
    fail(kOp, "padding ", pad_before, " and ", pad_after, " on the ", name, " axis is too large");
  // Only this axis' sizes go into the message: the other axis is not validated yet.
  if (padded < extent)
    fail(kOp, "padded input ", name, " ", padded, " is smaller than the (dilated) kernel's ", extent,
         " (x.shape=", shape_str(a.x_shape, a.x_shape + 4), ", kernel.shape=",
         shape_str(a.weight_shape, a.weight_shape + 4), ")");
  return {pad_before, pad_after, (padded - extent) / stride + 1};
}

}  // namespace

Conv2dShape conv2d_shape(const Conv2dArgs& a) {
  const int64_t* xs = a.x_shape;
  const int64_t* ws = a.weight_shape;
  const auto x_str = shape_str(xs, xs + 4), w_str = shape_str(ws, ws + 4);
  check(xs[0] >= 0, kOp, "batch size must be >= 0, got x.shape=", x_str);
  check(xs[1] >= 1 && xs[2] >= 1 && xs[3] >= 1, kOp,
        "x must have positive height, width and channels, got x.shape=", x_str);
  check(ws[0] >= 1 && ws[1] >= 1 && ws[2] >= 1 && ws[3] >= 1, kOp,
        "kernel dimensions must be >= 1, got kernel of shape ", w_str);
  check(a.stride_h >= 1 && a.stride_w >= 1, kOp, "strides must be >= 1, got (", a.stride_h, ", ",
        a.stride_w, ")");
  check(a.dilation_h >= 1 && a.dilation_w >= 1, kOp, "dilation_rate must be >= 1, got (",
        a.dilation_h, ", ", a.dilation_w, ")");
  check(a.groups >= 1, kOp, "groups must be >= 1, got ", a.groups);
  check(xs[3] % a.groups == 0, kOp, "groups=", a.groups, " must divide the input channels, got x with ",
        xs[3], " (x.shape=", x_str, ")");
  check(ws[3] % a.groups == 0, kOp, "groups=", a.groups,
        " must divide the output channels, got kernel of shape ", w_str);
  int64_t want_c = checked_mul(ws[2], a.groups, kOp);
  if (want_c != xs[3])
    fail(kOp, "kernel of shape ", w_str, " expects ", want_c, " input channels",
         a.groups > 1 ? concat(" (", ws[2], " per group x ", a.groups, " groups)") : std::string(),
         ", got x with ", xs[3], " (x.shape=", x_str, ")");
  check(a.bias_size < 0 || a.bias_size == ws[3], kOp, "bias of size ", a.bias_size,
        " does not match the ", ws[3], " output channels of the kernel ", w_str);

  Axis ah = resolve_axis(xs[1], ws[0], a.stride_h, a.dilation_h, a.padding, a.pad_top, a.pad_bottom,
                         "height", a);
  Axis aw = resolve_axis(xs[2], ws[1], a.stride_w, a.dilation_w, a.padding, a.pad_left, a.pad_right,
                         "width", a);
  Conv2dShape s;
  s.n = xs[0], s.h = xs[1], s.w = xs[2], s.c = xs[3];
  s.kh = ws[0], s.kw = ws[1], s.k = ws[3];
  s.groups = a.groups, s.cg = ws[2], s.kg = ws[3] / a.groups;
  s.sh = a.stride_h, s.sw = a.stride_w, s.dh = a.dilation_h, s.dw = a.dilation_w;
  s.pad_top = ah.pad_before, s.pad_bottom = ah.pad_after;
  s.pad_left = aw.pad_before, s.pad_right = aw.pad_after;
  s.oh = ah.out, s.ow = aw.out;
  // The padded image is never allocated whole, but offsets into it (window
  // row i * dilation * row length, ...) are computed: it must be describable.
  const int64_t padded_h = s.h + s.pad_top + s.pad_bottom, padded_w = s.w + s.pad_left + s.pad_right;
  if (padded_h > kMaxElements / padded_w || padded_h * padded_w > kMaxElements / s.c)
    fail(kOp, "the padded input ", padded_h, "x", padded_w, "x", s.c, " is too large (x.shape=", x_str,
         ", padding ", s.pad_top, ", ", s.pad_bottom, ", ", s.pad_left, ", ", s.pad_right, ")");
  // A stride with a single output position, or a dilation with a single tap,
  // is never multiplied by anything but 0: bounding it by the padded size
  // changes no result and keeps every product with it small.
  if (s.oh == 1) s.sh = std::min(s.sh, padded_h);
  if (s.ow == 1) s.sw = std::min(s.sw, padded_w);
  if (s.kh == 1) s.dh = 1;
  if (s.kw == 1) s.dw = 1;
  // Every tensor and scratch size the passes use stays far from overflow.
  checked_product(kOp, s.n, s.h, s.w, s.c);
  checked_product(kOp, s.n, s.oh, s.ow, s.k);
  checked_product(kOp, s.n, s.oh, s.ow, s.kh, s.kw, s.c);
  checked_product(kOp, s.kh, s.kw, s.cg, s.k, 64);
  return s;
}

}  // namespace pycnn
