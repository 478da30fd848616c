// pool2d_kernels_avx512.cpp — the pooling loops built for AVX512 (see pool2d_impl.h).
#if defined(PYCNN_X86)
#define PYCNN_POOL_NS avx512
#define PYCNN_POOL_TABLE pool2d_kernels_avx512
#include "pool2d/pool2d_impl.h"
#endif
