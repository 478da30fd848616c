// module.cpp — the pycnn._core extension: one bind_* call per kernel family.
#include "bindings/bindings.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "pycnn's compiled kernels; use pycnn.ops, which validates and documents them.";
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
}
