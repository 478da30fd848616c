// bench_activations.cpp — activation, softmax and softmax-cross-entropy
// kernels on the face network's largest activation (conv1 output,
// N16 112x92x16) and typical classifier heads. Bytes are the minimum moved:
// forward reads x and writes y, backward reads dy and y and writes dx.
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "activations/activations.h"
#include "bench.h"
#include "losses/losses.h"

namespace {

using pycnn::Activation;
using pycnn::ActivationSpec;

std::shared_ptr<std::vector<float>> random_buffer(int64_t n, float scale, unsigned seed) {
  auto v = std::make_shared<std::vector<float>>(size_t(n));
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.f, scale);
  for (float& x : *v) x = dist(gen);
  return v;
}

double reference(Activation kind, double x, double alpha) {
  switch (kind) {
    case Activation::kRelu: return x > 0 ? x : 0;
    case Activation::kLeakyRelu: return x > 0 ? x : alpha * x;
    case Activation::kElu: return x >= 0 ? x : alpha * std::expm1(x);
    case Activation::kSigmoid: return 1 / (1 + std::exp(-x));
    case Activation::kTanh: return std::tanh(x);
    case Activation::kNone: break;
  }
  return x;
}

bool register_elementwise() {
  const int64_t n = int64_t(16) * 112 * 92 * 16;
  const std::string shape = "N16 112x92x16";
  auto x = random_buffer(n, 3.f, 1), dy = random_buffer(n, 1.f, 2);
  auto y = std::make_shared<std::vector<float>>(size_t(n)), dx = std::make_shared<std::vector<float>>(size_t(n));
  const std::pair<const char*, ActivationSpec> acts[] = {{"relu", {Activation::kRelu, 0.f}},
                                                         {"leaky_relu", {Activation::kLeakyRelu, 0.2f}},
                                                         {"elu", {Activation::kElu, 1.f}},
                                                         {"sigmoid", {Activation::kSigmoid, 0.f}},
                                                         {"tanh", {Activation::kTanh, 0.f}}};
  for (const auto& [name, spec] : acts) {
    ActivationSpec a = spec;
    auto verify = [=] {
      pycnn::activation_forward(y->data(), x->data(), n, a);
      for (int64_t i = 0; i < n; i += 997) {
        double want = reference(a.kind, (*x)[i], a.alpha);
        if (std::fabs((*y)[i] - want) > 1e-6 * (1 + std::fabs(want))) return false;
      }
      return true;
    };
    pycnn::bench::add({"activations", std::string(name) + " fwd " + shape, 0, 8.0 * n,
                       [=] { pycnn::activation_forward(y->data(), x->data(), n, a); }, verify});
    pycnn::bench::add({"activations", std::string(name) + " bwd(y) " + shape, 0, 12.0 * n,
                       [=] { pycnn::activation_backward_from_output(dx->data(), dy->data(), y->data(), n, a); },
                       verify});
  }
  return true;
}

bool register_softmax() {
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{64, 10}, {16, 2}, {256, 1000}}) {
    const int64_t n = rows * cols;
    auto z = random_buffer(n, 3.f, 3);
    auto y = std::make_shared<std::vector<float>>(size_t(n)), g = std::make_shared<std::vector<float>>(size_t(n));
    auto loss = std::make_shared<std::vector<float>>(size_t(rows));
    auto labels = std::make_shared<std::vector<int32_t>>(size_t(rows));
    for (int64_t r = 0; r < rows; ++r) (*labels)[r] = int32_t((r * 7) % cols);
    const std::string shape = std::to_string(rows) + "x" + std::to_string(cols);
    pycnn::LossShape s{rows, cols};
    auto verify = [=] {
      pycnn::softmax_cross_entropy_sparse(loss->data(), g->data(), z->data(), labels->data(), s);
      for (int64_t r = 0; r < rows; ++r) {
        const float* zr = z->data() + r * cols;
        double m = zr[0], sum = 0;
        for (int64_t j = 0; j < cols; ++j) m = std::max<double>(m, zr[j]);
        for (int64_t j = 0; j < cols; ++j) sum += std::exp(zr[j] - m);
        double want = std::log(sum) + m - zr[(*labels)[r]];
        if (std::fabs((*loss)[r] - want) > 1e-5 * (1 + want)) return false;
      }
      return true;
    };
    pycnn::bench::add({"activations", "softmax fwd " + shape, 0, 8.0 * n,
                       [=] { pycnn::softmax_forward(y->data(), z->data(), rows, cols); }, verify});
    pycnn::bench::add({"losses", "softmax_xent sparse " + shape, 0, 8.0 * n + 8.0 * rows,
                       [=] { pycnn::softmax_cross_entropy_sparse(loss->data(), g->data(), z->data(), labels->data(), s); },
                       verify});
  }
  return true;
}

const bool registered = register_elementwise() && register_softmax();

}  // namespace
