// mse.cpp — mean squared error over the last axis (keras.losses.mean_squared_error):
//   loss = mean_j (p_j - t_j)^2,   dp_j = 2 (p_j - t_j) / cols.
#include "losses/loss_rows.h"

namespace pycnn {

void mean_squared_error(float* loss, float* dpred, const float* pred, const float* target, const LossShape& s) {
  const int64_t C = s.cols;
  const float grad_scale = float(2.0 / double(C));
  for_each_row(s, [&](int64_t r) {
    const float* p = pred + r * C;
    const float* t = target + r * C;
    float* g = dpred + r * C;
    double acc = 0;
    for (int64_t j = 0; j < C; ++j) {
      float d = p[j] - t[j];
      acc += double(d) * d;
      g[j] = d * grad_scale;
    }
    loss[r] = float(acc / double(C));
  });
}

}  // namespace pycnn
