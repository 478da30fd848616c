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

// One parameter array, its gradient and up to three state slots of the same
// size (which slots depends on the optimizer; unused ones are nullptr).
struct ParamSlots {
  float* param = nullptr;
  const float* grad = nullptr;
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
