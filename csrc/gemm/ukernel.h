// ukernel.h — the GEMM micro-kernel contract shared by every ISA.
//
// A micro-kernel computes one MR x NR tile of C over a K-slice of length kc:
//
//   C[i, j] = alpha * sum_p A(i, p) * B(p, j) + beta * C[i, j]     i < MR, j < n
//
// * A is read in place (or from an MR-row copy): A(i, p) = a[i*lda + p] (row-major) or
//   a[p*lda + i] (trans_a). Each table holds one kernel per row count
//   1..mr_max, so edge tiles cost no padding and no copies.
// * B is a panel of NR columns: B(p, j) = b[p*ldb + j] for j < NR. It is
//   either read in place (row-major B with a full panel) or packed (pack.cpp)
//   with ldb == NR and zeros beyond column n.
// * beta == 0 never reads C (it may hold NaN). Only columns j < n are stored.
// * If bias is set, bias[j] is added after alpha/beta; then `act` (none,
//   relu, leaky_relu) is applied. The driver passes them on the last K-slice
//   only, and applies the other activations itself.
#pragma once

#include <cstdint>

namespace pycnn::gemm_detail {

enum class TileAct : int { kNone = 0, kRelu = 1, kLeakyRelu = 2 };

struct TileArgs {
  int64_t kc;
  const float* a;
  int64_t lda;
  const float* b;
  int64_t ldb;
  float* c;
  int64_t ldc;
  int n;  // valid columns, 1..NR
  float alpha, beta;
  const float* bias;  // offset to the tile's first column, or nullptr
  TileAct act;
  float act_alpha;
  // Floats ahead of the current B row to prefetch towards L2 as well, for B
  // streamed from memory in place (0: the current row, i.e. nothing new).
  // The dot-product kernels prefetch rows j < NR from b + far_prefetch
  // along k (0: none).
  int64_t far_prefetch = 0;
  // Prefetch the tile's C lines before the K loop (C too large to stay in
  // cache: its reads or read-for-ownership would stall the stores).
  bool prefetch_c = false;
};

using Ukernel = void (*)(const TileArgs&);

constexpr int kMaxMr = 16;

struct UkernelTable {
  int nr = 0;
  int mr_max = 0;
  Ukernel normal[kMaxMr + 1] = {};   // [mr], row-major A
  Ukernel trans_a[kMaxMr + 1] = {};  // [mr], transposed A
};

// Dot-product kernels for C = A * B^T with A and B both read along k
// (row-major A, trans_b): kernel[r][c] computes an r x c block of C over the
// whole of k (kc = k, no slicing), with alpha/beta/bias/act as above; `n` is
// unused. A(i, p) = a[i*lda + p], B(p, j) = b[j*ldb + p].
constexpr int kMaxDot = 8;
struct DotTable {
  int mr = 0, nr = 0;
  Ukernel kernel[kMaxDot + 1][kMaxDot + 1] = {};
};

// Packs transposed B (B(p, j) = b[j*ldb + p]) into one panel, as
// pack_b_panel does; nr is a multiple of the ISA's vector width.
using PackBTransposed = void (*)(float* dst, const float* b, int64_t ldb, int64_t kc, int n, int nr);

// Per ISA: a wide table (more columns per tile), a narrow one for matrices
// with few columns (conv layers with 16 output channels, say), the
// dot-product table for small-M A * B^T and, where it has one, a vector
// transposing pack (else nullptr: pack.cpp's scalar loop).
struct IsaUkernels {
  UkernelTable wide, narrow;
  DotTable dot;
  PackBTransposed pack_b_transposed = nullptr;
};

const IsaUkernels& ukernels_portable();
const IsaUkernels* ukernels_avx2();    // nullptr when not built for x86
const IsaUkernels* ukernels_avx512();  // nullptr when not built for x86

// Packs B(p, j), p < kc, j < n (n <= nr) into dst[p*nr + j], zero-padding
// columns n..nr-1. B(p, j) = b[p*ldb + j], or b[j*ldb + p] if trans_b.
void pack_b_panel(float* dst, const float* b, int64_t ldb, bool trans_b, int64_t kc, int n, int nr);

// Packs the panels covering columns 0..n-1 of B (any n), panel q at
// dst + q * panel_stride; row-major B is read one row at a time, transposed
// B through `transposed` when given.
void pack_b_panels(float* dst, int64_t panel_stride, const float* b, int64_t ldb, bool trans_b, int64_t kc,
                   int64_t n, int nr, PackBTransposed transposed = nullptr);

// Copies rows i < rows of a row-major A slice (A(i, p) = a[i*lda + p],
// p < kc) to dst[p*mr + i]: the transposed-A layout with leading dim mr.
void pack_a_panel(float* dst, const float* a, int64_t lda, int64_t kc, int rows, int mr);

}  // namespace pycnn::gemm_detail
