// im2col.h — the patch matrix of one group, for a range of output pixels.
//
// cols[r, (i*KW + j)*cg + c] = x[n, oh*sh - pt + i*dh, ow*sw - pl + j*dw, c0 + c]
// for output pixel r0 + r = (n*OH + oh)*OW + ow, zero where the window leaves
// the input. Row r of cols is ld floats apart. col2im is its adjoint: it adds
// each cols entry into the dx element it came from (entries outside are dropped).
#pragma once

#include <cstdint>

#include "conv2d/conv2d.h"

namespace pycnn {

void im2col(float* cols, int64_t ld, const float* x, const Conv2dShape& s, int64_t r0, int64_t rows,
            int64_t c0);
void col2im_add(float* dx, const float* cols, int64_t ld, const Conv2dShape& s, int64_t r0,
                int64_t rows, int64_t c0);

}  // namespace pycnn
