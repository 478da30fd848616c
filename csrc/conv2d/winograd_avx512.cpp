// winograd_avx512.cpp — the tile transforms of the Winograd schemes
// (winograd_tiles_impl.h), 16 channels per zmm register. Called only when active_isa() is kAvx512.
#include "conv2d/winograd.h"

#if defined(PYCNN_X86)
#include "conv2d/winograd_tiles_impl.h"

namespace pycnn {

const WinogradTiles& winograd_tiles_avx512() {
  static const WinogradTiles tiles = winograd_tiles_of<Avx512Vec>();
  return tiles;
}

}  // namespace pycnn
#endif
