// dropout_kernels_avx512.cpp — the dropout loop built for AVX512 (see dropout_impl.h).
#if defined(PYCNN_X86)
#define PYCNN_DROPOUT_NS avx512
#define PYCNN_DROPOUT_KERNEL dropout_kernel_avx512
#include "dropout/dropout_impl.h"
#endif
