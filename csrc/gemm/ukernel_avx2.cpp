// ukernel_avx2.cpp — AVX2 + FMA micro-kernels: 6 x 16 (wide) and 12 x 8
// (narrow) tiles, 12 ymm accumulators.
#include "gemm/ukernel.h"

#if defined(PYCNN_X86)
#include <immintrin.h>

#include "gemm/ukernel_impl.h"

namespace pycnn::gemm_detail {
namespace {

struct Avx2 {
  using type = __m256;
  static constexpr int kWidth = 8;
  static type zero() { return _mm256_setzero_ps(); }
  static type load(const float* p) { return _mm256_loadu_ps(p); }
  static type set1(float x) { return _mm256_set1_ps(x); }
  static type fmadd(type a, type b, type c) { return _mm256_fmadd_ps(a, b, c); }
  static type mul(type a, type b) { return _mm256_mul_ps(a, b); }
  static type add(type a, type b) { return _mm256_add_ps(a, b); }
  static float sum(type v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
  }
  static type relu(type r) { return _mm256_max_ps(_mm256_setzero_ps(), r); }
  static type leaky(type r, type slope) {
    type neg = _mm256_cmp_ps(r, _mm256_setzero_ps(), _CMP_LT_OQ);
    return _mm256_blendv_ps(r, _mm256_mul_ps(r, slope), neg);
  }
  static __m256i mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static type load_partial(const float* p, int n) { return _mm256_maskload_ps(p, mask(n)); }
  static void store(float* p, type v) { _mm256_storeu_ps(p, v); }
  static void store_partial(float* p, type v, int n) { _mm256_maskstore_ps(p, mask(n), v); }
};

}  // namespace

const IsaUkernels* ukernels_avx2() {
  static const IsaUkernels kernels = make_ukernels<Avx2, 2, 6, 1, 12, 3, 4>();
  return &kernels;
}

}  // namespace pycnn::gemm_detail
#else
namespace pycnn::gemm_detail {
const IsaUkernels* ukernels_avx2() { return nullptr; }
}  // namespace pycnn::gemm_detail
#endif
