// ukernel_avx512.cpp — AVX-512 micro-kernels: 12 x 32 (wide) and 16 x 16
// (narrow) tiles, 24 and 16 zmm accumulators.
#include "gemm/ukernel.h"

#if defined(PYCNN_X86)
#include <immintrin.h>

#include "gemm/ukernel_impl.h"

namespace pycnn::gemm_detail {
namespace {

struct Avx512 {
  using type = __m512;
  static constexpr int kWidth = 16;
  static type zero() { return _mm512_setzero_ps(); }
  static type load(const float* p) { return _mm512_loadu_ps(p); }
  static type set1(float x) { return _mm512_set1_ps(x); }
  static type fmadd(type a, type b, type c) { return _mm512_fmadd_ps(a, b, c); }
  static type mul(type a, type b) { return _mm512_mul_ps(a, b); }
  static type add(type a, type b) { return _mm512_add_ps(a, b); }
  static float sum(type v) { return _mm512_reduce_add_ps(v); }
  // max(0, r) returns its second operand when r is NaN: NaN propagates.
  static type relu(type r) { return _mm512_max_ps(_mm512_setzero_ps(), r); }
  static type leaky(type r, type slope) {
    __mmask16 neg = _mm512_cmp_ps_mask(r, _mm512_setzero_ps(), _CMP_LT_OQ);
    return _mm512_mask_mul_ps(r, neg, r, slope);
  }
  static __mmask16 mask(int n) { return __mmask16((1u << n) - 1u); }
  static type load_partial(const float* p, int n) { return _mm512_maskz_loadu_ps(mask(n), p); }
  static void store(float* p, type v) { _mm512_storeu_ps(p, v); }
  static void store_partial(float* p, type v, int n) { _mm512_mask_storeu_ps(p, mask(n), v); }
};

}  // namespace

const IsaUkernels* ukernels_avx512() {
  static const IsaUkernels kernels = make_ukernels<Avx512, 2, 12, 1, 16, 4, 6>();
  return &kernels;
}

}  // namespace pycnn::gemm_detail
#else
namespace pycnn::gemm_detail {
const IsaUkernels* ukernels_avx512() { return nullptr; }
}  // namespace pycnn::gemm_detail
#endif
