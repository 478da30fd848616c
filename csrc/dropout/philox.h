// philox.h — Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy
// as 1, 2, 3", SC'11): a counter-based generator. Four 32-bit outputs are a
// pure function of a 128-bit counter and a 64-bit key, so any element's
// random number can be computed independently, in any order, on any thread.
//
// philox_block() fills the 64 words of one block of 16 counters in
// structure-of-arrays order, word j of counter lane l at j*16 + l: a loop
// over the 16 lanes is one SIMD vector on AVX-512 (two on AVX2), and the
// words land in the order the dropout mask reads them (dropout.h), no
// transpose.
#pragma once

#include <cstdint>

#if defined(__AVX2__) || defined(__SSE2__)
#include <immintrin.h>
#endif

namespace pycnn {

constexpr uint32_t kPhiloxM0 = 0xD2511F53u, kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u, kPhiloxW1 = 0xBB67AE85u;
constexpr int kPhiloxLanes = 16;
constexpr int kPhiloxWords = 4 * kPhiloxLanes;  // words per block

// Both functions are `static`: each translation unit, the per-ISA ones
// included, keeps its own copy compiled with its own flags (a shared inline
// copy may be the AVX-512 one, picked by the linker for every caller).

// One Philox4x32-10 evaluation (the reference form, used by tests).
static inline void philox4x32_10(uint32_t out[4], const uint32_t ctr[4], const uint32_t key[2]) {
  uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3], k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = uint64_t(kPhiloxM0) * c0, p1 = uint64_t(kPhiloxM1) * c2;
    uint32_t n0 = uint32_t(p1 >> 32) ^ c1 ^ k0, n2 = uint32_t(p0 >> 32) ^ c3 ^ k1;
    c0 = n0, c1 = uint32_t(p1), c2 = n2, c3 = uint32_t(p0);
    k0 += kPhiloxW0, k1 += kPhiloxW1;
  }
  out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

#if defined(__AVX2__) || defined(__SSE2__)
// Counter lanes widened to 64 bits, the word in the low half: the unsigned
// 32x32 -> 64 multiply (vpmuludq, pmuludq) then yields hi = p >> 32 and
// lo = p at once, and reads only the low halves of its operands, so the
// garbage the xors leave in the high halves never matters (the AVX-512
// kernel does the same with 8 lanes a vector). In an unnamed namespace:
// each translation unit's copy is built for its own instruction set, and a
// shared inline member (count() has the same signature in all) could be
// merged across them by the linker.
namespace {
struct WideLanes {
#if defined(__AVX2__)
  using V = __m256i;
  static constexpr int kLanes = 4;
  static V mul(V a, V b) { return _mm256_mul_epu32(a, b); }
  static V high(V p) { return _mm256_srli_epi64(p, 32); }
  static V xor3(V a, V b, V c) { return _mm256_xor_si256(_mm256_xor_si256(a, b), c); }
  static V set1(uint32_t v) { return _mm256_set1_epi64x(int64_t(v)); }
  static V count(uint32_t first) { return _mm256_setr_epi64x(first, first + 1, first + 2, first + 3); }
  static void store_low(uint32_t* out, V v) {
    const __m256i packed = _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm256_castsi256_si128(packed));
  }
#else
  using V = __m128i;
  static constexpr int kLanes = 2;
  static V mul(V a, V b) { return _mm_mul_epu32(a, b); }
  static V high(V p) { return _mm_srli_epi64(p, 32); }
  static V xor3(V a, V b, V c) { return _mm_xor_si128(_mm_xor_si128(a, b), c); }
  static V set1(uint32_t v) { return _mm_set1_epi64x(int64_t(v)); }
  static V count(uint32_t first) { return _mm_set_epi64x(first + 1, first); }
  static void store_low(uint32_t* out, V v) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_shuffle_epi32(v, _MM_SHUFFLE(3, 1, 2, 0)));
  }
#endif
};
}  // namespace
#endif

// The 64 words of block `block`: counter lane l is (16*block + l, step),
// key = seed; out[j*16 + l] = word j of lane l. 16*block + l never carries
// into the high word, so the high word is shared by the block.
static inline void philox_block(uint32_t* __restrict out, uint64_t block, uint64_t seed, uint64_t step) {
  const uint64_t first = block * kPhiloxLanes;
#if defined(__AVX2__) || defined(__SSE2__)
  // 8 lanes (AVX2) or 4 (SSE2) at a time: their 8 state vectors, the
  // multipliers and a temporary fit the 16 vector registers.
  using W = WideLanes;
  constexpr int kVectors = 2, kGroup = kVectors * W::kLanes;
  const W::V m0 = W::set1(kPhiloxM0), m1 = W::set1(kPhiloxM1);
  for (int g = 0; g < kPhiloxLanes; g += kGroup) {
    W::V c0[kVectors], c1[kVectors], c2[kVectors], c3[kVectors];
    for (int v = 0; v < kVectors; ++v) {
      c0[v] = W::count(uint32_t(first) + uint32_t(g + v * W::kLanes));
      c1[v] = W::set1(uint32_t(first >> 32));
      c2[v] = W::set1(uint32_t(step));
      c3[v] = W::set1(uint32_t(step >> 32));
    }
    uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
    for (int round = 0; round < 10; ++round) {
      const W::V key0 = W::set1(k0), key1 = W::set1(k1);
      for (int v = 0; v < kVectors; ++v) {
        const W::V p0 = W::mul(c0[v], m0), p1 = W::mul(c2[v], m1);
        c0[v] = W::xor3(W::high(p1), c1[v], key0);
        c2[v] = W::xor3(W::high(p0), c3[v], key1);
        c1[v] = p1;
        c3[v] = p0;
      }
      k0 += kPhiloxW0, k1 += kPhiloxW1;
    }
    for (int v = 0; v < kVectors; ++v) {
      const int l = g + v * W::kLanes;
      W::store_low(out + l, c0[v]);
      W::store_low(out + kPhiloxLanes + l, c1[v]);
      W::store_low(out + 2 * kPhiloxLanes + l, c2[v]);
      W::store_low(out + 3 * kPhiloxLanes + l, c3[v]);
    }
  }
#else
  uint32_t c0[kPhiloxLanes], c1[kPhiloxLanes], c2[kPhiloxLanes], c3[kPhiloxLanes];
  for (int l = 0; l < kPhiloxLanes; ++l) {
    c0[l] = uint32_t(first) + uint32_t(l);
    c1[l] = uint32_t(first >> 32);
    c2[l] = uint32_t(step);
    c3[l] = uint32_t(step >> 32);
  }
  uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
  for (int round = 0; round < 10; ++round) {
#pragma omp simd
    for (int l = 0; l < kPhiloxLanes; ++l) {
      uint64_t p0 = uint64_t(kPhiloxM0) * c0[l], p1 = uint64_t(kPhiloxM1) * c2[l];
      uint32_t n0 = uint32_t(p1 >> 32) ^ c1[l] ^ k0, n2 = uint32_t(p0 >> 32) ^ c3[l] ^ k1;
      c0[l] = n0, c1[l] = uint32_t(p1), c2[l] = n2, c3[l] = uint32_t(p0);
    }
    k0 += kPhiloxW0, k1 += kPhiloxW1;
  }
  for (int l = 0; l < kPhiloxLanes; ++l) {
    out[l] = c0[l];
    out[kPhiloxLanes + l] = c1[l];
    out[2 * kPhiloxLanes + l] = c2[l];
    out[3 * kPhiloxLanes + l] = c3[l];
  }
#endif
}

}  // namespace pycnn
