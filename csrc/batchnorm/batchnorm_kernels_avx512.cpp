// batchnorm_kernels_avx512.cpp — the batch-norm loops built for AVX512 (see batchnorm_impl.h).
#if defined(PYCNN_X86)
#define PYCNN_BN_NS avx512
#define PYCNN_BN_TABLE batchnorm_kernels_avx512
#define PYCNN_BN_VEC Avx512Vec
#include "batchnorm/batchnorm_impl.h"
#endif
