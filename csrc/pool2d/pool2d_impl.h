// pool2d_impl.h — the pooling loops, compiled once per instruction set.
//
// Included by pool2d_kernels{,_avx2,_avx512}.cpp inside their own namespace
// (PYCNN_POOL_NS) and define their table (PYCNN_POOL_TABLE), so each copy is built with its own flags. Channels are
// innermost in NHWC, so every loop body is a vector over C; work is split
// over images, which also makes the backward scatters deterministic (one
// thread owns an image and adds in output order).
#include <cstring>

#include "activations/kernel_table.h"
#include "common/channels.h"
#include "common/parallel.h"
#include "common/workspace.h"
#include "pool2d/pool2d_kernels.h"

namespace pycnn {
namespace PYCNN_POOL_NS {
namespace {

// Images per parallel grain: enough elements that a fork pays for itself.
int64_t image_grain(int64_t per_image) {
  return std::max<int64_t>(1, kSerialElementwise / std::max<int64_t>(per_image, 1));
}

// The real (unpadded) rows [*b, *e) of output row o along one axis.
inline void window(int64_t o, int64_t stride, int64_t pad, int64_t pool, int64_t in,
                   int64_t* b, int64_t* e) {
  int64_t start = o * stride - pad;
  *b = std::max<int64_t>(start, 0);
  *e = std::min<int64_t>(start + pool, in);
}

// f(cell) for the cells of window rows [h0, h1) x columns [w0, w1) after
// the first, in row-major order, cell = h * W + w.
template <typename F>
inline void after_first_cell(int64_t h0, int64_t h1, int64_t w0, int64_t w1, int64_t W, F&& f) {
  for (int64_t h = h0; h < h1; ++h)
    for (int64_t w = (h == h0 ? w0 + 1 : w0); w < w1; ++w) f(h * W + w);
}

// One output pixel (all channels) of the general loop: the window's first
// real cell, then the others in row-major order (ties keep the first).
// Whole blocks of kLanes channels keep their running maximum and argmax in
// a vector register (a GCC vector type of the build's native width) across
// the window; kept in yo / ao, each cell's compare waited on the previous
// cell's stores (3x3 windows 3.5x slower on AVX-512). The channel tail goes
// through yo / ao.
#if defined(__AVX512F__)
constexpr int kLanes = 16;
#elif defined(__AVX__)
constexpr int kLanes = 8;
#else
constexpr int kLanes = 4;
#endif
using Floats = float __attribute__((vector_size(4 * kLanes)));
using Ints = int32_t __attribute__((vector_size(4 * kLanes)));

template <bool kArgmax>
void max_forward_pixel(float* __restrict yo, int32_t* __restrict ao, const float* __restrict xi,
                       const Pool2dShape& s, int64_t oh, int64_t ow) {
  const int64_t C = s.c, W = s.w, whole = C / kLanes * kLanes;
  int64_t h0, h1, w0, w1;
  window(oh, s.stride_h, s.pad_top, s.pool_h, s.h, &h0, &h1);
  window(ow, s.stride_w, s.pad_left, s.pool_w, W, &w0, &w1);
  const int32_t first = int32_t((h0 * W + w0) * C);
  Ints lane;
  for (int i = 0; i < kLanes; ++i) lane[i] = i;
  for (int64_t c0 = 0; c0 < whole; c0 += kLanes) {
    Floats best;
    std::memcpy(&best, xi + first + c0, sizeof best);
    Ints at = int32_t(first + c0) + lane;
    after_first_cell(h0, h1, w0, w1, W, [&](int64_t cell) {
      const int32_t base = int32_t(cell * C + c0);
      Floats v;
      std::memcpy(&v, xi + base, sizeof v);
      const Ints gt = v > best;
      best = gt ? v : best;
      if constexpr (kArgmax) at = gt ? base + lane : at;
    });
    std::memcpy(yo + c0, &best, sizeof best);
    if constexpr (kArgmax) std::memcpy(ao + c0, &at, sizeof at);
  }
  if (whole == C) return;
#pragma omp simd
  for (int64_t c = whole; c < C; ++c) {
    yo[c] = xi[first + c];
    if constexpr (kArgmax) ao[c] = first + int32_t(c);
  }
  after_first_cell(h0, h1, w0, w1, W, [&](int64_t cell) {
    const int32_t base = int32_t(cell * C);
    const float* __restrict xr = xi + base;
#pragma omp simd
    for (int64_t c = whole; c < C; ++c) {
      float v = xr[c];
      bool gt = v > yo[c];
      yo[c] = gt ? v : yo[c];
      if constexpr (kArgmax) ao[c] = gt ? base + int32_t(c) : ao[c];
    }
  });
}

// 2x2 windows at stride 2 from the top-left corner (the seed networks'
// pooling), the full ones: four loads per output vector, no window
// arithmetic, C a constant for the common widths (one output pixel per
// vector loop with C at run time ran at half the read bandwidth). The same
// comparisons in the same (row-major window) order as the general loop.
template <int64_t kC, bool kArgmax>
void max_forward_full_2x2(float* __restrict y, int32_t* __restrict argmax, const float* __restrict xi,
                          const Pool2dShape& s, int64_t full_oh, int64_t full_ow) {
  const int64_t C = kC ? kC : s.c, row = s.w * C;
  for (int64_t oh = 0; oh < full_oh; ++oh) {
    const float* __restrict r0 = xi + 2 * oh * row;
    const float* __restrict r1 = r0 + row;
    for (int64_t ow = 0; ow < full_ow; ++ow) {
      const int64_t off = 2 * ow * C, o = (oh * s.ow + ow) * C;
      const int32_t base = int32_t(2 * oh * row + off);
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) {
        float m = r0[off + c];
        int32_t at = base + int32_t(c);
        const float v1 = r0[off + C + c], v2 = r1[off + c], v3 = r1[off + C + c];
        bool gt = v1 > m;
        m = gt ? v1 : m;
        if constexpr (kArgmax) at = gt ? base + int32_t(C + c) : at;
        gt = v2 > m;
        m = gt ? v2 : m;
        if constexpr (kArgmax) at = gt ? base + int32_t(row + c) : at;
        gt = v3 > m;
        m = gt ? v3 : m;
        if constexpr (kArgmax) at = gt ? base + int32_t(row + C + c) : at;
        y[o + c] = m;
        if constexpr (kArgmax) argmax[o + c] = at;
      }
    }
  }
}

// argmax == nullptr (inference): the values only, the same comparisons.
template <bool kArgmax>
void max_forward_impl(float* y, int32_t* argmax, const float* x, const Pool2dShape& s) {
  const int64_t C = s.c, in_img = s.h * s.w * C, out_img = s.oh * s.ow * C;
  const bool two_by_two = s.pool_h == 2 && s.pool_w == 2 && s.stride_h == 2 && s.stride_w == 2 &&
                          s.pad_top == 0 && s.pad_left == 0;
  const int64_t full_oh = two_by_two ? std::min(s.oh, s.h / 2) : 0;
  const int64_t full_ow = two_by_two ? std::min(s.ow, s.w / 2) : 0;
  parallel_for(s.n, image_grain(in_img + 2 * out_img), [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      const float* xi = x + n * in_img;
      float* yi = y + n * out_img;
      int32_t* ai = kArgmax ? argmax + n * out_img : nullptr;
      if (full_oh > 0 && full_ow > 0) {
        with_channels(C, [&](auto kc) {
          max_forward_full_2x2<decltype(kc)::value, kArgmax>(yi, ai, xi, s, full_oh, full_ow);
        });
      }
      // The rest (every pixel but for 2x2 windows; then windows cut by the edge).
      for (int64_t oh = 0; oh < s.oh; ++oh)
        for (int64_t ow = oh < full_oh ? full_ow : 0; ow < s.ow; ++ow) {
          const int64_t o = (oh * s.ow + ow) * C;
          max_forward_pixel<kArgmax>(yi + o, kArgmax ? ai + o : nullptr, xi, s, oh, ow);
        }
    }
  });
}

void max_forward(float* y, int32_t* argmax, const float* x, const Pool2dShape& s) {
  if (argmax) return max_forward_impl<true>(y, argmax, x, s);
  max_forward_impl<false>(y, nullptr, x, s);
}

bool max_backward(float* dx, const float* dy, const int32_t* argmax, int64_t n,
                  int64_t in_img, int64_t out_img) {
  int bad = 0;
  parallel_for(n, image_grain(in_img + 2 * out_img), [&](int64_t n0, int64_t n1) {
    int local_bad = 0;
    for (int64_t i = n0; i < n1; ++i) {
      float* __restrict dxi = dx + i * in_img;
      const float* __restrict dyi = dy + i * out_img;
      const int32_t* __restrict ai = argmax + i * out_img;
      std::memset(dxi, 0, sizeof(float) * size_t(in_img));
      const uint32_t limit = uint32_t(in_img);
      for (int64_t j = 0; j < out_img; ++j) {
        uint32_t a = uint32_t(ai[j]);  // negative indices wrap above the limit
        if (a < limit)
          dxi[a] += dyi[j];
        else
          local_bad = 1;
      }
    }
    if (local_bad) {
#pragma omp atomic write
      bad = 1;
    }
  });
  return !bad;
}

// One input pixel of the disjoint backward: g where the cell is its
// window's argmax, 0 elsewhere (cells outside every window included).
// Returns how many of the window's argmax entries it matched.
template <Activation kind>
int32_t disjoint_pixel(float* __restrict d, const float* __restrict g, const float* __restrict y,
                       const int32_t* __restrict a, const int32_t* ow_of, const Pool2dShape& s, int64_t h, int64_t w,
                       float alpha) {
  const int64_t C = s.c;
  const int64_t oh = (h + s.pad_top) / s.stride_h, ow = ow_of[w];
  if (oh >= s.oh || h + s.pad_top - oh * s.stride_h >= s.pool_h || ow < 0) {
    std::memset(d, 0, sizeof(float) * size_t(C));
    return 0;
  }
  const int64_t at = (oh * s.ow + ow) * C;
  const float* __restrict gr = g + at;
  const float* __restrict yr = kind == Activation::kNone ? gr : y + at;
  const int32_t* __restrict ar = a + at;
  const int32_t base = int32_t((h * s.w + w) * C);
  int32_t hits = 0;
#pragma omp simd reduction(+ : hits)
  for (int64_t c = 0; c < C; ++c) {
    const bool hit = ar[c] == base + int32_t(c);
    d[c] = bit_select(hit, through_activation<kind>(gr[c], yr[c], alpha), 0.f);
    hits += hit ? 1 : 0;
  }
  return hits;
}

// 2x2 windows at stride 2 from the top-left corner, the full ones (inside
// the image): each output vector writes its window's four cells at once,
// one argmax and one g load for four stores, with C a constant for the
// common widths (one pixel at a time with C at run time, the seed networks'
// pooling backward wrote at a third of the bandwidth). Returns false if an
// argmax entry points outside its window.
template <int64_t kC, Activation kind>
bool full_windows_2x2(float* __restrict dx, const float* __restrict g, const float* __restrict y,
                      const int32_t* __restrict a, const Pool2dShape& s, int64_t full_oh, int64_t full_ow,
                      float alpha) {
  const int64_t C = kC ? kC : s.c, W = s.w, row = W * C;
  int32_t missed = 0;
  for (int64_t oh = 0; oh < full_oh; ++oh) {
    float* __restrict d0 = dx + 2 * oh * row;
    float* __restrict d1 = d0 + row;
    for (int64_t ow = 0; ow < full_ow; ++ow) {
      const int64_t o = (oh * s.ow + ow) * C, off = 2 * ow * C;
      const int32_t base = int32_t(2 * oh * row + off);
#pragma omp simd reduction(| : missed)
      for (int64_t c = 0; c < C; ++c) {
        const int32_t cell = a[o + c] - base - int32_t(c);  // 0, C, row or row + C
        const float v = through_activation<kind>(g[o + c], kind == Activation::kNone ? 0.f : y[o + c], alpha);
        d0[off + c] = cell == 0 ? v : 0.f;
        d0[off + C + c] = cell == int32_t(C) ? v : 0.f;
        d1[off + c] = cell == int32_t(row) ? v : 0.f;
        d1[off + C + c] = cell == int32_t(row + C) ? v : 0.f;
        missed |= (cell == 0) | (cell == int32_t(C)) | (cell == int32_t(row)) | (cell == int32_t(row + C)) ? 0 : 1;
      }
    }
  }
  return !missed;
}

// One image of the windowed backward. g (OH, OW, C) is dy; a relu or
// leaky_relu fused before the pooling (kind) is differentiated here from
// the pooled output y. Windows that do not overlap (stride >= pool) own
// their cells, so dx is written once: g where the cell is its window's
// argmax, 0 elsewhere (cells outside every window included). `ow_of[w]` is
// the window column holding input column w, or -1. Returns false if an
// argmax entry lies outside its window.
template <Activation kind>
bool max_backward_image_disjoint(float* __restrict dx, const float* __restrict g, const float* __restrict y,
                                 const int32_t* __restrict a, const int32_t* ow_of, const Pool2dShape& s,
                                 float alpha) {
  const int64_t C = s.c, W = s.w;
  int64_t full_oh = 0, full_ow = 0;
  bool ok = true;
  if (s.pool_h == 2 && s.pool_w == 2 && s.stride_h == 2 && s.stride_w == 2 && s.pad_top == 0 && s.pad_left == 0) {
    full_oh = std::min(s.oh, s.h / 2);
    full_ow = std::min(s.ow, W / 2);
    with_channels(C, [&](auto kc) {
      ok = full_windows_2x2<decltype(kc)::value, kind>(dx, g, y, a, s, full_oh, full_ow, alpha);
    });
  }
  // Every other cell pixel by pixel: right of the full windows, then below.
  int64_t matched = 0;
  for (int64_t h = 0; h < s.h; ++h)
    for (int64_t w = h < 2 * full_oh ? 2 * full_ow : 0; w < W; ++w)
      matched += disjoint_pixel<kind>(dx + (h * W + w) * C, g, y, a, ow_of, s, h, w, alpha);
  return ok && matched == (s.oh * s.ow - full_oh * full_ow) * C;
}

// dx = 0, then scatter-add of g through argmax (overlapping windows).
bool max_backward_image_scatter(float* __restrict dx, const float* __restrict g,
                                const int32_t* __restrict a, int64_t in_img, int64_t out_img) {
  std::memset(dx, 0, sizeof(float) * size_t(in_img));
  const uint32_t limit = uint32_t(in_img);
  bool ok = true;
  for (int64_t j = 0; j < out_img; ++j) {
    uint32_t idx = uint32_t(a[j]);  // negative indices wrap above the limit
    if (idx < limit)
      dx[idx] += g[j];
    else
      ok = false;
  }
  return ok;
}

bool max_backward_windows(float* dx, const float* dy, const int32_t* argmax, const float* y,
                          ActivationSpec act, const Pool2dShape& s) {
  const int64_t C = s.c, W = s.w, in_img = s.h * W * C, out_img = s.oh * s.ow * C;
  const bool disjoint = s.stride_h >= s.pool_h && s.stride_w >= s.pool_w;
  // The disjoint loops differentiate relu / leaky_relu themselves; other
  // activations (and the scatter) take a pass over g first.
  const bool inline_act = disjoint && (act.kind == Activation::kRelu || act.kind == Activation::kLeakyRelu);
  const bool pre_pass = act.kind != Activation::kNone && !inline_act;
  const ElementwiseTable& table = active_elementwise_table();
  int bad = 0;
  parallel_for(s.n, image_grain(in_img + 2 * out_img), [&](int64_t n0, int64_t n1) {
    const int64_t g_floats = pre_pass ? (out_img + 15) / 16 * 16 : 0;
    Workspace& ws = thread_scratch(kScratchMisc);
    float* g_act = ws.floats(size_t(g_floats + W));
    int32_t* ow_of = reinterpret_cast<int32_t*>(g_act + g_floats);
    for (int64_t w = 0; w < W; ++w) {
      const int64_t ow = (w + s.pad_left) / s.stride_w;
      ow_of[w] = ow < s.ow && w + s.pad_left - ow * s.stride_w < s.pool_w ? int32_t(ow) : -1;
    }
    bool ok = true;
    for (int64_t i = n0; i < n1; ++i) {
      const float* g = dy + i * out_img;
      if (pre_pass) {
        table.backward_from_output(g_act, g, y + i * out_img, out_img, act);
        g = g_act;
      }
      const int32_t* a = argmax + i * out_img;
      float* dxi = dx + i * in_img;
      if (!disjoint)
        ok &= max_backward_image_scatter(dxi, g, a, in_img, out_img);
      else if (act.kind == Activation::kRelu)
        ok &= max_backward_image_disjoint<Activation::kRelu>(dxi, g, y + i * out_img, a, ow_of, s, 0.f);
      else if (act.kind == Activation::kLeakyRelu)
        ok &= max_backward_image_disjoint<Activation::kLeakyRelu>(dxi, g, y + i * out_img, a, ow_of, s, act.alpha);
      else
        ok &= max_backward_image_disjoint<Activation::kNone>(dxi, g, nullptr, a, ow_of, s, 0.f);
    }
    if (!ok) {
#pragma omp atomic write
      bad = 1;
    }
  });
  return !bad;
}

void avg_forward(float* y, const float* x, const Pool2dShape& s) {
  const int64_t C = s.c, W = s.w, in_img = s.h * s.w * C, out_img = s.oh * s.ow * C;
  parallel_for(s.n, image_grain(in_img + out_img), [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      const float* xi = x + n * in_img;
      for (int64_t oh = 0; oh < s.oh; ++oh) {
        int64_t h0, h1;
        window(oh, s.stride_h, s.pad_top, s.pool_h, s.h, &h0, &h1);
        for (int64_t ow = 0; ow < s.ow; ++ow) {
          int64_t w0, w1;
          window(ow, s.stride_w, s.pad_left, s.pool_w, W, &w0, &w1);
          float* __restrict yo = y + n * out_img + (oh * s.ow + ow) * C;
          const float inv = 1.f / float((h1 - h0) * (w1 - w0));
          const float* __restrict x0 = xi + (h0 * W + w0) * C;
          // Whole blocks sum in a register across the window, as
          // max_forward_pixel (AVX-512 3x3 windows 2.7x faster), the tail in
          // yo; the same order of additions. Not with 4 lanes: the baseline
          // build's 2x2 windows ran 1.4x slower than with yo.
          const int64_t whole = kLanes >= 8 ? C / kLanes * kLanes : 0;
          for (int64_t c0 = 0; c0 < whole; c0 += kLanes) {
            Floats sum;
            std::memcpy(&sum, x0 + c0, sizeof sum);
            after_first_cell(h0, h1, w0, w1, W, [&](int64_t cell) {
              Floats v;
              std::memcpy(&v, xi + cell * C + c0, sizeof v);
              sum += v;
            });
            sum *= inv;
            std::memcpy(yo + c0, &sum, sizeof sum);
          }
          if (whole == C) continue;
#pragma omp simd
          for (int64_t c = whole; c < C; ++c) yo[c] = x0[c];
          after_first_cell(h0, h1, w0, w1, W, [&](int64_t cell) {
            const float* __restrict xr = xi + cell * C;
#pragma omp simd
            for (int64_t c = whole; c < C; ++c) yo[c] += xr[c];
          });
#pragma omp simd
          for (int64_t c = whole; c < C; ++c) yo[c] *= inv;
        }
      }
    }
  });
}

void avg_backward(float* dx, const float* dy, const Pool2dShape& s) {
  const int64_t C = s.c, W = s.w, in_img = s.h * s.w * C, out_img = s.oh * s.ow * C;
  parallel_for(s.n, image_grain(in_img + out_img), [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      float* dxi = dx + n * in_img;
      std::memset(dxi, 0, sizeof(float) * size_t(in_img));
      for (int64_t oh = 0; oh < s.oh; ++oh) {
        int64_t h0, h1;
        window(oh, s.stride_h, s.pad_top, s.pool_h, s.h, &h0, &h1);
        for (int64_t ow = 0; ow < s.ow; ++ow) {
          int64_t w0, w1;
          window(ow, s.stride_w, s.pad_left, s.pool_w, W, &w0, &w1);
          const float* __restrict g = dy + n * out_img + (oh * s.ow + ow) * C;
          const float inv = 1.f / float((h1 - h0) * (w1 - w0));
          for (int64_t h = h0; h < h1; ++h) {
            for (int64_t w = w0; w < w1; ++w) {
              float* __restrict d = dxi + (h * W + w) * C;
#pragma omp simd
              for (int64_t c = 0; c < C; ++c) d[c] += g[c] * inv;
            }
          }
        }
      }
    }
  });
}

}  // namespace
}  // namespace PYCNN_POOL_NS

extern const Pool2dKernels PYCNN_POOL_TABLE{PYCNN_POOL_NS::max_forward, PYCNN_POOL_NS::max_backward,
                                            PYCNN_POOL_NS::max_backward_windows,
                                            PYCNN_POOL_NS::avg_forward, PYCNN_POOL_NS::avg_backward};

}  // namespace pycnn
