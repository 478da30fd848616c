// elementwise_impl.h — element-wise activation math, written once as plain
// branch-free loops and compiled once per instruction set. Each including
// file defines PYCNN_ISA_NAMESPACE first, so the copies built with different
// target flags live in different namespaces and the linker never mixes them.
//
// Fast exp (exp_approx): x = n·ln2 + r with |r| <= ln2/2 (Cody–Waite split of
// ln2, rounding by the 1.5·2^23 trick), exp(r) = 1 + expm1(r) by a degree-7
// Taylor polynomial (truncation < 2e-8 relative), scaled by 2^n as two powers
// of two so the whole range [-104, 89] is covered, subnormal results
// included. x >= 88.73 gives +inf, x <= -104 gives 0, NaN gives NaN. expm1 on
// x <= 0 reuses the polynomial: expm1(x) = 2^n·expm1(r) + (2^n - 1), exact at
// n = 0, so elu and tanh keep full relative accuracy near 0.
// Measured (tests/test_activations.py checks the bounds): exp <= 1.04 ulp
// over [-87.3, 88.7], elu(x < 0) <= 0.81 ulp, sigmoid <= 2.2 ulp, tanh <= 2.5
// ulp, the same on every ISA. An AVX-512 intrinsics variant (vscalefps,
// vrcp14ps + Newton instead of vdivps) measured 10% slower than this
// auto-vectorised code on the development machine and was dropped.
#include <cstdint>
#include <cstring>
#include <limits>

#include "activations/kernel_table.h"

// The selects in these loops (relu, elu, leaky_relu) guard arithmetic that
// cannot trap in any way we care about (FP exceptions stay masked); telling
// GCC so lets it if-convert and vectorise them without AVX-512 masking.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

namespace pycnn {
namespace PYCNN_ISA_NAMESPACE {
namespace {

inline float as_float(uint32_t i) {
  float f;
  std::memcpy(&f, &i, sizeof f);
  return f;
}
inline uint32_t as_bits(float f) {
  uint32_t i;
  std::memcpy(&i, &f, sizeof i);
  return i;
}

constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;      // 9 significant bits: n·kLn2Hi is exact
constexpr float kLn2Lo = -2.12194440e-4f;   // ln 2 - kLn2Hi
constexpr float kRound = 12582912.f;        // 1.5·2^23: t + kRound rounds t to an integer
constexpr float kInf = std::numeric_limits<float>::infinity();

// expm1(r) for |r| <= ln2/2: r + r^2·(1/2 + r/6 + ... + r^5/5040).
inline float expm1_poly(float r) {
  float p = 1.f / 5040.f;
  p = p * r + 1.f / 720.f;
  p = p * r + 1.f / 120.f;
  p = p * r + 1.f / 24.f;
  p = p * r + 1.f / 6.f;
  p = p * r + 0.5f;
  return r + (r * r) * p;
}

// x = n·ln2 + r for finite x with |x·log2e| < 2^22.
inline float reduce(float x, int32_t& n) {
  float t = x * kLog2e + kRound;
  n = int32_t(as_bits(t) - as_bits(kRound));
  float nf = t - kRound;
  float r = x - nf * kLn2Hi;
  return r - nf * kLn2Lo;
}

inline float pow2(int32_t n) { return as_float(uint32_t(n + 127) << 23); }  // -126 <= n <= 127

// Branch-free so every ISA's compiler can vectorise it. The clamps keep NaN
// (the comparisons fail), and NaN then flows through the arithmetic. Inputs
// clamped to 89 overflow to +inf in the final scaling; inputs clamped to
// -104 round to 0.
inline float exp_approx(float x) {
  float xc = x > 89.f ? 89.f : x;
  xc = xc < -104.f ? -104.f : xc;
  int32_t n;
  float r = reduce(xc, n);
  int32_t n1 = n >> 1, n2 = n - n1;  // 2^n = 2^n1·2^n2, each factor a normal float
  return (1.f + expm1_poly(r)) * pow2(n1) * pow2(n2);
}

// expm1(x) for x <= 0 (positive x give 0): 2^n·expm1(r) + (2^n - 1).
inline float expm1_nonpositive(float x) {
  float xc = x < -88.f ? -88.f : x;  // below -88 the result is -1 in float
  xc = xc > 0.f ? 0.f : xc;
  int32_t n;
  float r = reduce(xc, n);
  float s = pow2(n);  // n >= -127; n = -127 gives 0 and the result -1
  return s * expm1_poly(r) + (s - 1.f);
}

// tanh(|x|) = -e/(2 + e) with e = expm1(-2|x|): no cancellation near 0,
// saturates to exactly 1 where e rounds to -1; the sign is copied from x.
inline float tanh_approx(float x) {
  float a = as_float(as_bits(x) & 0x7fffffffu);
  float e = expm1_nonpositive(-2.f * a);
  float t = -e / (2.f + e);
  return as_float((as_bits(t) & 0x7fffffffu) | (as_bits(x) & 0x80000000u));
}

inline float sigmoid_approx(float x) { return 1.f / (1.f + exp_approx(-x)); }

template <typename F>
inline void map_unary(float* y, const float* x, int64_t n, F f) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

template <typename F>
inline void map_binary(float* z, const float* a, const float* b, int64_t n, F f) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) z[i] = f(a[i], b[i]);
}

void forward(float* y, const float* x, int64_t n, ActivationSpec a) {
  const float alpha = a.alpha;
  switch (a.kind) {
    case Activation::kNone:
      if (y != x) std::memcpy(y, x, sizeof(float) * size_t(n));
      return;
    case Activation::kRelu:  // x > 0 ? x : 0, keeping NaN
      return map_unary(y, x, n, [](float v) { return v > 0.f || v != v ? v : 0.f; });
    case Activation::kLeakyRelu:
      return map_unary(y, x, n, [=](float v) { return v < 0.f ? v * alpha : v; });
    case Activation::kElu:  // Keras: x >= 0 ? x : alpha·expm1(x)
      return map_unary(y, x, n, [=](float v) { return v >= 0.f ? v : alpha * expm1_nonpositive(v); });
    case Activation::kSigmoid:
      return map_unary(y, x, n, [](float v) { return sigmoid_approx(v); });
    case Activation::kTanh:
      return map_unary(y, x, n, [](float v) { return tanh_approx(v); });
  }
}

// The derivative from the output: relu y > 0; leaky_relu (slope > 0) y > 0;
// elu (alpha > 0) y >= 0 ? 1 : y + alpha; sigmoid y(1-y); tanh (1-y)(1+y)
// (1 - y and 1 + y are exact near |y| = 1, where 1 - y^2 would cancel).
void backward_from_output(float* dx, const float* dy, const float* y, int64_t n, ActivationSpec a) {
  const float alpha = a.alpha;
  switch (a.kind) {
    case Activation::kNone:
      if (dx != dy) std::memcpy(dx, dy, sizeof(float) * size_t(n));
      return;
    case Activation::kRelu:
      return map_binary(dx, dy, y, n, [](float g, float v) { return v > 0.f ? g : 0.f; });
    case Activation::kLeakyRelu:
      return map_binary(dx, dy, y, n, [=](float g, float v) { return v > 0.f ? g : g * alpha; });
    case Activation::kElu:
      return map_binary(dx, dy, y, n, [=](float g, float v) { return v >= 0.f ? g : g * (v + alpha); });
    case Activation::kSigmoid:
      return map_binary(dx, dy, y, n, [](float g, float v) { return g * (v * (1.f - v)); });
    case Activation::kTanh:
      return map_binary(dx, dy, y, n, [](float g, float v) { return g * ((1.f - v) * (1.f + v)); });
  }
}

// The derivative from the input (Keras' kinks: relu' (0) = 0, elu'(0) = 1).
void backward_from_input(float* dx, const float* dy, const float* x, int64_t n, ActivationSpec a) {
  const float alpha = a.alpha;
  switch (a.kind) {
    case Activation::kNone:
    case Activation::kRelu:
    case Activation::kLeakyRelu:
      return backward_from_output(dx, dy, x, n, a);  // same sign test on x as on y
    case Activation::kElu:
      return map_binary(dx, dy, x, n, [=](float g, float v) {
        return v >= 0.f ? g : g * (alpha * exp_approx(v < 0.f ? v : 0.f));
      });
    case Activation::kSigmoid:
      return map_binary(dx, dy, x, n, [](float g, float v) {
        float s = sigmoid_approx(v);
        return g * (s * (1.f - s));
      });
    case Activation::kTanh:
      return map_binary(dx, dy, x, n, [](float g, float v) {
        float t = tanh_approx(v);
        return g * ((1.f - t) * (1.f + t));
      });
  }
}

void exp_array(float* y, const float* x, int64_t n) { map_unary(y, x, n, exp_approx); }

float max_of(const float* x, int64_t n) {
  float m = -kInf;
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

float exp_shifted_sum(float* y, const float* x, float shift, int64_t n) {
  float sum = 0.f;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) {
    float e = exp_approx(x[i] - shift);
    y[i] = e;
    sum += e;
  }
  return sum;
}

float dot(const float* a, const float* b, int64_t n) {
  float sum = 0.f;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void softmax_rows(float* y, const float* x, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float inv = 1.f / exp_shifted_sum(yr, xr, max_of(xr, cols), cols);
#pragma omp simd
    for (int64_t i = 0; i < cols; ++i) yr[i] *= inv;
  }
}

void softmax_backward_rows(float* dx, const float* dy, const float* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* gr = dy + r * cols;
    const float* yr = y + r * cols;
    float* dr = dx + r * cols;
    float s = dot(gr, yr, cols);
#pragma omp simd
    for (int64_t i = 0; i < cols; ++i) dr[i] = yr[i] * (gr[i] - s);
  }
}

}  // namespace

const ElementwiseTable kTable = {forward,          backward_from_output, backward_from_input,
                                 exp_array,        max_of,               exp_shifted_sum,
                                 softmax_rows,     softmax_backward_rows};

}  // namespace PYCNN_ISA_NAMESPACE
}  // namespace pycnn
