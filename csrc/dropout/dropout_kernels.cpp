// dropout_kernels.cpp — the dropout loop for any CPU (baseline instruction set).
#define PYCNN_DROPOUT_NS portable
#define PYCNN_DROPOUT_KERNEL dropout_kernel_portable
#include "dropout/dropout_impl.h"
