// conv2d.cpp — conv2d passes as GEMMs over the whole batch.
//
// With M = N*OH*OW output pixels and P = KH*KW*C/G patch entries per group:
//   forward          y[M, K/G]     = cols[M, P] · weight_g[P, K/G]  (+ bias, act in the epilogue)
//   backward_input   dcols[M, P]   = dy_g[M, K/G] · weight_g^T, then col2im into dx
//   backward_weight  dweight_g[P, K/G] = cols^T[P, M] · dy_g[M, K/G]
// The Keras weight (KH, KW, C/G, K) already is the row-major [P, K] matrix;
// group g is the column block g*K/G with leading dimension K. cols is built
// chunk by chunk (im2col.cpp) in per-thread scratch sized to stay in L2; each
// chunk's GEMM runs on its own thread (the GEMM is serial inside a parallel
// region). 1x1 stride-1 unpadded convolutions use x itself as cols.
#include "conv2d/conv2d.h"

#include <algorithm>
#include <cstring>

#include "common/cpu_features.h"
#include "common/parallel.h"
#include "common/workspace.h"
#include "conv2d/direct.h"
#include "conv2d/im2col.h"
#include "conv2d/implicit.h"
#include "conv2d/strided.h"
#include "conv2d/winograd.h"
#include "dense/dense.h"
#include "gemm/gemm.h"

namespace pycnn {
namespace {

constexpr int64_t kColsTarget = int64_t(1) << 16;  // floats of cols per chunk (256 KiB)

// Rows of cols per chunk: about kColsTarget floats, a multiple of 16, and at
// least 8 chunks when the problem allows. A function of the shape only.
int64_t chunk_rows(const Conv2dShape& s) {
  int64_t rows = std::clamp<int64_t>(kColsTarget / s.patch(), 64, 8192);
  rows = std::min(rows, std::max<int64_t>(64, (s.rows() + 7) / 8));
  return (rows + 15) / 16 * 16;
}

GemmEpilogue epilogue(const float* bias, int64_t g, const Conv2dShape& s, const ActivationSpec& act) {
  GemmEpilogue ep;
  ep.bias = bias ? bias + g * s.kg : nullptr;
  ep.activation = act;
  return ep;
}

}  // namespace

void conv2d_forward(float* y, const float* x, const float* weight, const float* bias,
                    const Conv2dShape& s, const ActivationSpec& act) {
  const int64_t M = s.rows(), P = s.patch(), K = s.k;
  if (M == 0) return;
  if (s.direct()) return direct_forward(y, x, weight, bias, s, act);
  if (winograd_forward_applies(s)) return winograd_forward(y, x, weight, bias, s, act);
  if (strided_forward_applies(s)) return strided_forward(y, x, weight, bias, s, act);
  if (implicit_forward_applies(s)) return implicit_forward(y, x, weight, bias, implicit_forward_geometry(s), act);
  if (s.pointwise()) {
    // y[M, K/G] = x_g[M, C/G] · weight_g[C/G, K/G]
    for (int64_t g = 0; g < s.groups; ++g)
      sgemm(false, false, M, s.kg, s.cg, 1.f, x + g * s.cg, s.c, weight + g * s.kg, K, 0.f,
            y + g * s.kg, K, epilogue(bias, g, s, act));
    return;
  }
  FixedChunks chunks = fixed_chunks(M, chunk_rows(s));
  parallel_for_chunks(chunks.count, [&](int64_t i) {
    const int64_t r0 = chunks.begin(i), rows = chunks.end(i) - r0;
    float* cols = thread_scratch(kScratchIm2col).floats(size_t(rows * P));
    for (int64_t g = 0; g < s.groups; ++g) {
      im2col(cols, P, x, s, r0, rows, g * s.cg);
      // y[rows, K/G] = cols[rows, P] · weight_g[P, K/G]
      sgemm(false, false, rows, s.kg, P, 1.f, cols, P, weight + g * s.kg, K, 0.f,
            y + r0 * K + g * s.kg, K, epilogue(bias, g, s, act));
    }
  });
}

void conv2d_backward_input(float* dx, const float* dy, const float* weight, const Conv2dShape& s) {
  const int64_t M = s.rows(), P = s.patch(), K = s.k;
  if (M == 0) return;
  if (s.direct_input()) return direct_backward_input(dx, dy, weight, s);
  // First layers (C/G <= 4, 3-wide): dcols would be a thin GEMM plus a
  // scatter of KH*KW*C/G floats per pixel; the direct row kernel is cheaper.
  if (s.direct() && direct_input_applies(s)) {
    auto input_row = direct_input_row_portable;
#if defined(PYCNN_X86)
    if (active_isa() == Isa::kAvx512) input_row = direct_input_row_avx512;
    if (active_isa() == Isa::kAvx2) input_row = direct_input_row_avx2;
#endif
    const int64_t row = s.w * s.c;
    parallel_for(s.n * s.h, 4, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) input_row(dx + r * row, dy, weight, s, r / s.h, r % s.h);
    });
    return;
  }
  if (winograd_input_applies(s)) return winograd_backward_input(dx, dy, weight, s);
  if (implicit_input_applies(s)) return implicit_backward_input(dx, dy, weight, s);
  if (strided_input_applies(s)) return strided_backward_input(dx, dy, weight, s);
  if (s.pointwise()) {
    // dx_g[M, C/G] = dy_g[M, K/G] · weight_g^T[K/G, C/G]
    for (int64_t g = 0; g < s.groups; ++g)
      sgemm(false, true, M, s.cg, s.kg, 1.f, dy + g * s.kg, K, weight + g * s.kg, K, 0.f,
            dx + g * s.cg, s.c);
    return;
  }
  // weight^T [K, P] once per call, so the chunk GEMMs read B as stored
  // instead of packing a transposed B every chunk.
  float* wt = thread_scratch(kScratchPartial).floats(size_t(P * K));
  for (int64_t p = 0; p < P; ++p)
    for (int64_t k = 0; k < K; ++k) wt[k * P + p] = weight[p * K + k];
  // Units of whole images, so each dx element is written by one thread only.
  const int64_t per_image = s.oh * s.ow, target = chunk_rows(s);
  const int64_t images = std::max<int64_t>(1, target / per_image);
  const int64_t units = (s.n + images - 1) / images, image_size = s.h * s.w * s.c;
  parallel_for_chunks(units, [&](int64_t u) {
    const int64_t n0 = u * images, n1 = std::min(s.n, n0 + images);
    std::memset(dx + n0 * image_size, 0, sizeof(float) * (n1 - n0) * image_size);
    const int64_t r_end = n1 * per_image;
    for (int64_t r0 = n0 * per_image; r0 < r_end; r0 += target) {
      const int64_t rows = std::min(target, r_end - r0);
      float* dcols = thread_scratch(kScratchIm2col).floats(size_t(rows * P));
      for (int64_t g = 0; g < s.groups; ++g) {
        // dcols[rows, P] = dy_g[rows, K/G] · weight_g^T[K/G, P]
        sgemm(false, false, rows, P, s.kg, 1.f, dy + r0 * K + g * s.kg, K, wt + g * s.kg * P, P, 0.f,
              dcols, P);
        col2im_add(dx, dcols, P, s, r0, rows, g * s.cg);
      }
    }
  });
}

void conv2d_backward_weight(float* dweight, float* dbias, const float* dy, const float* x,
                            const Conv2dShape& s) {
  const int64_t M = s.rows(), P = s.patch(), K = s.k, wsize = P * K;
  if (dbias) column_sums(dbias, dy, M, K);
  if (M == 0) {
    std::memset(dweight, 0, sizeof(float) * wsize);
    return;
  }
  if (s.direct()) return direct_backward_weight(dweight, dy, x, s);
  if (winograd_weight_applies(s)) return winograd_backward_weight(dweight, dy, x, s);
  if (implicit_weight_applies(s)) return implicit_backward_weight(dweight, dy, x, implicit_forward_geometry(s));
  // Fixed row chunks (at most 64, about 4x the im2col piece so the GEMMs get
  // a long k and few partials), one partial dweight each, added in order.
  int64_t rows_per = std::max(4 * chunk_rows(s), (M + 63) / 64);
  FixedChunks chunks = fixed_chunks(M, rows_per);
  float* partial = chunks.count > 1 ? thread_scratch(kScratchPartial).floats(size_t((chunks.count - 1) * wsize))
                                    : nullptr;
  parallel_for_chunks(chunks.count, [&](int64_t i) {
    const int64_t r0 = chunks.begin(i), rows = chunks.end(i) - r0;
    float* out = i == 0 ? dweight : partial + (i - 1) * wsize;
    float* cols = s.pointwise() ? nullptr : thread_scratch(kScratchIm2col).floats(size_t(rows * P));
    for (int64_t g = 0; g < s.groups; ++g) {
      const float* a = x + r0 * s.c + g * s.cg;
      int64_t lda = s.c;
      if (cols) {
        im2col(cols, P, x, s, r0, rows, g * s.cg);
        a = cols, lda = P;
      }
      // dweight_g[P, K/G] = cols^T[P, rows] · dy_g[rows, K/G]
      sgemm(true, false, P, s.kg, rows, 1.f, a, lda, dy + r0 * K + g * s.kg, K, 0.f, out + g * s.kg, K);
    }
  });
  add_partials(dweight, partial, chunks.count - 1, wsize);
}

}  // namespace pycnn
