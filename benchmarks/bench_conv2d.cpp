// bench_conv2d.cpp — conv2d forward, d-input and d-weight on the seed
// networks' layers (the same table as tests/shapes.py SEED_CONV).
//
// Each pass is verified once by spot checks against double-precision sums
// computed straight from the definition, then timed by the harness.
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench.h"
#include "conv2d/conv2d.h"

namespace {

using pycnn::Conv2dArgs;
using pycnn::Conv2dPadding;
using pycnn::Conv2dShape;

struct Layer {
  const char* name;
  int64_t n, h, w, c, k, kh, kw, stride;
  bool same;
};

const Layer kLayers[] = {
    {"mnist conv1", 64, 28, 28, 1, 32, 3, 3, 1, false},
    {"mnist conv2", 64, 13, 13, 32, 64, 3, 3, 1, false},
    {"mnist conv3", 64, 5, 5, 64, 64, 3, 3, 1, false},
    {"cifar conv1", 32, 32, 32, 3, 32, 3, 3, 1, true},
    {"cifar conv2", 32, 32, 32, 32, 32, 3, 3, 2, true},
    {"cifar conv3", 32, 16, 16, 32, 64, 3, 3, 1, true},
    {"cifar conv4", 32, 16, 16, 64, 64, 3, 3, 2, true},
    {"face conv1", 16, 112, 92, 3, 16, 3, 3, 1, true},
    {"face conv2", 16, 56, 46, 16, 32, 3, 3, 1, true},
    {"face conv3", 16, 28, 23, 32, 64, 3, 3, 1, true},
};

struct Problem {
  Conv2dShape s;
  std::vector<float> x, w, y, dy, dx, dw;
};

std::shared_ptr<Problem> make_problem(const Layer& l) {
  Conv2dArgs a;
  int64_t xs[4] = {l.n, l.h, l.w, l.c}, ws[4] = {l.kh, l.kw, l.c, l.k};
  for (int d = 0; d < 4; ++d) a.x_shape[d] = xs[d], a.weight_shape[d] = ws[d];
  a.stride_h = a.stride_w = l.stride;
  a.padding = l.same ? Conv2dPadding::kSame : Conv2dPadding::kValid;
  auto p = std::make_shared<Problem>();
  p->s = pycnn::conv2d_shape(a);
  std::mt19937 gen(7);
  std::normal_distribution<float> normal;
  auto fill = [&](std::vector<float>& v, size_t count) {
    v.resize(count);
    for (float& e : v) e = normal(gen);
  };
  const Conv2dShape& s = p->s;
  fill(p->x, size_t(s.n * s.h * s.w * s.c));
  fill(p->w, size_t(s.kh * s.kw * s.c * s.k));
  fill(p->dy, size_t(s.rows() * s.k));
  p->y.resize(size_t(s.rows() * s.k));
  p->dx.resize(p->x.size());
  p->dw.resize(p->w.size());
  return p;
}

// x value at input pixel (n, ih, iw), channel c, or 0 in the padding.
double x_at(const Problem& p, int64_t n, int64_t ih, int64_t iw, int64_t c) {
  const Conv2dShape& s = p.s;
  if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) return 0;
  return p.x[size_t(((n * s.h + ih) * s.w + iw) * s.c + c)];
}

bool close(double got, double want, double terms) {
  return std::fabs(got - want) <= 1e-4 * std::fabs(want) + 1e-5 * std::sqrt(terms) + 1e-5;
}

bool check_forward(const Problem& p) {
  const Conv2dShape& s = p.s;
  std::mt19937 gen(1);
  for (int t = 0; t < 64; ++t) {
    int64_t r = gen() % s.rows(), k = gen() % s.k, ow = r % s.ow, oh = r / s.ow % s.oh, n = r / (s.ow * s.oh);
    double want = 0;
    for (int64_t i = 0; i < s.kh; ++i)
      for (int64_t j = 0; j < s.kw; ++j)
        for (int64_t c = 0; c < s.c; ++c)
          want += x_at(p, n, oh * s.sh - s.pad_top + i, ow * s.sw - s.pad_left + j, c) *
                  p.w[size_t(((i * s.kw + j) * s.c + c) * s.k + k)];
    if (!close(p.y[size_t(r * s.k + k)], want, double(s.patch()))) return false;
  }
  return true;
}

bool check_weight(const Problem& p) {
  const Conv2dShape& s = p.s;
  std::mt19937 gen(2);
  for (int t = 0; t < 16; ++t) {
    int64_t e = gen() % int64_t(p.dw.size()), k = e % s.k, c = e / s.k % s.c, j = e / (s.k * s.c) % s.kw,
            i = e / (s.k * s.c * s.kw);
    double want = 0;
    for (int64_t r = 0; r < s.rows(); ++r) {
      int64_t ow = r % s.ow, oh = r / s.ow % s.oh, n = r / (s.ow * s.oh);
      want += x_at(p, n, oh * s.sh - s.pad_top + i, ow * s.sw - s.pad_left + j, c) * p.dy[size_t(r * s.k + k)];
    }
    if (!close(p.dw[size_t(e)], want, double(s.rows()))) return false;
  }
  return true;
}

bool check_input(const Problem& p) {
  const Conv2dShape& s = p.s;
  std::mt19937 gen(3);
  for (int t = 0; t < 64; ++t) {
    int64_t e = gen() % int64_t(p.dx.size()), c = e % s.c, iw = e / s.c % s.w, ih = e / (s.c * s.w) % s.h,
            n = e / (s.c * s.w * s.h);
    double want = 0;
    for (int64_t i = 0; i < s.kh; ++i)
      for (int64_t j = 0; j < s.kw; ++j) {
        int64_t th = ih + s.pad_top - i, tw = iw + s.pad_left - j;
        if (th < 0 || tw < 0 || th % s.sh || tw % s.sw || th / s.sh >= s.oh || tw / s.sw >= s.ow) continue;
        int64_t r = (n * s.oh + th / s.sh) * s.ow + tw / s.sw;
        for (int64_t k = 0; k < s.k; ++k)
          want += double(p.dy[size_t(r * s.k + k)]) * p.w[size_t(((i * s.kw + j) * s.c + c) * s.k + k)];
      }
    if (!close(p.dx[size_t(e)], want, double(s.k * s.kh * s.kw))) return false;
  }
  return true;
}

bool register_all() {
  for (const Layer& l : kLayers) {
    auto p = make_problem(l);
    const Conv2dShape& s = p->s;
    double flops = 2.0 * s.rows() * s.k * s.patch();
    std::string shape = " N" + std::to_string(l.n) + " " + std::to_string(l.h) + "x" + std::to_string(l.w) + "x" +
                        std::to_string(l.c) + "->" + std::to_string(l.k) + " k3 s" + std::to_string(l.stride);
    pycnn::bench::add({"conv2d", std::string(l.name) + " fwd" + shape, flops, 0,
                       [p] { pycnn::conv2d_forward(p->y.data(), p->x.data(), p->w.data(), nullptr, p->s, {}); },
                       [p] {
                         pycnn::conv2d_forward(p->y.data(), p->x.data(), p->w.data(), nullptr, p->s, {});
                         return check_forward(*p);
                       }});
    pycnn::bench::add({"conv2d", std::string(l.name) + " d-input" + shape, flops, 0,
                       [p] { pycnn::conv2d_backward_input(p->dx.data(), p->dy.data(), p->w.data(), p->s); },
                       [p] {
                         pycnn::conv2d_backward_input(p->dx.data(), p->dy.data(), p->w.data(), p->s);
                         return check_input(*p);
                       }});
    pycnn::bench::add({"conv2d", std::string(l.name) + " d-weight" + shape, flops, 0,
                       [p] { pycnn::conv2d_backward_weight(p->dw.data(), nullptr, p->dy.data(), p->x.data(), p->s); },
                       [p] {
                         pycnn::conv2d_backward_weight(p->dw.data(), nullptr, p->dy.data(), p->x.data(), p->s);
                         return check_weight(*p);
                       }});
  }
  return true;
}

const bool registered = register_all();

}  // namespace
