// direct_input_impl.h — d-input of first-layer shapes (3-wide window,
// stride 1 across the width, no width dilation, C/G <= 4, K/G a multiple of
// 16) computed directly, one dx row at a time: the row driver and the
// register block, written over a vector type, for direct_input_avx512.cpp,
// direct_input_avx2.cpp and direct_input_portable.cpp.
// Include only from those files: everything here has internal linkage.
//
// dx[iw, g*cg+ci] = sum_{i,j,k} dy[oh_i, iw + pl - j, g*kg+k] * w[i, j, ci, g*kg+k]
// Each dy row that reaches this dx row is first copied with zero columns
// around it, so borders need no special case. kInputPixels dx pixels x cg
// channels accumulate partial sums over k in vector registers (each dy
// vector feeds up to three pixels' taps), reduced horizontally once at the
// end. Every dx element is written exactly once, by the thread that owns its
// row.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "common/simd.h"
#include "common/workspace.h"
#include "conv2d/conv2d.h"

namespace pycnn {
namespace {

constexpr int kInputPixels = 4;  // dx pixels per register block

inline bool first_layer_input_applies(const Conv2dShape& s) {
  return s.kw == 3 && s.sw == 1 && s.dw == 1 && s.cg <= 4 && s.kg % 16 == 0 && s.kh <= 16;
}

// dx row (n, ih), every pixel and channel. Block::run<kCg> computes the
// register block of kInputPixels dx pixels from iw0 and group g from
// `pairs` dy rows (zero-padded, column b = output column b + pad_left - 2)
// and their window rows taps_i.
template <typename Block>
void first_layer_input_row(float* dx_row, const float* dy, const float* w, const Conv2dShape& s, int64_t n,
                           int64_t ih) {
  const int64_t K = s.k, C = s.c, cg = s.cg;
  const int64_t wpad = (s.w + kInputPixels - 1) / kInputPixels * kInputPixels, blen = wpad + 2;
  // Window rows i whose output row oh = (ih + pt - i*dh) / sh exists.
  int64_t taps_i[16], pairs = 0, oh_of[16];
  for (int64_t i = 0; i < s.kh && pairs < 16; ++i) {
    int64_t t = ih + s.pad_top - i * s.dh;
    if (t < 0 || t % s.sh || t / s.sh >= s.oh) continue;
    taps_i[pairs] = i, oh_of[pairs] = t / s.sh, ++pairs;
  }
  Workspace& ws = thread_scratch(kScratchMisc);
  float* buf = ws.floats(size_t(pairs * blen * K + wpad * C + 1));
  float* dx_tmp = buf + pairs * blen * K;
  const float* dy_rows[16];
  for (int64_t r = 0; r < pairs; ++r) {
    // dy row oh_of[r], buffer column b holds output column b + pl - 2.
    // Columns [b0, b1) hold the row's pixels, the rest zeros.
    float* dst = buf + r * blen * K;
    const float* src = dy + (n * s.oh + oh_of[r]) * s.ow * K;
    const int64_t shift = s.pad_left - 2;  // output column of buffer column 0
    const int64_t b0 = std::clamp<int64_t>(-shift, 0, blen), b1 = std::clamp<int64_t>(s.ow - shift, b0, blen);
    std::memset(dst, 0, sizeof(float) * b0 * K);
    if (b1 > b0) std::memcpy(dst + b0 * K, src + (b0 + shift) * K, sizeof(float) * (b1 - b0) * K);
    std::memset(dst + b1 * K, 0, sizeof(float) * (blen - b1) * K);
    dy_rows[r] = dst;
  }
  float* out = wpad == s.w ? dx_row : dx_tmp;
  for (int64_t iw0 = 0; iw0 < wpad; iw0 += kInputPixels)
    for (int64_t g = 0; g < s.groups; ++g) {
      float* px = out + iw0 * C + g * cg;
      switch (cg) {
        case 1: Block::template run<1>(px, C, dy_rows, taps_i, pairs, w, s, iw0, g); break;
        case 2: Block::template run<2>(px, C, dy_rows, taps_i, pairs, w, s, iw0, g); break;
        case 3: Block::template run<3>(px, C, dy_rows, taps_i, pairs, w, s, iw0, g); break;
        default: Block::template run<4>(px, C, dy_rows, taps_i, pairs, w, s, iw0, g); break;
      }
    }
  if (out != dx_row) std::memcpy(dx_row, out, sizeof(float) * s.w * C);
}

// The register block on Vec: kInputPixels x kCg accumulators of Vec::kLanes
// output channels, the window's weight vectors of one lane block read as the
// dy vectors pass.
template <typename Vec>
struct VecInputBlock {
  template <int kCg>
  static void run(float* dx_px, int64_t C, const float* const* dy_rows, const int64_t* taps_i, int64_t pairs,
                  const float* w, const Conv2dShape& s, int64_t iw0, int64_t g);
};

template <typename Vec>
template <int kCg>
void VecInputBlock<Vec>::run(float* dx_px, int64_t C, const float* const* dy_rows, const int64_t* taps_i,
                             int64_t pairs, const float* w, const Conv2dShape& s, int64_t iw0, int64_t g) {
  constexpr int L = Vec::kLanes;
  const int64_t K = s.k, kg = s.kg;
  typename Vec::V acc[kInputPixels][kCg];
  for (int p = 0; p < kInputPixels; ++p)
    for (int ci = 0; ci < kCg; ++ci) acc[p][ci] = Vec::zero();
  for (int64_t r = 0; r < pairs; ++r) {
    const float* wi = w + taps_i[r] * 3 * kCg * K + g * kg;
    const float* dyb = dy_rows[r] + iw0 * K + g * kg;
    for (int64_t kb = 0; kb < kg; kb += L) {
#pragma GCC unroll 8
      for (int q = 0; q < kInputPixels + 2; ++q) {
        const typename Vec::V d = Vec::load(dyb + q * K + kb);
#pragma GCC unroll 4
        for (int j = 0; j < 3; ++j) {
          const int p = q + j - 2;
          if (p < 0 || p >= kInputPixels) continue;
#pragma GCC unroll 4
          for (int ci = 0; ci < kCg; ++ci)
            acc[p][ci] = Vec::fmadd(d, Vec::load(wi + (j * kCg + ci) * K + kb), acc[p][ci]);
        }
      }
    }
  }
  for (int p = 0; p < kInputPixels; ++p)
    for (int ci = 0; ci < kCg; ++ci) dx_px[p * C + ci] = Vec::reduce_add(acc[p][ci]);
}

}  // namespace
}  // namespace pycnn
