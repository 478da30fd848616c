// winograd_avx2.cpp — the tile transforms of the Winograd schemes
// (winograd_tiles_impl.h), 8 channels per ymm register. Called only when active_isa() is kAvx2.
#include "conv2d/winograd.h"

#if defined(PYCNN_X86)
#include "conv2d/winograd_tiles_impl.h"

namespace pycnn {

const WinogradTiles& winograd_tiles_avx2() {
  static const WinogradTiles tiles = winograd_tiles_of<Avx2Vec>();
  return tiles;
}

}  // namespace pycnn
#endif
