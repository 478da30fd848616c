// dense.cpp — dense forward/backward as single GEMM calls.
//
// The GEMM parallelises over M and N and never splits K, so dweight (whose K
// is the batch) is summed in one fixed order for any thread count.
#include "dense/dense.h"

#include <algorithm>
#include <cstring>

#include "common/check.h"
#include "common/parallel.h"
#include "common/workspace.h"
#include "gemm/gemm.h"

namespace pycnn {
namespace {
// When dense_backward_input computes the transposed product (see there):
// measured faster for rows <= 32 once the weight has 64K elements, slower
// for 64+ rows, and slower than the dot-product route once the weight
// streams from memory (faces 10752x512 at batch 16: dx + dweight 9.2-11.9
// -> 7.7-9.6 ms; CIFAR 4096x128 at batch 32 stays transposed, 2x faster).
constexpr int64_t kTransposedMaxRows = 32;
constexpr int64_t kTransposedMinWeights = int64_t(1) << 16;
constexpr int64_t kTransposedMaxWeights = int64_t(1) << 21;  // 8 MiB of weight
}  // namespace

DenseShape dense_shape(const std::vector<int64_t>& x_shape, int64_t weight_in, int64_t weight_out,
                       int64_t bias_size) {
  const char* op = "dense";
  const auto xs = shape_str(x_shape.begin(), x_shape.end());
  check(x_shape.size() >= 2, op, "expected x of rank >= 2 (batch, ..., features), got shape ", xs);
  check(weight_in >= 1 && weight_out >= 1, op, "kernel dimensions must be >= 1, got kernel of shape (",
        weight_in, ", ", weight_out, ")");
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < x_shape.size(); ++i) {
    check(x_shape[i] >= 0, op, "negative dimension in x.shape=", xs);
    rows = checked_mul(rows, x_shape[i], op);
  }
  int64_t in = x_shape.back();
  check(in == weight_in, op, "kernel of shape (", weight_in, ", ", weight_out, ") expects ", weight_in,
        " input features, got x with ", in, " (x.shape=", xs, ")");
  check(bias_size < 0 || bias_size == weight_out, op, "bias of size ", bias_size,
        " does not match the ", weight_out, " output units of the kernel (", weight_in, ", ",
        weight_out, ")");
  checked_product(op, rows, std::max(in, weight_out));
  checked_product(op, weight_in, weight_out);
  return {rows, in, weight_out};
}

void dense_forward(float* y, const float* x, const float* weight, const float* bias,
                   const DenseShape& s, const ActivationSpec& act) {
  if (s.rows == 0) return;
  // y[rows, out] = x[rows, in] · weight[in, out], + bias, activation
  GemmEpilogue ep;
  ep.bias = bias;
  ep.activation = act;
  sgemm(false, false, s.rows, s.out, s.in, 1.f, x, s.in, weight, s.out, 0.f, y, s.out, ep);
}

void dense_backward_input(float* dx, const float* dy, const float* weight, const DenseShape& s) {
  if (s.rows == 0) return;
  const int64_t weights = s.in * s.out;
  if (s.rows > kTransposedMaxRows || weights < kTransposedMinWeights || weights > kTransposedMaxWeights) {
    // dx[rows, in] = dy[rows, out] · weight^T[out, in] (up to 32 rows: the
    // dot-product kernels, weight rows streamed once)
    sgemm(false, true, s.rows, s.in, s.out, 1.f, dy, s.out, weight, s.out, 0.f, dx, s.in);
    return;
  }
  // A few rows against a large weight: as the GEMM's B operand the weight
  // would be packed transposed (strided reads of the whole matrix); as A its
  // rows are read in order. Measured at 1 thread, batch 16, 10752 -> 512:
  // 11.8 ms -> 4.9 ms. The small result is transposed afterwards.
  // dxT[in, rows] = weight[in, out] · dy^T[out, rows]
  float* dxt = thread_scratch(kScratchMisc).floats(size_t(s.in * s.rows));
  sgemm(false, true, s.in, s.rows, s.out, 1.f, weight, s.out, dy, s.out, 0.f, dxt, s.rows);
  constexpr int64_t kBlock = 256;  // dxt rows per block: stays in L1 while each dx row is written
  for (int64_t i0 = 0; i0 < s.in; i0 += kBlock) {
    const int64_t i1 = std::min(s.in, i0 + kBlock);
    for (int64_t r = 0; r < s.rows; ++r) {
      float* __restrict d = dx + r * s.in;
      const float* __restrict t = dxt + r;
      for (int64_t i = i0; i < i1; ++i) d[i] = t[i * s.rows];
    }
  }
}

void dense_backward_weight(float* dweight, float* dbias, const float* dy, const float* x,
                           const DenseShape& s) {
  if (s.rows == 0) {
    std::memset(dweight, 0, sizeof(float) * s.in * s.out);
  } else {
    // dweight[in, out] = x^T[in, rows] · dy[rows, out]
    sgemm(true, false, s.in, s.out, s.rows, 1.f, x, s.in, dy, s.out, 0.f, dweight, s.out);
  }
  if (dbias) column_sums(dbias, dy, s.rows, s.out);
}

void column_sums(float* out, const float* a, int64_t rows, int64_t cols) {
  // About 64 KiB of `a` per chunk: big enough to amortise the fork, a
  // function of the problem only.
  FixedChunks chunks = fixed_chunks(rows, std::max<int64_t>(8, (int64_t(1) << 14) / std::max<int64_t>(cols, 1)));
  if (chunks.count <= 1) {
    std::fill(out, out + cols, 0.f);
    for (int64_t r = 0; r < rows; ++r) {
      const float* ar = a + r * cols;
#pragma omp simd
      for (int64_t j = 0; j < cols; ++j) out[j] += ar[j];
    }
    return;
  }
  float* partial = thread_scratch(kScratchMisc).floats(size_t(chunks.count * cols));
  auto sum_chunk = [&](int64_t i) {
    float* p = partial + i * cols;
    std::fill(p, p + cols, 0.f);
    for (int64_t r = chunks.begin(i); r < chunks.end(i); ++r) {
      const float* ar = a + r * cols;
#pragma omp simd
      for (int64_t j = 0; j < cols; ++j) p[j] += ar[j];
    }
  };
  if (rows * cols < kSerialElementwise) {
    for (int64_t i = 0; i < chunks.count; ++i) sum_chunk(i);
  } else {
    parallel_for_chunks(chunks.count, sum_chunk);
  }
  std::copy(partial, partial + cols, out);
  for (int64_t i = 1; i < chunks.count; ++i) {
    const float* p = partial + i * cols;
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) out[j] += p[j];
  }
}

}  // namespace pycnn
