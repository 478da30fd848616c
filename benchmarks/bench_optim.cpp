// bench_optim.cpp — fused optimizer updates over the face network's
// 5,595,042 parameters (3 conv + 3 dense layers, 12 arrays) in one call.
// Bytes: Adam reads p, g, m, v and writes p, m, v (28 B per parameter);
// RMSprop reads p, g, v and writes p, v (20 B); SGD+momentum 20 B.
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "bench.h"
#include "optim/optim.h"

namespace {

// The face network: conv 3->16, 16->32, 32->64 (3x3), dense 10752->512->128->2.
const int64_t kSizes[] = {3 * 3 * 3 * 16, 16, 3 * 3 * 16 * 32, 32, 3 * 3 * 32 * 64, 64,
                          10752 * 512,    512, 512 * 128,       128, 128 * 2,        2};

struct Model {
  std::vector<std::vector<float>> params, grads, slots[3];
  std::vector<pycnn::ParamSlots> arrays;
  int64_t total = 0;
};

std::shared_ptr<Model> face_model() {
  auto m = std::make_shared<Model>();
  std::mt19937 gen(7);
  std::normal_distribution<float> dist(0.f, 0.05f);
  for (int64_t n : kSizes) {
    m->params.emplace_back(size_t(n));
    m->grads.emplace_back(size_t(n));
    for (auto& s : m->slots) s.emplace_back(size_t(n), 0.f);
    for (float& v : m->params.back()) v = dist(gen);
    for (float& v : m->grads.back()) v = dist(gen);
    m->total += n;
  }
  for (size_t a = 0; a < m->params.size(); ++a) {
    pycnn::ParamSlots p;
    p.param = m->params[a].data();
    p.grad = m->grads[a].data();
    for (int k = 0; k < 3; ++k) p.slot[k] = m->slots[k][a].data();
    p.size = int64_t(m->params[a].size());
    m->arrays.push_back(p);
  }
  return m;
}

// One Adam step on a fresh copy of the last dense layer, against double precision.
bool verify_adam() {
  const int64_t n = 128 * 2;
  std::vector<float> p(n), g(n), m(n, 0.f), v(n, 0.f);
  for (int64_t i = 0; i < n; ++i) p[i] = 0.01f * float(i % 17), g[i] = 0.1f * float(i % 5) - 0.2f;
  pycnn::ParamSlots a;
  a.param = p.data(), a.grad = g.data(), a.slot[0] = m.data(), a.slot[1] = v.data(), a.size = n;
  pycnn::AdamHyper h;
  pycnn::adam_update(&a, 1, h);
  for (int64_t i = 0; i < n; ++i) {
    double gi = 0.1 * double(i % 5) - 0.2, mi = 0.1 * gi, vi = 0.001 * gi * gi;
    double alpha = 0.001 * std::sqrt(1 - 0.999) / (1 - 0.9);
    double want = 0.01 * double(i % 17) - mi * alpha / (std::sqrt(vi) + 1e-7);
    if (std::fabs(p[i] - want) > 1e-6) return false;
  }
  return true;
}

bool register_optim() {
  auto model = face_model();
  const double n = double(model->total);
  pycnn::bench::add({"optim", "adam face 5.6M params", 0, 28.0 * n, [=] {
    pycnn::adam_update(model->arrays.data(), int64_t(model->arrays.size()), pycnn::AdamHyper{});
  }, verify_adam});
  pycnn::bench::add({"optim", "rmsprop face 5.6M params", 0, 20.0 * n, [=] {
    pycnn::rmsprop_update(model->arrays.data(), int64_t(model->arrays.size()), pycnn::RmspropHyper{});
  }, nullptr});
  pycnn::bench::add({"optim", "sgd momentum face 5.6M params", 0, 20.0 * n, [=] {
    pycnn::sgd_update(model->arrays.data(), int64_t(model->arrays.size()), pycnn::SgdHyper{0.01f, 0.9f, false});
  }, nullptr});
  return true;
}

const bool registered = register_optim();

}  // namespace
