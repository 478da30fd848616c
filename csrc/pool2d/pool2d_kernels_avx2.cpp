// pool2d_kernels_avx2.cpp — the pooling loops built for AVX2 (see pool2d_impl.h).
#if defined(PYCNN_X86)
#define PYCNN_POOL_NS avx2
#define PYCNN_POOL_TABLE pool2d_kernels_avx2
#include "pool2d/pool2d_impl.h"
#endif
