// dropout_kernels_avx512.cpp — the dropout loop with AVX-512 intrinsics.
//
// A block's 16 counter lanes (philox.h) are two zmm of 8 widened lanes
// (see PhiloxHalf), a Philox round is one vpmuludq, one shift and one
// vpternlogq per word pair and half, and the finished words are packed back
// to 16 lanes. A packed word vector read as 32 16-bit halves holds the high
// halves of 32 consecutive elements (dropout.h): one compare decides them.
#if defined(PYCNN_X86)
#include <immintrin.h>

// GCC 12 reports the deliberately undefined pass-through operand of its own
// vpmuludq / vpsrlq intrinsics (_mm512_undefined_epi32) as uninitialised.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <algorithm>

#include "dropout/dropout_kernels.h"
#include "dropout/philox.h"

namespace pycnn {
namespace {

// Eight counter lanes per zmm, one per 64-bit lane, the word in its low
// half: vpmuludq then yields the whole 64-bit product (hi = p >> 32, lo = p)
// and reads only the low halves of its operands, so the high halves may carry
// garbage from the xors and nothing is masked or blended inside the rounds
// (12 instead of 16 vector ops per round and 16 lanes).
struct PhiloxHalf {
  __m512i c0, c1, c2, c3;
};

inline void philox_round(PhiloxHalf& h, __m512i m0, __m512i m1, __m512i k0, __m512i k1) {
  const __m512i p0 = _mm512_mul_epu32(h.c0, m0), p1 = _mm512_mul_epu32(h.c2, m1);
  h.c0 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p1, 32), h.c1, k0, 0x96);  // a ^ b ^ c
  h.c2 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p0, 32), h.c3, k1, 0x96);
  h.c1 = p1;
  h.c3 = p0;
}

void kernel(float* y, const float* x, int64_t begin, int64_t end, const DropoutParams& p) {
  const SplitThreshold split = split_threshold(p.threshold);
  const __m512i bound = _mm512_set1_epi16(short(split.bound));
  const __m512 scale = _mm512_set1_ps(p.scale);
  const __m512i m0 = _mm512_set1_epi64(kPhiloxM0), m1 = _mm512_set1_epi64(kPhiloxM1);
  const __m512i lanes_lo = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
  const __m512i lanes_hi = _mm512_setr_epi64(8, 9, 10, 11, 12, 13, 14, 15);
  // The low halves of two 8-lane vectors as one 16-lane vector.
  const __m512i low_halves = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i step_lo = _mm512_set1_epi64(uint32_t(p.step));
  const __m512i step_hi = _mm512_set1_epi64(uint32_t(p.step >> 32));
  // The round keys, broadcast once per call.
  __m512i keys0[10], keys1[10];
  for (int round = 0; round < 10; ++round) {
    keys0[round] = _mm512_set1_epi64(uint32_t(p.seed) + uint32_t(round) * kPhiloxW0);
    keys1[round] = _mm512_set1_epi64(uint32_t(p.seed >> 32) + uint32_t(round) * kPhiloxW1);
  }
  for (int64_t b = begin; b < end; b += kDropoutBlock) {
    const uint64_t first = uint64_t(b) / kDropoutBlock * kPhiloxLanes;
    const __m512i first_lo = _mm512_set1_epi64(uint32_t(first)), first_hi = _mm512_set1_epi64(uint32_t(first >> 32));
    // 16 * block + l never carries into the high word (philox.h).
    PhiloxHalf a{_mm512_add_epi64(first_lo, lanes_lo), first_hi, step_lo, step_hi};
    PhiloxHalf h{_mm512_add_epi64(first_lo, lanes_hi), first_hi, step_lo, step_hi};
    for (int round = 0; round < 10; ++round) {
      philox_round(a, m0, m1, keys0[round], keys1[round]);
      philox_round(h, m0, m1, keys0[round], keys1[round]);
    }
    const __m512i words[4] = {_mm512_permutex2var_epi32(a.c0, low_halves, h.c0),
                              _mm512_permutex2var_epi32(a.c1, low_halves, h.c1),
                              _mm512_permutex2var_epi32(a.c2, low_halves, h.c2),
                              _mm512_permutex2var_epi32(a.c3, low_halves, h.c3)};
    const int64_t count = std::min<int64_t>(kDropoutBlock, end - b);
    constexpr int kHalves = 32;  // elements decided by one word vector
    for (int j = 0; j < 4 && j * kHalves < count; ++j) {
      const int64_t off = b + j * kHalves;
      const int64_t left = std::min<int64_t>(kHalves, count - j * kHalves);
      const __mmask32 in = left == kHalves ? __mmask32(0xFFFFFFFFu) : __mmask32((1u << left) - 1);
      __mmask32 keep = _mm512_cmpgt_epu16_mask(words[j], bound);
      const __mmask32 ties = split.tie_low ? _mm512_mask_cmpeq_epu16_mask(in, words[j], bound) : __mmask32(0);
      for (uint32_t t = ties; t; t &= t - 1) {  // probability 2^-16 an element
        const int bit = __builtin_ctz(t);
        if (tie_bits(uint64_t(off + bit), p) >= split.tie_low) keep |= __mmask32(1u << bit);
      }
      for (int half = 0; half < 2; ++half) {
        const __mmask16 lanes = __mmask16(in >> (16 * half)), kept = __mmask16(keep >> (16 * half));
        const float* xs = x ? x + off + 16 * half : nullptr;
        const __m512 v = xs ? _mm512_maskz_loadu_ps(lanes, xs) : _mm512_set1_ps(1.f);
        _mm512_mask_storeu_ps(y + off + 16 * half, lanes, _mm512_maskz_mul_ps(kept, v, scale));
      }
    }
  }
}

}  // namespace

extern const DropoutKernel dropout_kernel_avx512 = kernel;

}  // namespace pycnn
#endif
