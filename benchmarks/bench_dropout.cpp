// bench_dropout.cpp — dropout (rate 0.5) forward; the backward is the same
// kernel on dy. GB/s from the minimum bytes: x + y.
#include <cmath>
#include <memory>
#include <vector>

#include "bench.h"
#include "dropout/dropout.h"

namespace {

bool add_dropout(const char* name, int64_t n) {
  auto x = std::make_shared<std::vector<float>>(n, 1.f);
  auto y = std::make_shared<std::vector<float>>(n);
  pycnn::DropoutParams p = pycnn::dropout_params("dropout", 0.5, 1234, 1);
  pycnn::bench::add({"dropout", std::string(name) + " dropout 0.5 fwd", 0, 8.0 * n,
                     [=] { pycnn::dropout_forward(y->data(), x->data(), n, p); },
                     [=] {
                       pycnn::dropout_forward(y->data(), x->data(), n, p);
                       double kept = 0;
                       for (float v : *y) kept += v != 0.f;
                       return std::fabs(kept / double(n) - 0.5) < 5 * 0.5 / std::sqrt(double(n));
                     }});
  return true;
}

const bool registered = add_dropout("cifar act N32 16x16x64", 32 * 16 * 16 * 64) &&
                        add_dropout("face act N16 56x46x32", 16 * 56 * 46 * 32) &&
                        add_dropout("dense N64 128", 64 * 128);

}  // namespace
