// optim.h — fused, in-place optimizer updates over many parameter arrays.
//
// One call updates every array of a model: the arrays are laid end to end in
// one index space that is split over the OpenMP pool in a single parallel
// region (small arrays do not each pay for a fork), and each element's
// update is computed the same way for any split, so results are bitwise
// identical for any thread count. The per-element kernels (optim_impl.h) are
// compiled per ISA and chosen with active_isa(). Formulas are Keras 3's
// (keras/src/optimizers/{sgd,rmsprop,adam}.py, base_optimizer.py for the
// decoupled weight decay); each is written above its kernel in optim_impl.h.
#pragma once

#include <cstdint>

namespace pycnn {

// A dense kernel's gradient kept as the product of its factors,
// G[i, j] = sum_r a[r, i] · b[r, j] (a: rows x in, the layer input; b:
// rows x cols, the output gradient). The update computes G a chunk at a time
// in L1 instead of reading an in x cols matrix that the backward pass wrote:
// a 10752 x 512 kernel at batch 16 saves writing and reading 22 MB per step.
struct FactoredGrad {
  const float* a = nullptr;
  const float* b = nullptr;
  int64_t rows = 0, cols = 0;
};

// One parameter array, its gradient (stored, or factored when factored.a is
// set; then size == in * cols) and up to three state slots of the same size
// (which slots depends on the optimizer; unused ones are nullptr).
struct ParamSlots {
  float* param = nullptr;
  const float* grad = nullptr;
  FactoredGrad factored;
  float* slot[3] = {nullptr, nullptr, nullptr};
  int64_t size = 0;
};

struct SgdHyper {
  float learning_rate = 0.01f, momentum = 0.f;
  bool nesterov = false;
};
struct RmspropHyper {
  float learning_rate = 0.001f, rho = 0.9f, epsilon = 1e-7f, momentum = 0.f;
  bool centered = false;
};
struct AdamHyper {
  float learning_rate = 0.001f, beta_1 = 0.9f, beta_2 = 0.999f, epsilon = 1e-7f, weight_decay = 0.f;
  int64_t step = 1;  // 1-based iteration
  bool amsgrad = false;
};

// slot[0] = velocity (momentum != 0).
void sgd_update(const ParamSlots* arrays, int64_t count, const SgdHyper& h);
// slot[0] = velocity, slot[1] = momentum (momentum > 0), slot[2] = average gradient (centered).
void rmsprop_update(const ParamSlots* arrays, int64_t count, const RmspropHyper& h);
// slot[0] = m, slot[1] = v, slot[2] = v_hat (amsgrad).
void adam_update(const ParamSlots* arrays, int64_t count, const AdamHyper& h);

}  // namespace pycnn
