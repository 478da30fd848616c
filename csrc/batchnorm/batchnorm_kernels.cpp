// batchnorm_kernels.cpp — the batch-norm loops for any CPU (baseline instruction set).
#define PYCNN_BN_NS portable
#define PYCNN_BN_TABLE batchnorm_kernels_portable
#define PYCNN_BN_VEC PortableVec
#include "batchnorm/batchnorm_impl.h"
