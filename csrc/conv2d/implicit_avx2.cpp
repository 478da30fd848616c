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

}  // namespace

const ImplicitTiles& implicit_tiles_avx2() {
  static const ImplicitTiles tiles{2, {6, 3}, &forward_of<pick>, &weight_of<pick>};
  return tiles;
}

}  // namespace pycnn
#endif
