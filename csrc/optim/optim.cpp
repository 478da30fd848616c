// optim.cpp — the driver: hyper-parameters to per-element scalars, the
// arrays laid end to end in one index space, one parallel region over it.
#include "optim/optim.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/cpu_features.h"
#include "common/parallel.h"
#include "optim/optim_table.h"

namespace pycnn {
namespace {

const OptimTable& active_optim_table() {
  switch (active_isa()) {
    case Isa::kAvx512: return optim_table_avx512();
    case Isa::kAvx2: return optim_table_avx2();
    case Isa::kPortable: break;
  }
  return optim_table_portable();
}

// Calls body(array, begin, length) for every piece of every array, with the
// concatenated index space split over the threads in 16-element blocks.
template <typename Body>
void for_each_piece(const ParamSlots* arrays, int64_t count, Body&& body) {
  constexpr int64_t kBlock = 16;
  std::vector<int64_t> start(size_t(count) + 1, 0);  // first block of each array
  for (int64_t a = 0; a < count; ++a) start[a + 1] = start[a] + (arrays[a].size + kBlock - 1) / kBlock;
  parallel_for(start[count], kSerialElementwise / kBlock, [&](int64_t b, int64_t e) {
    int64_t a = std::upper_bound(start.begin(), start.end(), b) - start.begin() - 1;
    for (; a < count && start[a] < e; ++a) {
      int64_t lo = (std::max(b, start[a]) - start[a]) * kBlock;
      int64_t hi = std::min(arrays[a].size, (std::min(e, start[a + 1]) - start[a]) * kBlock);
      if (lo < hi) body(arrays[a], lo, hi - lo);
    }
  });
}

}  // namespace

void sgd_update(const ParamSlots* arrays, int64_t count, const SgdHyper& h) {
  const OptimTable& t = active_optim_table();
  SgdScalars s{h.learning_rate, h.momentum, h.momentum != 0.f, h.nesterov};
  for_each_piece(arrays, count, [&](const ParamSlots& a, int64_t i, int64_t n) {
    t.sgd(a.param + i, a.grad + i, s.use_velocity ? a.slot[0] + i : nullptr, n, s);
  });
}

void rmsprop_update(const ParamSlots* arrays, int64_t count, const RmspropHyper& h) {
  const OptimTable& t = active_optim_table();
  RmspropScalars s{h.learning_rate, h.rho, float(1.0 - double(h.rho)), h.epsilon, h.momentum,
                   h.momentum > 0.f, h.centered};
  for_each_piece(arrays, count, [&](const ParamSlots& a, int64_t i, int64_t n) {
    t.rmsprop(a.param + i, a.grad + i, a.slot[0] + i, s.use_momentum ? a.slot[1] + i : nullptr,
              s.centered ? a.slot[2] + i : nullptr, n, s);
  });
}

void adam_update(const ParamSlots* arrays, int64_t count, const AdamHyper& h) {
  const OptimTable& t = active_optim_table();
  double step = double(h.step);
  double alpha = double(h.learning_rate) * std::sqrt(1.0 - std::pow(double(h.beta_2), step)) /
                 (1.0 - std::pow(double(h.beta_1), step));
  AdamScalars s{float(alpha), float(1.0 - double(h.beta_1)), float(1.0 - double(h.beta_2)), h.epsilon,
                float(double(h.weight_decay) * double(h.learning_rate)), h.amsgrad};
  for_each_piece(arrays, count, [&](const ParamSlots& a, int64_t i, int64_t n) {
    t.adam(a.param + i, a.grad + i, a.slot[0] + i, a.slot[1] + i, s.amsgrad ? a.slot[2] + i : nullptr, n, s);
  });
}

}  // namespace pycnn
