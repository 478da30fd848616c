// direct.cpp — direct (one input channel per group) conv2d passes.
//
// forward: parallel over output rows (n, oh), the row kernel picked by ISA.
// backward_input: parallel over images, so no two threads touch one dx
// element; each image is zeroed and then scatter-added.
// backward_weight: fixed chunks of output rows, one partial per chunk, the
// partials added in chunk order (thread-count independent).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/channels.h"
#include "common/check.h"
#include "common/cpu_features.h"
#include "common/parallel.h"
#include "common/workspace.h"
#include "conv2d/direct.h"

namespace pycnn {
void pad_input_row(float* dst, const float* x, const Conv2dShape& s, int64_t n, int64_t ih, int64_t wp) {
  const int64_t C = s.c;
  const int64_t lead = std::min(s.pad_left, wp), body = std::max<int64_t>(0, std::min(s.w, wp - lead));
  const float* src = x + ((n * s.h + ih) * s.w) * C;
  std::fill(dst, dst + lead * C, 0.f);
  std::copy(src, src + body * C, dst + lead * C);
  std::fill(dst + (lead + body) * C, dst + wp * C, 0.f);
}

void activate_inplace(float* y, int64_t count, const ActivationSpec& act) {
  const float a = act.alpha;
  switch (act.kind) {
    case Activation::kNone: return;
    case Activation::kRelu:
#pragma omp simd
      for (int64_t i = 0; i < count; ++i) y[i] = activate<Activation::kRelu>(y[i], a);
      return;
    case Activation::kLeakyRelu:
#pragma omp simd
      for (int64_t i = 0; i < count; ++i) y[i] = activate<Activation::kLeakyRelu>(y[i], a);
      return;
    default:
      for (int64_t i = 0; i < count; ++i) y[i] = apply_activation(y[i], act);
  }
}

void direct_forward(float* y, const float* x, const float* weight, const float* bias,
                    const Conv2dShape& s, const ActivationSpec& act) {
  auto rows_kernel = direct_forward_rows_portable;
#if defined(PYCNN_X86)
  if (active_isa() == Isa::kAvx512 && direct_winograd_applies_avx512(s))
    return direct_winograd_forward_avx512(y, x, weight, bias, s, act);
  if (active_isa() == Isa::kAvx512) rows_kernel = direct_forward_rows_avx512;
  if (active_isa() == Isa::kAvx2) rows_kernel = direct_forward_rows_avx2;
#endif
  parallel_for(s.n * s.oh, direct_row_grain(s),
               [&](int64_t u0, int64_t u1) { rows_kernel(y, x, weight, bias, s, u0, u1, act); });
}

void direct_backward_input(float* dx, const float* dy, const float* weight, const Conv2dShape& s) {
  const int64_t K = s.k, C = s.c, kg = s.kg, image = s.h * s.w * C;
  parallel_for(s.n, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      float* dx_img = dx + n * image;
      std::memset(dx_img, 0, sizeof(float) * image);
      for (int64_t oh = 0; oh < s.oh; ++oh) {
        int64_t ih0 = oh * s.sh - s.pad_top, ilo, ihi;
        valid_rows(s, ih0, ilo, ihi);
        for (int64_t ow = 0; ow < s.ow; ++ow) {
          const float* dyp = dy + ((n * s.oh + oh) * s.ow + ow) * K;
          const int64_t iw0 = ow * s.sw - s.pad_left;
          for (int64_t i = ilo; i < ihi; ++i) {
            float* row = dx_img + (ih0 + i * s.dh) * s.w * C;
            for (int64_t j = 0; j < s.kw; ++j) {
              int64_t iw = iw0 + j * s.dw;
              if (iw < 0 || iw >= s.w) continue;
              float* dxp = row + iw * C;
              const float* wp = weight + (i * s.kw + j) * K;
              if (kg == 1) {
#pragma omp simd
                for (int64_t c = 0; c < C; ++c) dxp[c] += dyp[c] * wp[c];
              } else {
                for (int64_t c = 0; c < C; ++c) {
                  float acc = 0.f;
#pragma omp simd reduction(+ : acc)
                  for (int64_t m = 0; m < kg; ++m) acc += dyp[c * kg + m] * wp[c * kg + m];
                  dxp[c] += acc;
                }
              }
            }
          }
        }
      }
    }
  });
}

// Adds pixel (n, oh, ow)'s contribution to pw for channels from `from` on
// (k when kg == 1, m of every group when kg > 1).
static void weight_pixel(float* pw, const float* x, const float* dyp, const Conv2dShape& s, int64_t n,
                  int64_t ih0, int64_t ilo, int64_t ihi, int64_t ow, int64_t from) {
  const int64_t K = s.k, C = s.c, kg = s.kg, cg = s.cg;
  const float* x_img = x + n * s.h * s.w * C;
  const int64_t iw0 = ow * s.sw - s.pad_left;
  for (int64_t i = ilo; i < ihi; ++i) {
    const float* row = x_img + (ih0 + i * s.dh) * s.w * C;
    for (int64_t j = 0; j < s.kw; ++j) {
      int64_t iw = iw0 + j * s.dw;
      if (iw < 0 || iw >= s.w) continue;
      const float* xp = row + iw * C;
      float* wp = pw + (i * s.kw + j) * cg * K;
      if (kg == 1) {
#pragma omp simd
        for (int64_t c = from; c < C; ++c) wp[c] += xp[c] * dyp[c];
      } else {
        for (int64_t g = 0; g < s.groups; ++g)
          for (int64_t ci = 0; ci < cg; ++ci) {
            const float xv = xp[g * cg + ci];
            float* wg = wp + ci * K + g * kg;
            const float* dyg = dyp + g * kg;
#pragma omp simd
            for (int64_t m = from; m < kg; ++m) wg[m] += xv * dyg[m];
          }
      }
    }
  }
}

void direct_backward_weight(float* dweight, const float* dy, const float* x, const Conv2dShape& s) {
#if defined(PYCNN_X86)
  if (active_isa() == Isa::kAvx512 && direct_winograd_applies_avx512(s))
    return direct_winograd_weight_avx512(dweight, dy, x, s);
#endif
  const int64_t K = s.k, wsize = s.kh * s.kw * s.cg * K;
  const FixedChunks chunks = direct_weight_chunks(s);
  float* partial = chunks.count > 1 ? thread_scratch(kScratchPartial).floats(size_t((chunks.count - 1) * wsize))
                                    : nullptr;
  // Interior pixels (whole window inside the width) and whole 16-channel
  // blocks go to the ISA's register-blocked kernel.
  auto weight_row = direct_weight_row_portable;
  auto weight_row_padded = direct_weight_row_padded_portable;
  [[maybe_unused]] bool sliding = false;  // AVX-512's sliding rows, every pixel
#if defined(PYCNN_X86)
  if (active_isa() == Isa::kAvx512) {
    weight_row = direct_weight_row_avx512, weight_row_padded = direct_weight_row_padded_avx512;
    sliding = direct_weight_sliding_applies_avx512(s);
  }
  if (active_isa() == Isa::kAvx2) weight_row = direct_weight_row_avx2, weight_row_padded = direct_weight_row_padded_avx2;
#endif
  const int64_t len = s.kg == 1 ? K : s.kg, full = len / 16 * 16;
  const int64_t ow_lo = ceil_div(s.pad_left, s.sw);
  const int64_t last = s.w - 1 - (s.kw - 1) * s.dw + s.pad_left;
  const int64_t ow_hi = std::max(ow_lo, last < 0 ? int64_t(0) : std::min<int64_t>(s.ow, last / s.sw + 1));
  // Stride-1 3-wide windows with whole blocks: pad the window rows so every
  // pixel, borders included, takes the register-blocked kernel (on AVX2 the
  // per-pixel loop for cifar conv1's 2 border pixels in 32 took 29 % of the
  // time). Not where AVX-512's sliding rows take every row: they use the
  // same scratch slot for their own copy.
  const bool padded =
      !sliding && full == len && full > 0 && s.kg > 1 && s.kw == 3 && s.sw == 1 && s.dw == 1 && s.cg <= 4;
  const int64_t wp = s.ow + 2;
  const int64_t row = padded_row_floats(s, wp), capacity = padded_rows_capacity(s, row);
  parallel_for_chunks(chunks.count, [&](int64_t ci) {
    float* pw = ci == 0 ? dweight : partial + (ci - 1) * wsize;
    std::memset(pw, 0, sizeof(float) * wsize);
    PaddedRows rows(padded ? thread_scratch(kScratchMisc).floats(size_t(capacity * row)) : nullptr, capacity, row);
    for (int64_t u = chunks.begin(ci); u < chunks.end(ci); ++u) {
      int64_t n = u / s.oh, oh = u % s.oh, ih0 = oh * s.sh - s.pad_top, ilo, ihi;
      valid_rows(s, ih0, ilo, ihi);
      const float* dy_row = dy + u * s.ow * K;
#if defined(PYCNN_X86)
      if (sliding) {
        direct_weight_sliding_row_avx512(pw, x, dy_row, s, n, ih0, ilo, ihi);
        continue;
      }
#endif
      if (padded) {
        if (ilo < ihi)
          weight_row_padded(pw, rows.window(x, s, n, ih0, ilo, ihi, wp), s.dh * row, dy_row, s, ilo, ihi, full);
        continue;
      }
      if (full > 0) weight_row(pw, x, dy_row, s, n, ih0, ilo, ihi, ow_lo, ow_hi, full);
      for (int64_t ow = 0; ow < s.ow; ++ow) {
        int64_t from = (full > 0 && ow >= ow_lo && ow < ow_hi) ? full : 0;
        if (from < len) weight_pixel(pw, x, dy_row + ow * K, s, n, ih0, ilo, ihi, ow, from);
      }
    }
  });
  add_partials(dweight, partial, chunks.count - 1, wsize);
}

}  // namespace pycnn
