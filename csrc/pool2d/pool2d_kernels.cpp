// pool2d_kernels.cpp — the pooling loops for any CPU (baseline instruction set).
#define PYCNN_POOL_NS portable
#define PYCNN_POOL_TABLE pool2d_kernels_portable
#include "pool2d/pool2d_impl.h"
