// gemm.cpp — the SGEMM driver: blocking, B packing, threads, epilogue.
//
// BLIS-style loops, with one twist for the tall-skinny matrices convolutions
// produce (M = N*OH*OW rows, N = 16..64 columns): A is not packed. The
// micro-kernel broadcasts A straight from its row-major (or transposed)
// storage, so an im2col matrix is read exactly once; only B is packed, and
// only when it must be (transposed, long rows, or a partial last panel).
// A is copied to MR-row panels only when its rows alias in L1 (lda % 256).
//
// Small M (dense layers at training batch sizes) takes two other routes:
// A * B^T with m <= 32 runs on dot-product kernels (both operands read
// along k, nothing packed); with m <= 16 and row-major B, B is read in place
// and each tile prefetches its columns of the next K slice into L2 while it
// computes this one.
//
// Few columns fill few of a tile's lanes (n = 2: 2 of 16), so such products
// are turned around: with n < 16 and m >= 32, C^T = op(B)^T op(A)^T is
// computed with the m rows along the lanes and stored transposed.
// Transposed A is then read in place (mnist dense 64->10 d-weight: 1.60 ->
// 1.00 us); row-major A is packed transposed, so only while that copy stays
// in L2 (64x64 @ 64x10: 1.61 -> 1.35 us). Row-major A with n <= 4 and
// k >= 64 takes the dot-product kernels instead, over a copy of B^T (dense
// 128->2 forward: 1.16 -> 0.27 us).
//
//   jc: columns in blocks of NC    (the B block kc x NC stays in L2)
//   pc: K in slices of KC          (C accumulates across slices, in order)
//   ic/jr/ir: MR x NR tiles, ir-major, so a tile's A rows (MR x KC, in L1)
//             serve every column panel before moving on.
//
// Threads split the tiles of each (jc, pc) step; K is never split, so every
// C element sums its products in the same order for any thread count.
#include "gemm/gemm.h"

#include <algorithm>

#include "common/check.h"
#include "common/parallel.h"
#include "common/workspace.h"
#include "gemm/ukernel.h"

namespace pycnn {
namespace {

using gemm_detail::DotTable;
using gemm_detail::IsaUkernels;
using gemm_detail::TileAct;
using gemm_detail::TileArgs;
using gemm_detail::UkernelTable;

constexpr int64_t kKc = 384;  // K slice (measured: 384 beats 128/256 on the conv shapes)
constexpr int64_t kBBlockBytes = 384 * 1024;      // B block kc x NC: part of L2
// Below this a fork does not pay. Measured with warm threads: the 2.1 MFLOP
// dense shapes run 1.3-1.7x faster on 2 threads, 0.5 MFLOP ones break even.
constexpr double kParallelFlops = 1.0e6;
constexpr int64_t kSmallM = 16;      // up to here B streams in place (face dense 10752->512 at batch 16: 22 -> 34 GFLOP/s)
constexpr int64_t kKcStream = 192;   // K slice when B streams in place (two slices of 512 columns fit L2)
constexpr int64_t kDotMaxM = 32;     // A * B^T up to this many rows runs on the dot-product kernels
constexpr int64_t kDotMinK = 64;     // ... when k gives the lanes enough to sum before the horizontal add
constexpr int64_t kTinyN = 4;        // up to here row-major A runs on the dot-product kernels
constexpr int64_t kTurnN = 16;       // below this, with twice as many rows, a product is turned around
constexpr int64_t kTurnCopyFloats = int64_t(1) << 16;  // row-major A if its transposed copy stays in L2
constexpr int64_t kPackedASliceFloats = int64_t(4) << 20;  // A copied per K slice up to 16 MiB
// C beyond this many bytes comes from memory: each tile prefetches its C
// lines before its K loop (TileArgs::prefetch_c). In-process A/B, Zen 4:
// face dense d-weight (10752 x 512 from k = 16, 22 MB) 7-9 % faster at 1
// and 2 threads, 2048^3 (16 MB) 1-1.5 %; with C in L2 or L3 the same
// prefetches cost 2-5 % (4096 x 128 from k = 32, 512 x 128 from k = 16).
constexpr int64_t kFarCBytes = int64_t(8) << 20;

const IsaUkernels& kernels_for(Isa isa) {
  if (isa == Isa::kAvx512 && gemm_detail::ukernels_avx512()) return *gemm_detail::ukernels_avx512();
  if (isa != Isa::kPortable && gemm_detail::ukernels_avx2()) return *gemm_detail::ukernels_avx2();
  return gemm_detail::ukernels_portable();
}

TileAct tile_act(const ActivationSpec& a) {
  if (a.kind == Activation::kRelu) return TileAct::kRelu;
  if (a.kind == Activation::kLeakyRelu) return TileAct::kLeakyRelu;
  return TileAct::kNone;
}

// Activations the micro-kernel does not fuse are applied to the finished tile.
void finish_tile(float* c, int64_t ldc, int rows, int cols, const ActivationSpec& a) {
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) c[i * ldc + j] = apply_activation(c[i * ldc + j], a);
}

// k == 0: the product is empty, C = beta * C, then the epilogue.
void scale_only(int64_t m, int64_t n, float beta, float* c, int64_t ldc, const GemmEpilogue& ep) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float v = beta == 0.f ? 0.f : beta * c[i * ldc + j];
      if (ep.bias) v += ep.bias[j];
      c[i * ldc + j] = apply_activation(v, ep.activation);
    }
}

// C = A * B^T for small M through the dot-product kernels (ukernel.h):
// the work items are (column group of NR, row tile), group-major, split over
// the threads in contiguous ranges, so a group's B rows are read from memory
// once (twice where a range boundary falls inside the group).
void sgemm_dot(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda, const float* b,
               int64_t ldb, float beta, float* c, int64_t ldc, const GemmEpilogue& ep, const DotTable& dot) {
  const TileAct in_kernel_act = tile_act(ep.activation);
  const bool post_act = ep.activation.kind != Activation::kNone && in_kernel_act == TileAct::kNone;
  const int64_t groups = (n + dot.nr - 1) / dot.nr, row_tiles = (m + dot.mr - 1) / dot.mr;
  auto run = [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t gi = t / row_tiles, i0 = (t % row_tiles) * dot.mr, j0 = gi * dot.nr;
      const int cols = int(std::min<int64_t>(dot.nr, n - j0));
      const int rows = int(std::min<int64_t>(dot.mr, m - i0));
      TileArgs g;
      g.kc = k;
      g.a = a + i0 * lda;
      g.lda = lda;
      g.b = b + j0 * ldb;
      g.ldb = ldb;
      g.c = c + i0 * ldc + j0;
      g.ldc = ldc;
      g.n = cols;
      g.alpha = alpha;
      g.beta = beta;
      g.bias = ep.bias ? ep.bias + j0 : nullptr;
      g.act = in_kernel_act;
      g.act_alpha = ep.activation.alpha;
      // The next column group's B rows stream in (towards L2) while this
      // group is summed, if this thread takes that group too: faces dense
      // 16x512 . (10752x512)^T, 5.5 -> 3.5-4.6 ms.
      if ((gi + 1) * row_tiles < t1) g.far_prefetch = dot.nr * ldb;
      dot.kernel[rows][cols](g);
      if (post_act) finish_tile(g.c, ldc, rows, cols, ep.activation);
    }
  };
  const double flops = 2.0 * double(m) * double(n) * double(k);
  if (flops < kParallelFlops) return run(0, groups * row_tiles);
  parallel_for(groups * row_tiles, 1, run);
}

// B^T (n x k, row-major) from row-major B (k x n) into `bt`.
void transpose_b(float* bt, const float* b, int64_t ldb, int64_t k, int64_t n) {
  for (int64_t p = 0; p < k; ++p)
    for (int64_t j = 0; j < n; ++j) bt[j * k + p] = b[p * ldb + j];
}

// C = op(A) op(B) with n < kTurnN <= m / 2, computed as C^T = op(B)^T op(A)^T
// (m along the lanes, so the inner call is not turned again) into scratch,
// then stored transposed with beta, bias and activation.
void sgemm_turned(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                  int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
                  const GemmEpilogue& ep) {
  float* ct = thread_scratch(kScratchGemmTurned).floats(size_t(n * m));
  // op(B)^T is B itself when B is stored transposed, else B read as
  // transposed; op(A)^T likewise (row-major A is packed transposed).
  sgemm(!trans_b, !trans_a, n, m, k, alpha, b, ldb, a, lda, 0.f, ct, m);
  if (beta == 0.f && !ep.bias && ep.activation.kind == Activation::kNone) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = ct[j * m + i];
    return;
  }
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float v = ct[j * m + i];
      if (beta != 0.f) v += beta * c[i * ldc + j];
      if (ep.bias) v += ep.bias[j];
      c[i * ldc + j] = apply_activation(v, ep.activation);
    }
}

}  // namespace

void gemm_check(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                int64_t lda, int64_t ldb, int64_t ldc) {
  const char* op = "gemm";
  check(m >= 0 && n >= 0 && k >= 0, op, "sizes must be >= 0, got m=", m, " n=", n, " k=", k);
  checked_product(op, m, k);
  checked_product(op, k, n);
  checked_product(op, m, n);
  check(lda >= std::max<int64_t>(1, trans_a ? m : k), op, "lda=", lda, " is smaller than the rows of ",
        trans_a ? "A^T" : "A", " (", trans_a ? m : k, ")");
  check(ldb >= std::max<int64_t>(1, trans_b ? k : n), op, "ldb=", ldb, " is smaller than the rows of ",
        trans_b ? "B^T" : "B", " (", trans_b ? k : n, ")");
  check(ldc >= std::max<int64_t>(1, n), op, "ldc=", ldc, " is smaller than n=", n);
}

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
           float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
           float beta, float* c, int64_t ldc, const GemmEpilogue& ep) {
  gemm_check(trans_a, trans_b, m, n, k, lda, ldb, ldc);
  if (m == 0 || n == 0) return;
  if (k == 0) return scale_only(m, n, beta, c, ldc, ep);

  const IsaUkernels& isa_kernels = kernels_for(active_isa());
  if (!trans_a && k >= kDotMinK && (trans_b ? m <= kDotMaxM || n <= kTinyN : n <= kTinyN)) {
    if (!trans_b) {
      float* bt = thread_scratch(kScratchGemmB).floats(size_t(n * k));
      transpose_b(bt, b, ldb, k, n);
      b = bt, ldb = k;
    }
    return sgemm_dot(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep, isa_kernels.dot);
  }
  if (n < kTurnN && m >= 2 * kTurnN && (trans_a || m * k <= kTurnCopyFloats))
    return sgemm_turned(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ep);
  const UkernelTable& table = n <= isa_kernels.narrow.nr ? isa_kernels.narrow : isa_kernels.wide;
  const int nr = table.nr, mr = table.mr_max;
  // Small M: B is read in place (each element serves only m rows, packing
  // would cost more than it saves), in K slices short enough that this
  // slice and the next, streamed in ahead, share L2.
  const bool stream_b = m <= kSmallM && !trans_b;
  const int64_t kc_max = std::min(k, stream_b ? kKcStream : kKc);
  const int64_t nc = std::max<int64_t>(nr, kBBlockBytes / (kc_max * 4) / nr * nr);
  const int64_t panels_max = (std::min(n, nc) + nr - 1) / nr;
  const int64_t panel_floats = kc_max * nr;
  float* packed = thread_scratch(kScratchGemmB).floats(size_t(panels_max * panel_floats));

  const bool prefetch_c = m * n * int64_t(sizeof(float)) > kFarCBytes;
  const TileAct in_kernel_act = tile_act(ep.activation);
  const bool post_act = ep.activation.kind != Activation::kNone && in_kernel_act == TileAct::kNone;
  const int64_t row_tiles = (m + mr - 1) / mr;
  // B is read in place when its rows are short (conv weights: no cache-set
  // conflicts), or up to 1024 floats long but not a multiple of 1 KiB apart
  // with k <= 128 (a conv d-input's transposed weight, packed again for
  // every row chunk otherwise: mnist conv3 d-input 0.62 -> 0.42 ms);
  // otherwise panels are packed contiguously, reading B in long sequential
  // runs (what keeps a dense layer at batch 16 off the floor).
  const bool direct_b = !trans_b && (ldb <= 128 || stream_b || (ldb <= 1024 && ldb % 256 != 0 && k <= 128));
  // Rows of A a multiple of 1 KiB apart land in the same L1 sets; such tiles
  // are copied to a contiguous MR x KC panel first (read as transposed A).
  const bool pack_a = !trans_a && lda % 256 == 0 && n > nr;
  // Copied tile by tile, A would be copied again for every column block
  // (8 times at 2048^3, a fifth of the time); so the whole K slice is copied
  // once, and K slices become the outer loop, when the copy fits.
  const bool pack_a_slice = pack_a && !stream_b && row_tiles * mr * kc_max <= kPackedASliceFloats;
  const size_t packed_a_floats = pack_a_slice ? size_t(row_tiles * mr * kc_max) : size_t(kKc * mr) * num_threads();
  float* packed_a_all = pack_a ? thread_scratch(kScratchGemmA).floats(packed_a_floats) : nullptr;

  // One (jc, pc) step after another; `tid` of `team` threads takes its share.
  // Threads share packed panels, so they meet at a barrier around packing.
  // With nothing to pack each thread owns its C tiles for every K slice and
  // runs without synchronising (a stalled vCPU then delays only its share).
  const bool any_pack = !direct_b || n % nr != 0 || pack_a_slice;
  const int64_t col_blocks = (n + nc - 1) / nc, k_slices = (k + kc_max - 1) / kc_max;
  auto run = [&](int tid, int team) {
    const bool sync = team > 1 && any_pack;
    for (int64_t step = 0; step < col_blocks * k_slices; ++step) {
      // Column blocks outermost, or K slices when A is copied per slice; C
      // sums its K slices in order either way.
      const int64_t jc = (pack_a_slice ? step % col_blocks : step / k_slices) * nc;
      const int64_t pc = (pack_a_slice ? step / col_blocks : step % k_slices) * kc_max;
      const int64_t nb = std::min(nc, n - jc);
      const int64_t col_tiles = (nb + nr - 1) / nr;
      const int64_t kb = std::min(kc_max, k - pc);
      const bool first = pc == 0, last = pc + kb == k;
      if (pack_a_slice && jc == 0) {
        for (int64_t rt = row_tiles * tid / team; rt < row_tiles * (tid + 1) / team; ++rt)
          gemm_detail::pack_a_panel(packed_a_all + rt * mr * kc_max, a + rt * mr * lda + pc, lda, kb,
                                    int(std::min<int64_t>(mr, m - rt * mr)), mr);
      }
      auto packs = [&](int64_t jt) { return !direct_b || jc + (jt + 1) * nr > n; };
      // Each thread packs a contiguous range of panels; row-major B is
      // walked row by row across the range (sequential reads from memory).
      const int64_t pack_from = direct_b ? col_tiles - 1 : 0;  // direct: only a partial last panel
      const int64_t jt0 = pack_from + (col_tiles - pack_from) * tid / team;
      const int64_t jt1 = pack_from + (col_tiles - pack_from) * (tid + 1) / team;
      if (jt0 < jt1 && packs(jt1 - 1)) {
        const int64_t j0 = jc + jt0 * nr;
        const int64_t cols = std::min(n, jc + jt1 * nr) - j0;
        const float* src = trans_b ? b + j0 * ldb + pc : b + pc * ldb + j0;
        gemm_detail::pack_b_panels(packed + jt0 * panel_floats, panel_floats, src, ldb, trans_b, kb, cols, nr,
                                   isa_kernels.pack_b_transposed);
      }
      if (sync) {
#pragma omp barrier
      }
      const int64_t tiles = row_tiles * col_tiles;
      const int64_t t0 = tiles * tid / team, t1 = tiles * (tid + 1) / team;
      float* packed_a = pack_a && !pack_a_slice ? packed_a_all + size_t(kKc * mr) * tid : nullptr;
      int64_t packed_row_tile = -1;
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t i0 = (t / col_tiles) * mr, jt = t % col_tiles, j0 = jc + jt * nr;
        const int rows = int(std::min<int64_t>(mr, m - i0));
        const int cols = int(std::min<int64_t>(nr, n - j0));
        TileArgs g;
        g.kc = kb;
        g.a = trans_a ? a + pc * lda + i0 : a + i0 * lda + pc;
        g.lda = lda;
        bool a_transposed = trans_a;
        if (pack_a_slice) {
          g.a = packed_a_all + (t / col_tiles) * mr * kc_max;
          g.lda = mr;
          a_transposed = true;
        } else if (pack_a) {
          if (packed_row_tile != t / col_tiles) {
            packed_row_tile = t / col_tiles;
            gemm_detail::pack_a_panel(packed_a, g.a, lda, kb, rows, mr);
          }
          g.a = packed_a;
          g.lda = mr;
          a_transposed = true;
        }
        if (packs(jt)) {
          g.b = packed + jt * panel_floats;
          g.ldb = nr;
        } else {
          g.b = b + pc * ldb + j0;
          g.ldb = ldb;
        }
        g.c = c + i0 * ldc + j0;
        g.ldc = ldc;
        g.n = cols;
        g.alpha = alpha;
        g.beta = first ? beta : 1.f;
        g.bias = last && ep.bias ? ep.bias + j0 : nullptr;
        g.act = last ? in_kernel_act : TileAct::kNone;
        g.act_alpha = ep.activation.alpha;
        // B streamed in place: its rows are walked panel by panel (strided,
        // no hardware prefetcher follows); each tile also prefetches its own
        // columns of the next K slice towards L2, spread over its FMAs.
        if (stream_b && !packs(jt)) g.far_prefetch = kc_max * ldb;
        g.prefetch_c = prefetch_c;
        (a_transposed ? table.trans_a : table.normal)[rows](g);
        if (last && post_act) finish_tile(g.c, ldc, rows, cols, ep.activation);
      }
      if (sync) {
#pragma omp barrier
      }
    }
  };

  const double flops = 2.0 * double(m) * double(n) * double(k);
  const int64_t tiles_per_step = row_tiles * std::min(panels_max, (n + nr - 1) / nr);
  int team = (flops < kParallelFlops || omp_in_parallel()) ? 1 : num_threads();
  team = int(std::min<int64_t>(team, tiles_per_step));
  if (team <= 1) return run(0, 1);
#pragma omp parallel num_threads(team)
  run(omp_get_thread_num(), omp_get_num_threads());
}

}  // namespace pycnn
