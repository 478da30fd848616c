// bench_pool2d.cpp — max-pool 2x2/2 with argmax (forward, backward) on the
// seed networks' pooling shapes. GB/s from the minimum bytes: x + y + argmax
// forward, dy + argmax + dx backward.
#include <memory>
#include <vector>

#include "bench.h"
#include "pool2d/pool2d.h"

namespace {

struct PoolCase {
  pycnn::Pool2dShape s;
  std::vector<float> x, y, dy, dx;
  std::vector<int32_t> argmax;
};

bool add_pool(const char* name, int64_t n, int64_t h, int64_t w, int64_t c) {
  auto p = std::make_shared<PoolCase>();
  p->s = pycnn::pool2d_shape("max_pool2d", n, h, w, c, 2, 2, 2, 2, false);
  int64_t in = n * h * w * c, out = n * p->s.oh * p->s.ow * c;
  p->x.resize(in);
  for (int64_t i = 0; i < in; ++i) p->x[i] = float((i * 7919) % 1009);
  p->y.resize(out), p->dy.assign(out, 1.f), p->argmax.resize(out), p->dx.resize(in);
  double bytes = 4.0 * in + 8.0 * out;
  pycnn::bench::add({"pool2d", std::string(name) + " maxpool fwd", 0, bytes,
                     [p] { pycnn::max_pool2d_forward(p->y.data(), p->argmax.data(), p->x.data(), p->s); },
                     [p] {
                       pycnn::max_pool2d_forward(p->y.data(), p->argmax.data(), p->x.data(), p->s);
                       int64_t img = p->s.h * p->s.w * p->s.c, oimg = p->s.oh * p->s.ow * p->s.c;
                       for (size_t i = 0; i < p->y.size(); ++i)
                         if (p->y[i] != p->x[(int64_t(i) / oimg) * img + p->argmax[i]]) return false;
                       return true;
                     }});
  pycnn::bench::add({"pool2d", std::string(name) + " maxpool bwd", 0, bytes,
                     [p] {
                       pycnn::max_pool2d_backward_input(p->dx.data(), p->dy.data(), p->argmax.data(), p->s.n,
                                                        p->s.h * p->s.w * p->s.c, p->s.oh * p->s.ow * p->s.c);
                     },
                     [p] {
                       pycnn::max_pool2d_forward(p->y.data(), p->argmax.data(), p->x.data(), p->s);
                       if (!pycnn::max_pool2d_backward_input(p->dx.data(), p->dy.data(), p->argmax.data(), p->s.n,
                                                             p->s.h * p->s.w * p->s.c, p->s.oh * p->s.ow * p->s.c))
                         return false;
                       double sum = 0;
                       for (float v : p->dx) sum += v;
                       return sum == double(p->dy.size());
                     }});
  return true;
}

const bool registered = add_pool("mnist pool1 N64 26x26x32", 64, 26, 26, 32) &&
                        add_pool("mnist pool2 N64 11x11x64", 64, 11, 11, 64) &&
                        add_pool("cifar pool1 N32 32x32x32", 32, 32, 32, 32) &&
                        add_pool("cifar pool2 N32 16x16x64", 32, 16, 16, 64) &&
                        add_pool("face pool1 N16 112x92x16", 16, 112, 92, 16) &&
                        add_pool("face pool2 N16 56x46x32", 16, 56, 46, 32) &&
                        add_pool("face pool3 N16 28x23x64", 16, 28, 23, 64);

}  // namespace
