// simd.h — one vector register of floats per ISA, for kernels written once
// as templates over it (the implicit-GEMM tiles, the Winograd transforms) and
// compiled in each ISA's translation unit: Avx512Vec (16 lanes) where the
// unit is built with AVX-512, Avx2Vec (8 lanes) where it has AVX2 + FMA,
// PortableVec (4 lanes: SSE2 on x86-64, NEON on Arm) everywhere.
//
// In an unnamed namespace: each translation unit keeps its own copy (an
// inline function compiled with AVX-512 flags could otherwise be picked by
// the linker for the AVX2 unit too), as in activation.h.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(PYCNN_X86)
#include <immintrin.h>
#endif

namespace pycnn {
namespace {

// GCC's vector extension (also Clang's): the compiler lowers it to the
// target's 128-bit registers.
typedef float PortableFloats __attribute__((vector_size(16)));
typedef int32_t PortableInts __attribute__((vector_size(16)));

struct PortableVec {
  using V = PortableFloats;
  static constexpr int kLanes = 4;
  static V zero() { return V{0.f, 0.f, 0.f, 0.f}; }
  static V set1(float x) { return V{x, x, x, x}; }
  // *p in every lane, read from memory (a set1 of a loaded float can cost
  // GCC its pointer increments: direct_row_impl.h).
  static V broadcast(const float* p) { return set1(*p); }
  static V load(const float* p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static void store(float* p, V v) { std::memcpy(p, &v, sizeof v); }
  static V add(V a, V b) { return a + b; }
  static V sub(V a, V b) { return a - b; }
  static V mul(V a, V b) { return a * b; }
  static V fmadd(V a, V b, V c) { return c + a * b; }
  static V fnmadd(V a, V b, V c) { return c - a * b; }
  static float reduce_add(V v) { return (v[0] + v[2]) + (v[1] + v[3]); }
  // d[i] += v[i] in double, for the kLanes doubles at d.
  static void add_to_doubles(double* d, V v) {
    for (int i = 0; i < kLanes; ++i) d[i] += double(v[i]);
  }
  // Selected by bitwise ands: a conditional per lane may become a branch.
  static V activate(V v, int act, V slope) {
    if (act != 1 && act != 2) return v;
    const PortableInts negative = v < zero();  // all ones where v < 0; false for NaN
    const V other = act == 1 ? zero() : v * slope;
    return V((PortableInts(v) & ~negative) | (PortableInts(other) & negative));
  }
};

#if defined(PYCNN_X86)

#if defined(__AVX512F__)
struct Avx512Vec {
  using V = __m512;
  static constexpr int kLanes = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }    // a*b + c
  static V fnmadd(V a, V b, V c) { return _mm512_fnmadd_ps(a, b, c); }  // c - a*b
  static float reduce_add(V v) { return _mm512_reduce_add_ps(v); }
  // As PortableVec's. The maskz forms: GCC 12 warns that the unmasked
  // ones' undefined pass-through may be used uninitialized.
  static void add_to_doubles(double* d, V v) {
    const __m512d halves = _mm512_castps_pd(v);
    const __m256 low = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xf, halves, 0));
    const __m256 high = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xf, halves, 1));
    _mm512_storeu_pd(d, _mm512_add_pd(_mm512_loadu_pd(d), _mm512_maskz_cvtps_pd(0xff, low)));
    _mm512_storeu_pd(d + 8, _mm512_add_pd(_mm512_loadu_pd(d + 8), _mm512_maskz_cvtps_pd(0xff, high)));
  }
  // relu (act 1) or leaky_relu of slope (act 2) of v, else v. A compare is
  // false for NaN, so NaN propagates.
  static V activate(V v, int act, V slope) {
    const __mmask16 negative = _mm512_cmp_ps_mask(v, zero(), _CMP_LT_OQ);
    if (act == 1) return _mm512_mask_mov_ps(v, negative, zero());
    if (act == 2) return _mm512_mask_mul_ps(v, negative, v, slope);
    return v;
  }
};
#endif

#if defined(__AVX2__) && defined(__FMA__)
struct Avx2Vec {
  using V = __m256;
  static constexpr int kLanes = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V fnmadd(V a, V b, V c) { return _mm256_fnmadd_ps(a, b, c); }
  // The sum of the 8 lanes: halves, then pairs, then the last two.
  static float reduce_add(V v) {
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    return _mm_cvtss_f32(_mm_add_ss(x, _mm_movehdup_ps(x)));
  }
  static void add_to_doubles(double* d, V v) {
    _mm256_storeu_pd(d, _mm256_add_pd(_mm256_loadu_pd(d), _mm256_cvtps_pd(_mm256_castps256_ps128(v))));
    _mm256_storeu_pd(d + 4, _mm256_add_pd(_mm256_loadu_pd(d + 4), _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1))));
  }
  static V activate(V v, int act, V slope) {
    const V negative = _mm256_cmp_ps(v, zero(), _CMP_LT_OQ);
    if (act == 1) return _mm256_blendv_ps(v, zero(), negative);
    if (act == 2) return _mm256_blendv_ps(v, _mm256_mul_ps(v, slope), negative);
    return v;
  }
};
#endif

#endif  // PYCNN_X86

}  // namespace
}  // namespace pycnn
