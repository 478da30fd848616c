// implicit_avx2.cpp — the implicit-GEMM register tiles (implicit_tiles_impl.h)
// on ymm registers: a 16-channel vector is two ymm, blocks of up to 2 vectors
// (32 channels), 12 accumulators (6 rows x 2 ymm or 3 x 4), which with the B
// row and the broadcast fill the 16 ymm. Called only when active_isa() is kAvx2.
#include "conv2d/implicit.h"

#if defined(PYCNN_X86)
#include "conv2d/implicit_tiles_impl.h"

namespace pycnn {
namespace {

std::pair<ForwardTile, WeightTile> pick(int mr, int nv) {
  if (nv == 1) return tiles_of_rows<Avx2Vec, 2>(mr, std::make_integer_sequence<int, 6>());
  return tiles_of_rows<Avx2Vec, 4>(mr, std::make_integer_sequence<int, 3>());
}

void forward(int mr, int nv, float* c, int64_t ldc, const float* a, int64_t lda, const int64_t* seg,
             const int64_t* seglen, int nseg, const float* w, int64_t ldw, bool accumulate, bool last,
             const float* bias, int act, float alpha) {
  pick(mr, nv).first(c, ldc, a, lda, seg, seglen, nseg, w, ldw, accumulate, last, bias, act, alpha);
}

void weight(int mr, int nv, float* dw, int64_t ldw, const float* x, int64_t xrow, int64_t xcol, const float* dy,
            int64_t dyrow, int64_t K, int64_t rows, int64_t cols, bool accumulate) {
  pick(mr, nv).second(dw, ldw, x, xrow, xcol, dy, dyrow, K, rows, cols, accumulate);
}

}  // namespace

const ImplicitTiles& implicit_tiles_avx2() {
  static const ImplicitTiles tiles{2, {6, 3}, &forward, &weight};
  return tiles;
}

}  // namespace pycnn
#endif
