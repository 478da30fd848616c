// activations.cpp — dispatch (active_isa) and thread split for the
// element-wise activations and the row softmax. Elements and rows are
// independent, so any split gives bitwise-identical results.
#include "activations/activations.h"

#include <algorithm>

#include "activations/kernel_table.h"
#include "common/cpu_features.h"
#include "common/parallel.h"

namespace pycnn {

const ElementwiseTable& active_elementwise_table() {
  switch (active_isa()) {
    case Isa::kAvx512: return elementwise_table_avx512();
    case Isa::kAvx2: return elementwise_table_avx2();
    case Isa::kPortable: break;
  }
  return elementwise_table_portable();
}

namespace {
// Ranges handed to threads start on a 64-byte multiple (16 floats) so
// vector loads stay aligned whenever the arrays are.
constexpr int64_t kAlign = 16;

template <typename Body>
void split_elements(int64_t n, Body&& body) {
  int64_t blocks = (n + kAlign - 1) / kAlign;
  parallel_for(blocks, kSerialElementwise / kAlign, [&](int64_t b, int64_t e) {
    int64_t begin = b * kAlign, end = std::min(n, e * kAlign);
    body(begin, end - begin);
  });
}

int64_t row_grain(int64_t cols) { return std::max<int64_t>(1, kSerialElementwise / std::max<int64_t>(cols, 1)); }
}  // namespace

void activation_forward(float* y, const float* x, int64_t n, const ActivationSpec& a) {
  const ElementwiseTable& t = active_elementwise_table();
  split_elements(n, [&](int64_t b, int64_t len) { t.forward(y + b, x + b, len, a); });
}

void activation_backward_from_output(float* dx, const float* dy, const float* y, int64_t n,
                                     const ActivationSpec& a) {
  const ElementwiseTable& t = active_elementwise_table();
  split_elements(n, [&](int64_t b, int64_t len) { t.backward_from_output(dx + b, dy + b, y + b, len, a); });
}

void activation_backward_from_input(float* dx, const float* dy, const float* x, int64_t n,
                                    const ActivationSpec& a) {
  const ElementwiseTable& t = active_elementwise_table();
  split_elements(n, [&](int64_t b, int64_t len) { t.backward_from_input(dx + b, dy + b, x + b, len, a); });
}

bool activation_backward_needs_input(const ActivationSpec& a) {
  return (a.kind == Activation::kLeakyRelu || a.kind == Activation::kElu) && !(a.alpha > 0.f);
}

void softmax_forward(float* y, const float* x, int64_t rows, int64_t cols) {
  if (cols <= 0) return;
  const ElementwiseTable& t = active_elementwise_table();
  parallel_for(rows, row_grain(cols), [&](int64_t b, int64_t e) {
    t.softmax_rows(y + b * cols, x + b * cols, e - b, cols);
  });
}

void softmax_backward(float* dx, const float* dy, const float* y, int64_t rows, int64_t cols) {
  if (cols <= 0) return;
  const ElementwiseTable& t = active_elementwise_table();
  parallel_for(rows, row_grain(cols), [&](int64_t b, int64_t e) {
    t.softmax_backward_rows(dx + b * cols, dy + b * cols, y + b * cols, e - b, cols);
  });
}

void exp_forward(float* y, const float* x, int64_t n) {
  const ElementwiseTable& t = active_elementwise_table();
  split_elements(n, [&](int64_t b, int64_t len) { t.exp(y + b, x + b, len); });
}

float row_max(const float* x, int64_t n) { return active_elementwise_table().max(x, n); }

float exp_shifted_sum(float* y, const float* x, float shift, int64_t n) {
  return active_elementwise_table().exp_shifted_sum(y, x, shift, n);
}

}  // namespace pycnn
