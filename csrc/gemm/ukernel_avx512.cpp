// ukernel_avx512.cpp — AVX-512 micro-kernels: 12 x 32 (wide) and 16 x 16
// (narrow) tiles, 24 and 16 zmm accumulators.
#include "gemm/ukernel.h"

#if defined(PYCNN_X86)
#include <immintrin.h>

#include <algorithm>

// GCC 12 reports the deliberately undefined pass-through operand of its own
// unpack and lane-shuffle intrinsics (the transposing pack) as uninitialised.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

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

// r[i] <- column i of the 16 x 16 block whose rows are r[0..15]: 32-bit
// and 64-bit interleaves within 128-bit lanes, then two rounds of lane
// shuffles.
void transpose16(__m512* r) {
  __m512 t[16], u[16];
  for (int k = 0; k < 8; ++k) {
    t[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
    t[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
  }
  // u[4k + q], lane L: rows 4k..4k+3 of column 4L + q.
  for (int k = 0; k < 4; ++k) {
    const __m512d t0 = _mm512_castps_pd(t[4 * k]), t1 = _mm512_castps_pd(t[4 * k + 1]);
    const __m512d t2 = _mm512_castps_pd(t[4 * k + 2]), t3 = _mm512_castps_pd(t[4 * k + 3]);
    u[4 * k] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
    u[4 * k + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
    u[4 * k + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
    u[4 * k + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
  }
  for (int q = 0; q < 4; ++q) {
    const __m512 even_lo = _mm512_shuffle_f32x4(u[q], u[4 + q], 0x88);   // lanes 0, 2 of u[q], u[4+q]
    const __m512 even_hi = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0x88);
    const __m512 odd_lo = _mm512_shuffle_f32x4(u[q], u[4 + q], 0xDD);    // lanes 1, 3
    const __m512 odd_hi = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0xDD);
    r[q] = _mm512_shuffle_f32x4(even_lo, even_hi, 0x88);       // lane 0 of each: column q
    r[8 + q] = _mm512_shuffle_f32x4(even_lo, even_hi, 0xDD);   // lane 2: column 8 + q
    r[4 + q] = _mm512_shuffle_f32x4(odd_lo, odd_hi, 0x88);     // lane 1: column 4 + q
    r[12 + q] = _mm512_shuffle_f32x4(odd_lo, odd_hi, 0xDD);    // lane 3: column 12 + q
  }
}

// pack_b_panel for transposed B in 16 x 16 blocks: B's rows j (contiguous
// along p) are loaded 16 at a time, transposed in registers and stored as
// 16 panel rows (the scalar loop stored one float at a time).
void pack_b_transposed(float* dst, const float* b, int64_t ldb, int64_t kc, int n, int nr) {
  for (int j0 = 0; j0 < nr; j0 += 16) {
    const int rows = std::max(0, std::min(16, n - j0));
    for (int64_t p0 = 0; p0 < kc; p0 += 16) {
      const int len = int(std::min<int64_t>(16, kc - p0));
      const __mmask16 mask = Avx512::mask(len);
      __m512 r[16];
      for (int i = 0; i < 16; ++i)
        r[i] = i < rows ? _mm512_maskz_loadu_ps(mask, b + (j0 + i) * ldb + p0) : _mm512_setzero_ps();
      transpose16(r);
      for (int i = 0; i < len; ++i) _mm512_storeu_ps(dst + (p0 + i) * nr + j0, r[i]);
    }
  }
}

}  // namespace

const IsaUkernels* ukernels_avx512() {
  static const IsaUkernels kernels = [] {
    IsaUkernels k = make_ukernels<Avx512, 2, 12, 1, 16, 4, 6>();
    k.pack_b_transposed = &pack_b_transposed;
    return k;
  }();
  return &kernels;
}

}  // namespace pycnn::gemm_detail
#else
namespace pycnn::gemm_detail {
const IsaUkernels* ukernels_avx512() { return nullptr; }
}  // namespace pycnn::gemm_detail
#endif
