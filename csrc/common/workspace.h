// workspace.h — grow-once scratch memory.
//
// Kernels need scratch (packed GEMM panels, im2col tiles, partial sums). A
// Workspace grows to the largest request it has seen and is then reused, so
// steady-state training allocates nothing. thread_scratch() hands each thread
// (OpenMP worker or Python caller) its own buffers, which keeps concurrent
// calls from different Python threads safe without locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace pycnn {

constexpr std::size_t kAlignment = 64;  // one cache line, one zmm register

class Workspace {
 public:
  Workspace() = default;
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  ~Workspace() { std::free(data_); }

  // At least `count` floats, 64-byte aligned; contents are unspecified.
  float* floats(std::size_t count) { return static_cast<float*>(bytes(count * sizeof(float))); }

  void* bytes(std::size_t size) {
    if (size > capacity_) {
      std::size_t rounded = (size + kAlignment - 1) / kAlignment * kAlignment;
      void* fresh = std::aligned_alloc(kAlignment, rounded);
      if (!fresh) throw std::bad_alloc();
      std::free(data_);
      data_ = fresh;
      capacity_ = rounded;
    }
    return data_;
  }

 private:
  void* data_ = nullptr;
  std::size_t capacity_ = 0;
};

// Per-thread scratch slots. A slot number names one use, so a caller that
// needs two buffers at once (say packed A and packed B) asks for two slots.
enum ScratchSlot : int {
  kScratchGemmA = 0,
  kScratchGemmB,
  kScratchIm2col,
  kScratchPartial,
  kScratchMisc,
  kScratchConvPool,  // one image's convolution output, pooled before the next image
  kScratchWinograd,  // a transformed weight, shared by the images of one call
  kScratchGemmTurned,  // C^T of a tiny-N GEMM (gemm.cpp), computed before C
  kScratchSlotCount
};

inline Workspace& thread_scratch(ScratchSlot slot) {
  thread_local Workspace slots[kScratchSlotCount];
  return slots[slot];
}

// An owning, aligned float buffer for results that outlive one call.
class AlignedBuffer {
 public:
  explicit AlignedBuffer(std::size_t count = 0) { resize(count); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer() { std::free(data_); }
  void resize(std::size_t count) {
    std::free(data_);
    data_ = nullptr;
    size_ = count;
    if (count == 0) return;
    std::size_t bytes = (count * sizeof(float) + kAlignment - 1) / kAlignment * kAlignment;
    data_ = static_cast<float*>(std::aligned_alloc(kAlignment, bytes));
    if (!data_) throw std::bad_alloc();
  }
  float* data() { return data_; }
  const float* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  float* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace pycnn
