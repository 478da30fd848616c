// bench_batchnorm.cpp — training-mode batch norm (forward, backward) on the
// CIFAR net's BN shapes. GB/s from the minimum bytes: x + y forward,
// dy + x + dx backward.
#include <cmath>
#include <memory>
#include <vector>

#include "batchnorm/batchnorm.h"
#include "bench.h"

namespace {

struct BnCase {
  pycnn::BatchNormShape s;
  std::vector<float> x, y, dy, dx, gamma, beta, mean, inv_std, mm, mv, dgamma, dbeta;
};

bool add_bn(const char* name, int64_t rows, int64_t c) {
  auto p = std::make_shared<BnCase>();
  p->s = pycnn::batch_norm_shape("batch_norm", rows, c);
  p->x.resize(rows * c);
  for (int64_t i = 0; i < rows * c; ++i) p->x[i] = float((i * 7919) % 1009) / 100.f;
  p->y.resize(rows * c), p->dx.resize(rows * c), p->dy.assign(rows * c, 0.5f);
  p->gamma.assign(c, 1.f), p->beta.assign(c, 0.f), p->mean.resize(c), p->inv_std.resize(c);
  p->mm.assign(c, 0.f), p->mv.assign(c, 1.f), p->dgamma.resize(c), p->dbeta.resize(c);
  auto fwd = [p] {
    pycnn::batch_norm_forward_train(p->y.data(), p->mean.data(), p->inv_std.data(), p->mm.data(), p->mv.data(),
                                    p->x.data(), p->gamma.data(), p->beta.data(), 0.99f, 1e-3f, {}, p->s);
  };
  pycnn::bench::add({"batchnorm", std::string(name) + " BN train fwd", 0, 8.0 * rows * c, fwd, [p, fwd] {
                       fwd();  // every channel of y has mean 0
                       for (int64_t ch = 0; ch < p->s.channels; ++ch) {
                         double s = 0;
                         for (int64_t r = 0; r < p->s.rows; ++r) s += p->y[r * p->s.channels + ch];
                         if (std::fabs(s / double(p->s.rows)) > 1e-4) return false;
                       }
                       return true;
                     }});
  pycnn::bench::add({"batchnorm", std::string(name) + " BN train bwd", 0, 12.0 * rows * c,
                     [p] {
                       pycnn::batch_norm_backward(p->dx.data(), p->dgamma.data(), p->dbeta.data(), p->dy.data(),
                                                  p->x.data(), p->gamma.data(), p->mean.data(), p->inv_std.data(), p->s);
                     },
                     [p, fwd] {
                       fwd();  // a constant dy has no gradient through the normalisation
                       pycnn::batch_norm_backward(p->dx.data(), p->dgamma.data(), p->dbeta.data(), p->dy.data(),
                                                  p->x.data(), p->gamma.data(), p->mean.data(), p->inv_std.data(), p->s);
                       for (float v : p->dx)
                         if (std::fabs(v) > 1e-4f) return false;
                       return true;
                     }});
  return true;
}

const bool registered = add_bn("cifar bn1 N32 32x32x32", 32 * 32 * 32, 32) &&
                        add_bn("cifar bn2 N32 16x16x32", 32 * 16 * 16, 32) &&
                        add_bn("cifar bn3 N32 16x16x64", 32 * 16 * 16, 64) &&
                        add_bn("cifar bn4 N32 8x8x64", 32 * 8 * 8, 64) &&
                        add_bn("cifar bn5 dense N32 128", 32, 128);

}  // namespace
