// batchnorm_kernels_avx2.cpp — the batch-norm loops built for AVX2 (see batchnorm_impl.h).
#if defined(PYCNN_X86)
#define PYCNN_BN_NS avx2
#define PYCNN_BN_TABLE batchnorm_kernels_avx2
#define PYCNN_BN_VEC Avx2Vec
#include "batchnorm/batchnorm_impl.h"
#endif
