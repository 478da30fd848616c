// cpu_features.h — which SIMD instruction sets this CPU (and OS) supports.
// Read once at first use; kernels pick their micro-kernel from it.
#pragma once

namespace pycnn {

enum class Isa { kPortable = 0, kAvx2 = 1, kAvx512 = 2 };

struct CpuFeatures {
  bool avx2_fma = false;  // AVX2 + FMA3, with OS support for YMM state
  bool avx512 = false;    // AVX-512 F/DQ/BW/VL, with OS support for ZMM state
  bool amd = false;       // vendor AuthenticAMD: some shape thresholds were measured on both vendors and differ
};

const CpuFeatures& cpu_features();
Isa best_isa();                   // the best ISA both CPU and build support
const char* isa_name(Isa isa);    // "avx512", "avx2", "portable"
bool isa_supported(Isa isa);      // usable on this machine

// Forces kernels onto `isa` (for tests and benchmarks); must be supported.
void set_forced_isa(Isa isa);
void clear_forced_isa();
Isa active_isa();                 // forced ISA if set, else best_isa()

}  // namespace pycnn
