// dropout_kernels_avx512.cpp — the dropout loop with AVX-512 intrinsics.
//
// One zmm holds the 16 counter lanes of a block (philox.h), so a Philox
// round is two 32x32->64 products per word pair done as even/odd
// vpmuludq + blends (cheaper than vpmullq on widened lanes), and the three-way
// xors are one vpternlogd each. Output words are already in element order.
#if defined(PYCNN_X86)
#include <immintrin.h>

#include <algorithm>

#include "dropout/dropout_kernels.h"
#include "dropout/philox.h"

namespace pycnn {
namespace {

// hi and lo 32-bit halves of a[l] * m for the 16 lanes.
inline void mulhilo(__m512i a, __m512i m, __m512i* hi, __m512i* lo) {
  __m512i even = _mm512_mul_epu32(a, m);
  __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
  *lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
  *hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
}

void kernel(float* y, const float* x, int64_t begin, int64_t end, const DropoutParams& p) {
  const bool keep_none = p.threshold > 0xFFFFFFFFull;
  const __m512i threshold = _mm512_set1_epi32(int(uint32_t(std::min<uint64_t>(p.threshold, 0xFFFFFFFFull))));
  const __m512 scale = _mm512_set1_ps(p.scale);
  const __m512i m0 = _mm512_set1_epi64(kPhiloxM0), m1 = _mm512_set1_epi64(kPhiloxM1);
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i step_lo = _mm512_set1_epi32(int(uint32_t(p.step)));
  const __m512i step_hi = _mm512_set1_epi32(int(uint32_t(p.step >> 32)));
  for (int64_t b = begin; b < end; b += kPhiloxBlock) {
    const uint64_t first = uint64_t(b) / kPhiloxBlock * kPhiloxLanes;
    __m512i c0 = _mm512_add_epi32(_mm512_set1_epi32(int(uint32_t(first))), lanes);
    __m512i c1 = _mm512_set1_epi32(int(uint32_t(first >> 32)));
    __m512i c2 = step_lo, c3 = step_hi;
    uint32_t k0 = uint32_t(p.seed), k1 = uint32_t(p.seed >> 32);
    for (int round = 0; round < 10; ++round) {
      __m512i hi0, lo0, hi1, lo1;
      mulhilo(c0, m0, &hi0, &lo0);
      mulhilo(c2, m1, &hi1, &lo1);
      c0 = _mm512_ternarylogic_epi32(hi1, c1, _mm512_set1_epi32(int(k0)), 0x96);  // a ^ b ^ c
      c2 = _mm512_ternarylogic_epi32(hi0, c3, _mm512_set1_epi32(int(k1)), 0x96);
      c1 = lo1;
      c3 = lo0;
      k0 += kPhiloxW0, k1 += kPhiloxW1;
    }
    const __m512i words[4] = {c0, c1, c2, c3};
    const int64_t count = std::min<int64_t>(kPhiloxBlock, end - b);
    for (int j = 0; j < 4 && j * kPhiloxLanes < count; ++j) {
      const int64_t off = b + j * kPhiloxLanes;
      const int64_t left = std::min<int64_t>(kPhiloxLanes, count - j * kPhiloxLanes);
      const __mmask16 in = left == kPhiloxLanes ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
      __mmask16 keep = keep_none ? __mmask16(0) : _mm512_cmpge_epu32_mask(words[j], threshold);
      __m512 v = x ? _mm512_maskz_loadu_ps(in, x + off) : _mm512_set1_ps(1.f);
      _mm512_mask_storeu_ps(y + off, in, _mm512_maskz_mul_ps(keep, v, scale));
    }
  }
}

}  // namespace

extern const DropoutKernel dropout_kernel_avx512 = kernel;

}  // namespace pycnn
#endif
