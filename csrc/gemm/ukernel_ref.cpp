// ukernel_ref.cpp — portable micro-kernels in plain C++ (4 x 16 and 8 x 8
// tiles), for CPUs without AVX2 and as the twin the SIMD kernels are tested
// against. The "vector" is a small float array the compiler may vectorise.
#include "gemm/ukernel_impl.h"

namespace pycnn::gemm_detail {
namespace {

struct alignas(32) Floats8 {
  float v[8];
};

struct Portable {
  using type = Floats8;
  static constexpr int kWidth = 8;
  static type zero() { return {}; }
  static type load(const float* p) {
    type r;
    for (int j = 0; j < 8; ++j) r.v[j] = p[j];
    return r;
  }
  static type load_partial(const float* p, int n) {
    type r{};
    for (int j = 0; j < n; ++j) r.v[j] = p[j];
    return r;
  }
  static type set1(float x) {
    type r;
    for (int j = 0; j < 8; ++j) r.v[j] = x;
    return r;
  }
  static type fmadd(type a, type b, type c) {
    for (int j = 0; j < 8; ++j) c.v[j] += a.v[j] * b.v[j];
    return c;
  }
  static type mul(type a, type b) {
    for (int j = 0; j < 8; ++j) a.v[j] *= b.v[j];
    return a;
  }
  static type add(type a, type b) {
    for (int j = 0; j < 8; ++j) a.v[j] += b.v[j];
    return a;
  }
  static float sum(type r) {
    float s = 0.f;
    for (int j = 0; j < 8; ++j) s += r.v[j];
    return s;
  }
  static type relu(type r) {
    for (int j = 0; j < 8; ++j) r.v[j] = r.v[j] < 0.f ? 0.f : r.v[j];
    return r;
  }
  static type leaky(type r, type slope) {
    for (int j = 0; j < 8; ++j) r.v[j] = r.v[j] < 0.f ? r.v[j] * slope.v[j] : r.v[j];
    return r;
  }
  static void store(float* p, type r) {
    for (int j = 0; j < 8; ++j) p[j] = r.v[j];
  }
  static void store_partial(float* p, type r, int n) {
    for (int j = 0; j < n; ++j) p[j] = r.v[j];
  }
};

}  // namespace

const IsaUkernels& ukernels_portable() {
  static const IsaUkernels kernels = make_ukernels<Portable, 2, 4, 1, 8, 2, 4>();
  return kernels;
}

}  // namespace pycnn::gemm_detail
