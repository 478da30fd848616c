// direct.h — convolution with few input channels per group (depthwise, or a
// first layer on a 1- or 3-channel image), computed directly over NHWC.
//
// Output channel k = g*kg + m reads the cg input channels of group g only;
// with cg small the GEMM view degenerates (K = KH*KW*cg <= 36), so these
// kernels vectorise over the contiguous output channels instead: over g when
// kg == 1 (depthwise), over m otherwise. Weight row of tap (i, j) and group
// channel ci: ((i*KW + j)*cg + ci)*K. Same contracts as conv2d.h; called for
// Conv2dShape::direct() shapes (d-input: direct_input()).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "common/activation.h"
#include "common/check.h"
#include "common/parallel.h"
#include "common/workspace.h"
#include "conv2d/conv2d.h"

namespace pycnn {

// Window rows [ilo, ihi) of an output row whose window starts at input row
// ih0 (may be negative) that fall inside the height.
inline void valid_rows(const Conv2dShape& s, int64_t ih0, int64_t& ilo, int64_t& ihi) {
  ilo = ih0 < 0 ? std::min<int64_t>(s.kh, ceil_div(-ih0, s.dh)) : 0;
  const int64_t room = s.h - 1 - ih0;
  ihi = std::max(ilo, room < 0 ? int64_t(0) : std::min<int64_t>(s.kh, room / s.dh + 1));
}

// Forward: output rows (n, oh) per parallel_for grain, about 2^14
// multiply-adds.
inline int64_t direct_row_grain(const Conv2dShape& s) {
  return std::max<int64_t>(1, (int64_t(1) << 14) / std::max<int64_t>(s.ow * s.k * s.kh * s.kw, 1));
}
// d-weight: fixed chunks of output rows, about 2^15 multiply-adds each and at
// most 64 of them, a function of the problem alone (one partial per chunk).
inline FixedChunks direct_weight_chunks(const Conv2dShape& s) {
  const int64_t units = s.n * s.oh, per_unit = std::max<int64_t>(1, s.ow * s.kh * s.kw * s.cg * s.k);
  return fixed_chunks(units, std::max<int64_t>((int64_t(1) << 15) / per_unit, (units + 63) / 64));
}

void direct_forward(float* y, const float* x, const float* weight, const float* bias,
                    const Conv2dShape& s, const ActivationSpec& act);
void direct_backward_input(float* dx, const float* dy, const float* weight, const Conv2dShape& s);
void direct_backward_weight(float* dweight, const float* dy, const float* x, const Conv2dShape& s);

// The per-ISA forward row kernels: output rows u in [u0, u1) of y (u =
// n*OH + oh), all OW pixels each, activation applied.
void direct_forward_rows_portable(float* y, const float* x, const float* weight, const float* bias,
                                  const Conv2dShape& s, int64_t u0, int64_t u1, const ActivationSpec& act);
void direct_forward_rows_avx512(float* y, const float* x, const float* weight, const float* bias,
                                const Conv2dShape& s, int64_t u0, int64_t u1, const ActivationSpec& act);
void direct_forward_rows_avx2(float* y, const float* x, const float* weight, const float* bias,
                              const Conv2dShape& s, int64_t u0, int64_t u1, const ActivationSpec& act);

// The first-layer forward row kernel: groups == 1, at most 4 input
// channels, 3-wide windows of width stride 1 undilated, K a multiple of 16
// (direct_sliding_applies). y_row: output row (n, oh), all OW pixels, no
// activation applied.
bool direct_sliding_applies_avx512(const Conv2dShape& s);
void direct_sliding_row_avx512(float* y_row, const float* x, const float* weight, const float* bias,
                               const Conv2dShape& s, int64_t n, int64_t oh);

// The same shapes undilated in height, by Winograd's F(2, 3) along the width
// (direct_winograd_avx512.cpp): the whole forward, activation included, and
// the whole d-weight. The sliding row kernels above remain for height
// dilation.
bool direct_winograd_applies_avx512(const Conv2dShape& s);
void direct_winograd_forward_avx512(float* y, const float* x, const float* weight, const float* bias,
                                    const Conv2dShape& s, const ActivationSpec& act);
void direct_winograd_weight_avx512(float* dweight, const float* dy, const float* x, const Conv2dShape& s);
// The forward and d-weight of those with 3x3 windows at stride 1 by
// F(2x2, 3x3) (direct_winograd_tiles_avx512.cpp); the F(2, 3) entry points
// above hand them over.
bool direct_winograd_tiles_applies_avx512(const Conv2dShape& s);
void direct_winograd_tiles_forward_avx512(float* y, const float* x, const float* weight, const float* bias,
                                          const Conv2dShape& s, const ActivationSpec& act);
void direct_winograd_tiles_weight_avx512(float* dweight, const float* dy, const float* x, const Conv2dShape& s);

// The first-layer d-weight of output row (n, oh) (window rows [ilo, ihi)),
// every pixel and channel, added into pw; shapes as direct_sliding_applies
// with at most 64 window rows.
bool direct_weight_sliding_applies_avx512(const Conv2dShape& s);
void direct_weight_sliding_row_avx512(float* pw, const float* x, const float* dy_row, const Conv2dShape& s,
                                      int64_t n, int64_t ih0, int64_t ilo, int64_t ihi);

// d-weight of output row (n, oh) for its interior pixels [ow_lo, ow_hi) and
// channels [0, full) (whole 16-blocks), added into pw (KH*KW*K floats).
void direct_weight_row_avx512(float* pw, const float* x, const float* dy_row, const Conv2dShape& s,
                              int64_t n, int64_t ih0, int64_t ilo, int64_t ihi, int64_t ow_lo,
                              int64_t ow_hi, int64_t full);
void direct_weight_row_avx2(float* pw, const float* x, const float* dy_row, const Conv2dShape& s, int64_t n,
                            int64_t ih0, int64_t ilo, int64_t ihi, int64_t ow_lo, int64_t ow_hi, int64_t full);
void direct_weight_row_portable(float* pw, const float* x, const float* dy_row, const Conv2dShape& s, int64_t n,
                                int64_t ih0, int64_t ilo, int64_t ihi, int64_t ow_lo, int64_t ow_hi, int64_t full);

// d-input of one dx row (n, ih) for 3-wide, width-stride-1, undilated
// windows with C/G <= 4 and K/G a multiple of 16 (direct_input_applies;
// direct_input_impl.h), per ISA.
bool direct_input_applies(const Conv2dShape& s);
void direct_input_row_avx512(float* dx_row, const float* dy, const float* weight, const Conv2dShape& s,
                             int64_t n, int64_t ih);
void direct_input_row_avx2(float* dx_row, const float* dy, const float* weight, const Conv2dShape& s, int64_t n,
                           int64_t ih);
void direct_input_row_portable(float* dx_row, const float* dy, const float* weight, const Conv2dShape& s,
                               int64_t n, int64_t ih);

// The same for a stride-1, 3-wide window over zero-padded window rows:
// row r of `rows` (row_stride floats apart) is window row ilo + r, its column
// 0 is input column -pad_left; every pixel of the row counts.
void direct_weight_row_padded_avx512(float* pw, const float* rows, int64_t row_stride,
                                     const float* dy_row, const Conv2dShape& s, int64_t ilo,
                                     int64_t ihi, int64_t full);
void direct_weight_row_padded_avx2(float* pw, const float* rows, int64_t row_stride, const float* dy_row,
                                   const Conv2dShape& s, int64_t ilo, int64_t ihi, int64_t full);
void direct_weight_row_padded_portable(float* pw, const float* rows, int64_t row_stride, const float* dy_row,
                                       const Conv2dShape& s, int64_t ilo, int64_t ihi, int64_t full);

// Copies input row ih of image n to dst with pad_left zero columns in
// front and zeros after, wp columns in all.
void pad_input_row(float* dst, const float* x, const Conv2dShape& s, int64_t n, int64_t ih, int64_t wp);

// Zero-padded copies (pad_input_row) of consecutive input rows of one
// image, `row` floats apart in `buf`. A thread's output rows move down the
// image, so each input row is padded once instead of once per window it
// falls in (3 times for 3x3 windows; the copies took 7 % of AVX2 face
// conv1's forward).
class PaddedRows {
 public:
  PaddedRows(float* buf, int64_t capacity, int64_t row) : buf_(buf), capacity_(capacity), row_(row) {}

  // Input rows ih0 + i*dh, i in [ilo, ihi) (ilo < ihi), of image n, padded
  // to wp columns: returns window row ilo's copy; row i is (i - ilo)*dh*row
  // floats further. capacity >= (ihi - ilo - 1)*dh + 1.
  const float* window(const float* x, const Conv2dShape& s, int64_t n, int64_t ih0, int64_t ilo, int64_t ihi,
                      int64_t wp) {
    const int64_t lo = ih0 + ilo * s.dh, hi = ih0 + (ihi - 1) * s.dh + 1;  // input rows [lo, hi)
    if (n != n_ || lo < first_ || lo > first_ + count_) n_ = n, first_ = lo, count_ = 0;
    if (hi - first_ > capacity_) {  // slide the rows still needed to the front
      const int64_t keep = first_ + count_ - lo;
      std::memmove(buf_, buf_ + (lo - first_) * row_, sizeof(float) * size_t(keep * row_));
      first_ = lo, count_ = keep;
    }
    for (int64_t ih = first_ + count_; ih < hi; ++ih) pad_input_row(buf_ + (ih - first_) * row_, x, s, n, ih, wp);
    count_ = std::max(count_, hi - first_);
    return buf_ + (lo - first_) * row_;
  }

 private:
  float* buf_;
  int64_t capacity_, row_;                  // rows the buffer holds, floats per row
  int64_t n_ = -1, first_ = 0, count_ = 0;  // rows [first_, first_ + count_) of image n_ are in it
};

// Floats between a PaddedRows' rows of wp pixels: a whole number of cache
// lines, so every row starts as the buffer does.
inline int64_t padded_row_floats(const Conv2dShape& s, int64_t wp) { return (wp * s.c + 15) / 16 * 16; }

// Rows for a PaddedRows of `row` floats each: the window's span of input
// rows plus as many more as fit 4 KiB in all (at most 16 output rows'
// worth). Wide rows then slide every output row, as much copying as
// padding the window afresh; with 16 KiB face conv1's d-weight (1.1 KiB
// rows) ran up to 14 % slower in two of four A/B runs, its buffer moving
// through L1 beside a 5.9 KiB dy row.
inline int64_t padded_rows_capacity(const Conv2dShape& s, int64_t row) {
  const int64_t span = (s.kh - 1) * s.dh + 1;
  return span + std::clamp<int64_t>((int64_t(1) << 10) / std::max<int64_t>(row, 1) - span, 0, 16 * s.sh);
}

// y[0..count) = act(y) with the switch outside the loop (vectorisable).
void activate_inplace(float* y, int64_t count, const ActivationSpec& act);

}  // namespace pycnn
