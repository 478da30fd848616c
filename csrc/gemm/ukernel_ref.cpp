// ukernel_ref.cpp — portable micro-kernels in plain C++ (6 x 8 and 8 x 4
// tiles, 12 and 8 accumulators of 4 floats), for CPUs without AVX2 and as
// the twin the SIMD kernels are tested against.
#include <cstring>

#include "gemm/ukernel_impl.h"

namespace pycnn::gemm_detail {
namespace {

// Four floats in one 128-bit register (SSE2 on any x86-64, NEON on Arm):
// GCC's vector extension, which both compilers lower to the native
// instructions. An array of 8 floats, the earlier "vector", took two
// registers, so the 4 x 16 tile's accumulators alone filled SSE2's 16 and
// spilled (1024^3 GEMM at 7 GFLOP/s).
typedef float Floats4 __attribute__((vector_size(16)));

struct Portable {
  using type = Floats4;
  static constexpr int kWidth = 4;
  static type zero() { return type{0.f, 0.f, 0.f, 0.f}; }
  static type load(const float* p) {
    type r;
    std::memcpy(&r, p, sizeof r);
    return r;
  }
  static type load_partial(const float* p, int n) {
    type r = zero();
    for (int j = 0; j < n; ++j) r[j] = p[j];
    return r;
  }
  static type set1(float x) { return type{x, x, x, x}; }
  static type fmadd(type a, type b, type c) { return c + a * b; }
  static type mul(type a, type b) { return a * b; }
  static type add(type a, type b) { return a + b; }
  static float sum(type r) { return (r[0] + r[1]) + (r[2] + r[3]); }
  static type relu(type r) {
    for (int j = 0; j < 4; ++j) r[j] = r[j] < 0.f ? 0.f : r[j];
    return r;
  }
  static type leaky(type r, type slope) {
    for (int j = 0; j < 4; ++j) r[j] = r[j] < 0.f ? r[j] * slope[j] : r[j];
    return r;
  }
  static void store(float* p, type r) { std::memcpy(p, &r, sizeof r); }
  static void store_partial(float* p, type r, int n) {
    for (int j = 0; j < n; ++j) p[j] = r[j];
  }
};

}  // namespace

const IsaUkernels& ukernels_portable() {
  static const IsaUkernels kernels = make_ukernels<Portable, 2, 6, 1, 8, 2, 4>();
  return kernels;
}

}  // namespace pycnn::gemm_detail
