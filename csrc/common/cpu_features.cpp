// cpu_features.cpp — CPUID/XGETBV probing for run-time kernel dispatch.
#include "common/cpu_features.h"

#include <atomic>

#include "common/check.h"

#if defined(PYCNN_X86)
#include <cpuid.h>
#endif

namespace pycnn {
namespace {

#if defined(PYCNN_X86)
unsigned long long read_xcr0() {
  unsigned eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}

CpuFeatures probe() {
  CpuFeatures f;
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return f;
  f.amd = ebx == 0x68747541 && edx == 0x69746e65 && ecx == 0x444d4163;  // "Auth" "enti" "cAMD"
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  bool osxsave = ecx & (1u << 27), fma = ecx & (1u << 12);
  if (!osxsave) return f;
  unsigned long long xcr0 = read_xcr0();
  bool ymm_state = (xcr0 & 0x6) == 0x6;
  bool zmm_state = (xcr0 & 0xe6) == 0xe6;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return f;
  bool avx2 = ebx & (1u << 5);
  bool avx512f = ebx & (1u << 16), avx512dq = ebx & (1u << 17);
  bool avx512bw = ebx & (1u << 30), avx512vl = ebx & (1u << 31);
  f.avx2_fma = avx2 && fma && ymm_state;
  f.avx512 = f.avx2_fma && avx512f && avx512dq && avx512bw && avx512vl && zmm_state;
  return f;
}
#else
CpuFeatures probe() { return {}; }
#endif

std::atomic<int> forced_isa{-1};

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = probe();
  return features;
}

bool isa_supported(Isa isa) {
  switch (isa) {
    case Isa::kPortable: return true;
    case Isa::kAvx2: return cpu_features().avx2_fma;
    case Isa::kAvx512: return cpu_features().avx512;
  }
  return false;
}

Isa best_isa() {
  if (isa_supported(Isa::kAvx512)) return Isa::kAvx512;
  if (isa_supported(Isa::kAvx2)) return Isa::kAvx2;
  return Isa::kPortable;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return "avx512";
    case Isa::kAvx2: return "avx2";
    case Isa::kPortable: return "portable";
  }
  return "unknown";
}

void set_forced_isa(Isa isa) {
  check(isa_supported(isa), "set_isa", "instruction set ", isa_name(isa), " is not supported by this CPU");
  forced_isa.store(static_cast<int>(isa));
}

void clear_forced_isa() { forced_isa.store(-1); }

Isa active_isa() {
  int f = forced_isa.load();
  return f < 0 ? best_isa() : static_cast<Isa>(f);
}

}  // namespace pycnn
