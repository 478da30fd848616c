// implicit_avx512.cpp — the implicit-GEMM register tiles (implicit_tiles_impl.h)
// on zmm registers: blocks of up to 4 vectors (64 channels), MR*NV <= 24
// accumulators (16 rows for one vector). Called only when active_isa() is kAvx512.
#include "conv2d/implicit.h"

#if defined(PYCNN_X86)
#include "conv2d/implicit_tiles_impl.h"

namespace pycnn {
namespace {

std::pair<ForwardTile, WeightTile> pick(int mr, int nv) {
  switch (nv) {
    case 1: return tiles_of_rows<Avx512Vec, 1>(mr, std::make_integer_sequence<int, 16>());
    case 2: return tiles_of_rows<Avx512Vec, 2>(mr, std::make_integer_sequence<int, 12>());
    case 3: return tiles_of_rows<Avx512Vec, 3>(mr, std::make_integer_sequence<int, 8>());
    default: return tiles_of_rows<Avx512Vec, 4>(mr, std::make_integer_sequence<int, 6>());
  }
}

}  // namespace

const ImplicitTiles& implicit_tiles_avx512() {
  static const ImplicitTiles tiles{4, {16, 12, 8, 6}, &forward_of<pick>, &weight_of<pick>};
  return tiles;
}

}  // namespace pycnn
#endif
