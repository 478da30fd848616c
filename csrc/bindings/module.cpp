// module.cpp — the pycnn._core extension: one bind_* call per kernel family.
#include "bindings/bindings.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace {

// A training step allocates and frees the same activation-sized arrays
// (up to tens of MiB) every step. glibc's defaults return such blocks to
// the kernel (mmap above a threshold, heap trimming above 128 KiB free),
// so every step faults each page in again: ~1,300 faults, 2-5 ms of an
// MNIST step. Serve blocks up to 32 MiB from the heap and keep up to
// 256 MiB of free heap for reuse.
void keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "pycnn's compiled kernels; use pycnn.ops, which validates and documents them.";
  keep_freed_memory_for_reuse();
  pycnn::bind_runtime(m);
  pycnn::bind_gemm(m);
  pycnn::bind_conv2d(m);
  pycnn::bind_dense(m);
  pycnn::bind_pool2d(m);
  pycnn::bind_batchnorm(m);
  pycnn::bind_activations(m);
  pycnn::bind_losses(m);
  pycnn::bind_dropout(m);
  pycnn::bind_optim(m);
  pycnn::bind_fast_op(m);
}
