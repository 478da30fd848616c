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

// The 64 words of block `block`: counter lane l is (16*block + l, step),
// key = seed; out[j*16 + l] = word j of lane l. 16*block + l never carries
// into the high word, so the high word is shared by the block.
static inline void philox_block(uint32_t* __restrict out, uint64_t block, uint64_t seed, uint64_t step) {
  const uint64_t first = block * kPhiloxLanes;
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
}

}  // namespace pycnn
