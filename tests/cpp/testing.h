// testing.h — a minimal harness for the C++ unit tests (run by ctest).
//
// CHECK records a failure and carries on; main() returns non-zero if any
// check failed. GuardedBuffer puts a band of sentinel values after the
// data so that a kernel writing past its end is caught.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "common/cpu_features.h"

namespace pycnn::testing {

inline int& failures() {
  static int count = 0;
  return count;
}

#define CHECK(cond, ...)                                              \
  do {                                                                \
    if (!(cond)) {                                                    \
      ++::pycnn::testing::failures();                                 \
      std::fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                              \
      std::fprintf(stderr, "\n");                                     \
    }                                                                 \
  } while (0)

class GuardedBuffer {
 public:
  static constexpr int kGuard = 64;
  static constexpr float kSentinel = -12345.678f;

  GuardedBuffer(size_t count, float fill) : count_(count), data_(count + kGuard, kSentinel) {
    for (size_t i = 0; i < count; ++i) data_[i] = fill;
  }
  float* data() { return data_.data(); }
  float& operator[](size_t i) { return data_[i]; }
  bool guard_intact() const {
    for (size_t i = count_; i < data_.size(); ++i)
      if (std::memcmp(&data_[i], &kSentinel, sizeof(float)) != 0) return false;
    return true;
  }

 private:
  size_t count_;
  std::vector<float> data_;
};

// The ISAs this CPU supports, naming the ones it skips.
inline std::vector<Isa> supported_isas() {
  std::vector<Isa> isas;
  for (Isa isa : {Isa::kPortable, Isa::kAvx2, Isa::kAvx512}) {
    if (isa_supported(isa))
      isas.push_back(isa);
    else
      std::printf("skipping %s: not supported by this CPU\n", isa_name(isa));
  }
  return isas;
}

inline int finish(const char* name) {
  if (failures()) {
    std::fprintf(stderr, "%s: %d check(s) failed\n", name, failures());
    return 1;
  }
  std::printf("%s: all checks passed\n", name);
  return 0;
}

}  // namespace pycnn::testing
