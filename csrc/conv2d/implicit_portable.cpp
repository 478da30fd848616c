// implicit_portable.cpp — the implicit-GEMM register tiles (implicit_tiles_impl.h)
// on 4-float vectors (SSE2 on x86-64, NEON on Arm): blocks of one 16-channel
// vector (four registers) and up to 3 rows, 12 accumulators, which with the
// B row and the broadcast fill SSE2's 16 registers.
#include "conv2d/implicit.h"

#include "conv2d/implicit_tiles_impl.h"

namespace pycnn {
namespace {

void forward(int mr, int nv, float* c, int64_t ldc, const float* a, int64_t lda, const int64_t* seg,
             const int64_t* seglen, int nseg, const float* w, int64_t ldw, bool accumulate, bool last,
             const float* bias, int act, float alpha) {
  tiles_of_rows<PortableVec, 4>(mr, std::make_integer_sequence<int, 3>())
      .first(c, ldc, a, lda, seg, seglen, nseg, w, ldw, accumulate, last, bias, act, alpha);
}

void weight(int mr, int nv, float* dw, int64_t ldw, const float* x, int64_t xrow, int64_t xcol, const float* dy,
            int64_t dyrow, int64_t K, int64_t rows, int64_t cols, bool accumulate) {
  tiles_of_rows<PortableVec, 4>(mr, std::make_integer_sequence<int, 3>())
      .second(dw, ldw, x, xrow, xcol, dy, dyrow, K, rows, cols, accumulate);
}

}  // namespace

const ImplicitTiles& implicit_tiles_portable() {
  static const ImplicitTiles tiles{1, {3}, &forward, &weight};
  return tiles;
}

}  // namespace pycnn
