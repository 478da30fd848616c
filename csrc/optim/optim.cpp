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

// Calls update(offset, gradient, length) over elements [lo, lo + n) of one
// array: the stored gradient in place, or a factored one computed into a
// buffer that stays in L1, kFactoredRows full rows at a time where rows are
// short enough (one contiguous update per block: shorter runs over more
// rows cost the update a third more time), else a row piece at a time.
template <typename Update>
void with_gradient(const OptimTable& t, const ParamSlots& a, int64_t lo, int64_t n, Update&& update) {
  const FactoredGrad& f = a.factored;
  if (!f.a) return update(lo, a.grad + lo, n);
  constexpr int64_t kChunk = 2048;
  alignas(64) float chunk[kChunk];
  const int64_t in = a.size / f.cols, end = lo + n;
  const bool row_blocks = kFactoredRows * f.cols <= kChunk;
  while (lo < end) {
    const int64_t i = lo / f.cols, j = lo % f.cols;
    if (row_blocks && j == 0 && end - lo >= kFactoredRows * f.cols) {
      t.factored_rows(chunk, f.cols, f.a + i, in, f.b, f.cols, f.rows, kFactoredRows, f.cols);
      update(lo, chunk, kFactoredRows * f.cols);
      lo += kFactoredRows * f.cols;
    } else {
      const int64_t len = std::min({end - lo, f.cols - j, kChunk});
      t.factored_rows(chunk, len, f.a + i, in, f.b + j, f.cols, f.rows, 1, len);
      update(lo, chunk, len);
      lo += len;
    }
  }
}

}  // namespace

void sgd_update(const ParamSlots* arrays, int64_t count, const SgdHyper& h) {
  const OptimTable& t = active_optim_table();
  SgdScalars s{h.learning_rate, h.momentum, h.momentum != 0.f, h.nesterov};
  for_each_piece(arrays, count, [&](const ParamSlots& a, int64_t lo, int64_t n) {
    with_gradient(t, a, lo, n, [&](int64_t i, const float* g, int64_t len) {
      t.sgd(a.param + i, g, s.use_velocity ? a.slot[0] + i : nullptr, len, s);
    });
  });
}

void rmsprop_update(const ParamSlots* arrays, int64_t count, const RmspropHyper& h) {
  const OptimTable& t = active_optim_table();
  RmspropScalars s{h.learning_rate, h.rho, float(1.0 - double(h.rho)), h.epsilon, h.momentum,
                   h.momentum > 0.f, h.centered};
  for_each_piece(arrays, count, [&](const ParamSlots& a, int64_t lo, int64_t n) {
    with_gradient(t, a, lo, n, [&](int64_t i, const float* g, int64_t len) {
      t.rmsprop(a.param + i, g, a.slot[0] + i, s.use_momentum ? a.slot[1] + i : nullptr,
                s.centered ? a.slot[2] + i : nullptr, len, s);
    });
  });
}

void adam_update(const ParamSlots* arrays, int64_t count, const AdamHyper& h) {
  const OptimTable& t = active_optim_table();
  double step = double(h.step);
  double alpha = double(h.learning_rate) * std::sqrt(1.0 - std::pow(double(h.beta_2), step)) /
                 (1.0 - std::pow(double(h.beta_1), step));
  AdamScalars s{float(alpha), float(1.0 - double(h.beta_1)), float(1.0 - double(h.beta_2)), h.epsilon,
                float(double(h.weight_decay) * double(h.learning_rate)), h.amsgrad};
  for_each_piece(arrays, count, [&](const ParamSlots& a, int64_t lo, int64_t n) {
    with_gradient(t, a, lo, n, [&](int64_t i, const float* g, int64_t len) {
      t.adam(a.param + i, g, a.slot[0] + i, a.slot[1] + i, s.amsgrad ? a.slot[2] + i : nullptr, len, s);
    });
  });
}

}  // namespace pycnn
