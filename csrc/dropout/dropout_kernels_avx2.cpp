// dropout_kernels_avx2.cpp — the dropout loop built for AVX2 (see dropout_impl.h).
#if defined(PYCNN_X86)
#define PYCNN_DROPOUT_NS avx2
#define PYCNN_DROPOUT_KERNEL dropout_kernel_avx2
#include "dropout/dropout_impl.h"
#endif
