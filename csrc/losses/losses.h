// losses.h — per-sample losses and the gradient of each sample's loss.
//
// Inputs are (rows, cols) row-major float32: one sample per row, classes or
// outputs along cols. loss[rows] and the gradient (rows, cols) are
// overwritten; the gradient is of each row's own loss (not divided by the
// number of rows: callers apply the reduction and sample weights). Rows are
// independent and each is summed serially in column order, so results do not
// depend on the thread count. Formulas follow keras/src/losses/losses.py and
// keras/src/backend/numpy/nn.py; each kernel states its own.
#pragma once

#include <cstdint>

namespace pycnn {

struct LossShape {
  int64_t rows = 0, cols = 0;
};

// The one validation point: cols >= 1, rows >= 0, rows·cols in range.
LossShape loss_shape(const char* op, int64_t rows, int64_t cols);

// Keras' probability clip for the cross-entropies on probabilities.
constexpr float kProbEpsilon = 1e-7f;

// softmax + cross-entropy on logits z with soft / one-hot labels t:
//   loss = sum_j t_j·(lse(z) - z_j),  dz_j = softmax(z)_j·sum(t) - t_j.
void softmax_cross_entropy(float* loss, float* dlogits, const float* logits, const float* labels,
                           const LossShape& s);
// ... with integer labels (rows,); every label is range-checked (throws
// "[softmax_cross_entropy] ...") before any output is written.
void softmax_cross_entropy_sparse(float* loss, float* dlogits, const float* logits, const int32_t* labels,
                                  const LossShape& s);

// Categorical cross-entropy on probabilities p (Keras): q = p / sum(p),
// q' = clip(q, eps, 1 - eps), loss = -sum_j t_j·log(q'_j).
void categorical_cross_entropy(float* loss, float* dprobs, const float* probs, const float* labels,
                               const LossShape& s);
void categorical_cross_entropy_sparse(float* loss, float* dprobs, const float* probs, const int32_t* labels,
                                      const LossShape& s);

// Binary cross-entropy, mean over cols. Probabilities: p' = clip(p, eps, 1-eps),
// loss = -mean(t·log p' + (1-t)·log(1-p')). Logits (stable, as
// tf.nn.sigmoid_cross_entropy_with_logits): mean(max(z,0) - z·t + log1p(exp(-|z|))).
void binary_cross_entropy(float* loss, float* dpred, const float* pred, const float* target, const LossShape& s,
                          bool from_logits);

// Mean squared error, mean over cols: loss = mean((p - t)^2), dp = 2(p - t)/cols.
void mean_squared_error(float* loss, float* dpred, const float* pred, const float* target, const LossShape& s);

}  // namespace pycnn
