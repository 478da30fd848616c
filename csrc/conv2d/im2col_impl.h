// im2col_impl.h — the patch walkers behind im2col/col2im_add, compiled per
// ISA (im2col.cpp baseline, im2col_avx512.cpp). Include only from those
// files: everything here has internal linkage.
//
// Both walk output pixels in order and, per window row i, handle the KW taps
// as one contiguous run when the taps are adjacent in memory (dilation 1 and
// one group: KW*C floats), trimming the run at the left/right borders.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "common/check.h"
#include "conv2d/conv2d.h"

namespace pycnn {
namespace {

// Calls tap(dst_offset, src_offset, count) for each in-bounds run of pixel
// (n, oh, ow)'s patch and gap(dst_offset, count) for each out-of-bounds run.
template <typename Tap, typename Gap>
inline void walk_patch(const Conv2dShape& s, int64_t n, int64_t oh, int64_t ow, int64_t c0, Tap&& tap,
                       Gap&& gap) {
  const int64_t cg = s.cg, row_len = s.kw * cg;
  const int64_t ih0 = oh * s.sh - s.pad_top, iw0 = ow * s.sw - s.pad_left;
  const bool runs = s.dw == 1 && s.groups == 1;
  // Taps j in [jlo, jhi) fall inside the width.
  int64_t jlo = 0, jhi = s.kw;
  if (iw0 < 0) jlo = std::min<int64_t>(s.kw, ceil_div(-iw0, s.dw));
  if (iw0 + (s.kw - 1) * s.dw >= s.w) {
    int64_t room = s.w - 1 - iw0;  // may be negative: the window starts right of the input
    jhi = std::max<int64_t>(jlo, room < 0 ? 0 : room / s.dw + 1);
  }
  for (int64_t i = 0; i < s.kh; ++i) {
    int64_t ih = ih0 + i * s.dh, dst = i * row_len;
    if (ih < 0 || ih >= s.h) {
      gap(dst, row_len);
      continue;
    }
    int64_t src = ((n * s.h + ih) * s.w + iw0) * s.c + c0;
    if (jlo > 0) gap(dst, jlo * cg);
    if (runs) {
      if (jhi > jlo) tap(dst + jlo * cg, src + jlo * s.c, (jhi - jlo) * cg);
    } else {
      for (int64_t j = jlo; j < jhi; ++j) tap(dst + j * cg, src + j * s.dw * s.c, cg);
    }
    if (jhi < s.kw) gap(dst + jhi * cg, (s.kw - jhi) * cg);
  }
}

// Calls body(r, n, oh, ow) for rows r0 .. r0+rows-1 without dividing per row.
template <typename Body>
inline void for_pixels(const Conv2dShape& s, int64_t r0, int64_t rows, Body&& body) {
  int64_t ow = r0 % s.ow, t = r0 / s.ow, oh = t % s.oh, n = t / s.oh;
  for (int64_t r = 0; r < rows; ++r) {
    body(r, n, oh, ow);
    if (++ow == s.ow) {
      ow = 0;
      if (++oh == s.oh) oh = 0, ++n;
    }
  }
}

// Copy(dst, src, count) / Add(dst, src, count) move one contiguous run.
template <typename Copy>
inline void im2col_impl(float* cols, int64_t ld, const float* x, const Conv2dShape& s, int64_t r0,
                        int64_t rows, int64_t c0, Copy&& copy) {
  for_pixels(s, r0, rows, [&](int64_t r, int64_t n, int64_t oh, int64_t ow) {
    float* dst = cols + r * ld;
    walk_patch(
        s, n, oh, ow, c0, [&](int64_t d, int64_t src, int64_t count) { copy(dst + d, x + src, count); },
        [&](int64_t d, int64_t count) { std::memset(dst + d, 0, sizeof(float) * count); });
  });
}

template <typename Add>
inline void col2im_impl(float* dx, const float* cols, int64_t ld, const Conv2dShape& s, int64_t r0,
                        int64_t rows, int64_t c0, Add&& add) {
  for_pixels(s, r0, rows, [&](int64_t r, int64_t n, int64_t oh, int64_t ow) {
    const float* src_row = cols + r * ld;
    walk_patch(
        s, n, oh, ow, c0, [&](int64_t d, int64_t dst, int64_t count) { add(dx + dst, src_row + d, count); },
        [](int64_t, int64_t) {});
  });
}

}  // namespace
}  // namespace pycnn
