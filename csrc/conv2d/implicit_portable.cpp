// implicit_portable.cpp — the implicit-GEMM register tiles (implicit_tiles_impl.h)
// on 4-float vectors (SSE2 on x86-64, NEON on Arm): blocks of one 16-channel
// vector (four registers) and up to 3 rows, 12 accumulators, which with the
// B row and the broadcast fill SSE2's 16 registers.
#include "conv2d/implicit.h"

#include "conv2d/implicit_tiles_impl.h"

namespace pycnn {
namespace {

std::pair<ForwardTile, WeightTile> pick(int mr, int) {
  return tiles_of_rows<PortableVec, 4>(mr, std::make_integer_sequence<int, 3>());
}

}  // namespace

const ImplicitTiles& implicit_tiles_portable() {
  static const ImplicitTiles tiles{1, {3}, &forward_of<pick>, &weight_of<pick>};
  return tiles;
}

}  // namespace pycnn
