// winograd_portable.cpp — the tile transforms of the Winograd schemes
// (winograd_tiles_impl.h) on 4-float vectors (SSE2 on x86-64, NEON on Arm).
#include "conv2d/winograd.h"

#include "conv2d/winograd_tiles_impl.h"

namespace pycnn {

const WinogradTiles& winograd_tiles_portable() {
  static const WinogradTiles tiles = winograd_tiles_of<PortableVec>();
  return tiles;
}

}  // namespace pycnn
