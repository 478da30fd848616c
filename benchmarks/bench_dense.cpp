// bench_dense.cpp — dense forward and backward on the seed networks' layers
// (the same table as tests/shapes.py SEED_DENSE), spot-checked once against
// double-precision sums, then timed by the harness.
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench.h"
#include "dense/dense.h"

namespace {

struct Layer {
  const char* name;
  int64_t rows, in, out;
};

const Layer kLayers[] = {
    {"mnist dense1", 64, 576, 64},   {"mnist dense2", 64, 64, 10},   {"cifar dense1", 32, 4096, 128},
    {"cifar dense2", 32, 128, 10},   {"face dense1", 16, 10752, 512}, {"face dense2", 16, 512, 128},
    {"face dense3", 16, 128, 2},
};

struct Problem {
  pycnn::DenseShape s;
  std::vector<float> x, w, y, dy, dx, dw, db;
};

bool close(double got, double want, double terms) {
  return std::fabs(got - want) <= 1e-4 * std::fabs(want) + 1e-5 * std::sqrt(terms) + 1e-5;
}

bool check(const Problem& p) {
  const auto& s = p.s;
  std::mt19937 gen(1);
  for (int t = 0; t < 32; ++t) {
    int64_t r = gen() % s.rows, o = gen() % s.out, i = gen() % s.in;
    double y = 0, dx = 0, dw = 0;
    for (int64_t q = 0; q < s.in; ++q) y += double(p.x[size_t(r * s.in + q)]) * p.w[size_t(q * s.out + o)];
    for (int64_t q = 0; q < s.out; ++q) dx += double(p.dy[size_t(r * s.out + q)]) * p.w[size_t(i * s.out + q)];
    for (int64_t q = 0; q < s.rows; ++q) dw += double(p.x[size_t(q * s.in + i)]) * p.dy[size_t(q * s.out + o)];
    if (!close(p.y[size_t(r * s.out + o)], y, double(s.in)) || !close(p.dx[size_t(r * s.in + i)], dx, double(s.out)) ||
        !close(p.dw[size_t(i * s.out + o)], dw, double(s.rows)))
      return false;
  }
  return true;
}

bool register_all() {
  for (const Layer& l : kLayers) {
    auto p = std::make_shared<Problem>();
    p->s = pycnn::dense_shape({l.rows, l.in}, l.in, l.out, -1);
    std::mt19937 gen(7);
    std::normal_distribution<float> normal;
    auto fill = [&](std::vector<float>& v, int64_t count) {
      v.resize(size_t(count));
      for (float& e : v) e = normal(gen);
    };
    fill(p->x, l.rows * l.in);
    fill(p->w, l.in * l.out);
    fill(p->dy, l.rows * l.out);
    p->y.resize(size_t(l.rows * l.out));
    p->dx.resize(p->x.size());
    p->dw.resize(p->w.size());
    p->db.resize(size_t(l.out));
    double flops = 2.0 * l.rows * l.in * l.out;
    std::string shape = " N" + std::to_string(l.rows) + " " + std::to_string(l.in) + "->" + std::to_string(l.out);
    auto fwd = [p] { pycnn::dense_forward(p->y.data(), p->x.data(), p->w.data(), nullptr, p->s, {}); };
    auto bwd = [p] {
      pycnn::dense_backward_input(p->dx.data(), p->dy.data(), p->w.data(), p->s);
      pycnn::dense_backward_weight(p->dw.data(), p->db.data(), p->dy.data(), p->x.data(), p->s);
    };
    pycnn::bench::add({"dense", std::string(l.name) + " fwd" + shape, flops, 0, fwd, [p, fwd, bwd] {
                         fwd();
                         bwd();
                         return check(*p);
                       }});
    pycnn::bench::add({"dense", std::string(l.name) + " bwd (dx+dW+db)" + shape, 2 * flops, 0, bwd, {}});
  }
  return true;
}

const bool registered = register_all();

}  // namespace
