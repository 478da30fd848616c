"""conv2d kernels against the float64 reference (tests/reference/conv.py)."""

import numpy as np
import pytest

import pycnn
from pycnn import _core, ops
from gradcheck import assert_grad_close, numeric_grad
from reference import conv as ref
from reference.dense import activation as ref_activation
from shapes import ConvCase, random_conv_cases, small_seed_conv

# Direct-kernel shapes with several channels per group (cg 2..4, kg >= 16).
DIRECT_EXTRA = [
    ConvCase(2, 9, 11, 6, 48, 3, 3, (1, 2), "same", groups=3, seed=901),
    ConvCase(1, 10, 13, 4, 33, 5, 5, (2, 1), ((2, 1), (0, 3)), (1, 2), seed=902),
    ConvCase(2, 12, 21, 3, 32, 3, 3, (1, 1), "same", seed=903),
    ConvCase(1, 7, 30, 2, 16, 2, 4, (1, 1), "valid", (2, 1), seed=904),
    ConvCase(2, 9, 10, 2, 32, 3, 3, (2, 1), ((1, 2), (0, 1)), (2, 1), seed=905),
    ConvCase(1, 6, 5, 4, 16, 3, 3, (1, 1), "same", groups=2, seed=906),
    # Groups of 2 and 3 channels against 16 and 32 outputs: the first-layer
    # d-input's group offsets, with a height stride and dilation.
    ConvCase(2, 8, 13, 6, 64, 3, 3, (1, 1), "same", groups=2, seed=907),
    ConvCase(1, 11, 9, 8, 64, 3, 3, (2, 1), "same", (2, 1), groups=4, seed=908),
    # Images taller than the padded-row buffer: its rows slide to the front
    # (height stride and dilation; groups of 16 outputs).
    ConvCase(2, 45, 9, 3, 16, 3, 3, (2, 1), "same", (2, 1), seed=909),
    ConvCase(2, 41, 6, 4, 64, 3, 3, (1, 1), "same", groups=4, seed=910),
]
# First-layer shapes (groups 1, C 1..4, 3-wide windows at width stride 1,
# K a multiple of 16: the sliding kernel): 16-pixel groups (K 16) and
# 8-pixel groups of channel pairs (K 32, 64; K 48 and 80 end on a lone
# block), short last groups of every size class, 'valid' / 'same', pads wider
# than the window (groups that read only zeros), window heights 1, 2 and 5,
# height strides and dilation, a single output column, and an output over
# 8 MiB (the kernels then prefetch what they stream).
SLIDING_EXTRA = [
    ConvCase(2, 7, 37, 3, 16, 3, 3, (1, 1), "same", seed=951),
    ConvCase(1, 6, 29, 1, 32, 3, 3, (1, 1), "valid", seed=952),
    ConvCase(2, 5, 21, 2, 48, 3, 3, (2, 1), "same", seed=953),
    ConvCase(1, 9, 13, 4, 64, 5, 3, (1, 1), "same", (2, 1), seed=954),
    ConvCase(1, 8, 11, 3, 80, 2, 3, (3, 1), ((1, 0), (6, 7)), seed=955),
    ConvCase(3, 4, 18, 3, 16, 1, 3, (1, 1), ((0, 0), (0, 13)), seed=956),
    ConvCase(1, 5, 1, 3, 32, 3, 3, (1, 1), "same", seed=957),
    ConvCase(2, 6, 3, 1, 16, 3, 3, (1, 1), "valid", seed=958),
    ConvCase(1, 3, 41, 2, 16, 3, 3, (1, 1), ((4, 4), (1, 1)), seed=959),
    ConvCase(4, 66, 64, 1, 128, 3, 3, (1, 1), "same", seed=960),
]
# Implicit-GEMM shapes (groups 1, K a multiple of 16, C > 4, >= 64 output
# pixels per image): output-channel blocks of 1-4 vectors (K 16..80), weight
# chunks that split a window row (C*K large), tiles per output row and across
# rows (stride 1), strides, dilation (one run per tap), explicit pads larger
# than the window (d-input falls back), d-weight image chunks (N 9, 17), and
# the near misses: 63 output pixels, 'valid' on a small image (d-input with
# 1.4x zero work), K = 24.
IMPLICIT_EXTRA = [
    ConvCase(2, 10, 11, 8, 16, 3, 3, (1, 1), "same", seed=1001),
    ConvCase(1, 13, 13, 32, 64, 3, 3, (1, 1), "valid", seed=1002),
    ConvCase(3, 9, 12, 5, 48, 3, 3, (1, 1), "same", seed=1003),
    ConvCase(2, 12, 10, 40, 32, 3, 3, (1, 1), "same", seed=1004),
    ConvCase(1, 16, 16, 64, 80, 3, 3, (2, 2), "same", seed=1005),
    ConvCase(2, 17, 15, 16, 32, 3, 3, (2, 1), ((1, 0), (2, 1)), seed=1006),
    ConvCase(1, 12, 19, 6, 32, 3, 3, (1, 2), "valid", (2, 1), seed=1007),
    ConvCase(2, 14, 14, 12, 16, 3, 3, (1, 1), "same", (1, 2), seed=1008),
    ConvCase(1, 11, 12, 9, 32, 5, 5, (1, 1), ((3, 0), (0, 4)), seed=1009),
    ConvCase(9, 9, 9, 16, 32, 3, 3, (1, 1), "same", seed=1010),
    ConvCase(17, 8, 8, 6, 16, 2, 2, (1, 1), ((1, 0), (0, 1)), seed=1011),
    ConvCase(2, 9, 7, 16, 16, 3, 3, (1, 1), "same", seed=1012),
    ConvCase(1, 24, 9, 7, 64, 1, 1, (2, 1), "valid", seed=1013),
    ConvCase(2, 10, 10, 8, 24, 3, 3, (1, 1), "same", seed=1014),
    ConvCase(2, 12, 12, 16, 32, 3, 3, (1, 1), ((4, 1), (1, 1)), seed=1015),
]
# Stride-2 by phases (groups 1, 2x2 stride, undilated). d-input (C a
# multiple of 16): 'valid' on odd sizes (input rows and columns no window
# reaches), 5x5 windows (3 and 2 taps per phase), 2x2 windows (one tap),
# channel blocks of 48 and 64 + 16, K not a multiple of 16, pads wider than
# the window, asymmetric windows and pads, 1-pixel-high images (an odd
# phase with no pixels). Forward (K a multiple of 16, >= 64
# output pixels): odd sizes, 5x5 and 2x2 windows, asymmetric pads, C = 130
# (one window row per weight chunk), every activation (seed % 6).
STRIDED_EXTRA = [
    ConvCase(2, 9, 13, 16, 16, 3, 3, (2, 2), "valid", seed=1201),
    ConvCase(1, 12, 7, 48, 24, 5, 5, (2, 2), "same", seed=1202),
    ConvCase(3, 8, 10, 80, 16, 2, 2, (2, 2), "valid", seed=1203),
    ConvCase(1, 5, 6, 16, 32, 3, 3, (2, 2), ((4, 4), (2, 5)), seed=1204),
    ConvCase(2, 15, 9, 32, 16, 4, 3, (2, 2), ((0, 3), (2, 0)), seed=1205),
    ConvCase(1, 1, 1, 16, 16, 2, 2, (2, 2), "same", seed=1211),
    ConvCase(2, 1, 5, 32, 8, 2, 3, (2, 2), "same", seed=1212),
    ConvCase(2, 17, 19, 8, 16, 3, 3, (2, 2), "valid", seed=1206),
    ConvCase(1, 20, 18, 5, 48, 5, 5, (2, 2), "same", seed=1207),
    ConvCase(1, 18, 16, 24, 32, 2, 2, (2, 2), "valid", seed=1208),
    ConvCase(2, 16, 17, 7, 16, 4, 3, (2, 2), ((3, 0), (1, 4)), seed=1209),
    ConvCase(1, 21, 21, 130, 16, 3, 3, (2, 2), "same", seed=1210),
]
# Stride-1 Winograd shapes (3x3, undilated, C and K multiples of 16, >= 64
# output pixels; F(4x4, 3x3) where its weight fits, see F43_EXTRA): odd
# output sizes (phantom tile rows and columns), 'valid' / 'same' / asymmetric
# explicit pads (d-input through Winograd only while no pad exceeds 2), chunks
# that cross images (N 3, 9), K = 80 (a 64 + 16 column block), C = 16
# (forward through Winograd on AMD CPUs, the implicit path elsewhere; d-input
# and d-weight through Winograd), N = 1, and a 7x9 output (63 pixels: forward
# and d-weight not taken, d-input taken).
WINOGRAD_EXTRA = [
    ConvCase(3, 11, 9, 32, 48, 3, 3, (1, 1), "same", seed=1100),
    ConvCase(1, 13, 15, 32, 64, 3, 3, (1, 1), "valid", seed=1101),
    ConvCase(9, 10, 10, 64, 32, 3, 3, (1, 1), "same", seed=1102),
    ConvCase(2, 12, 9, 48, 80, 3, 3, (1, 1), ((0, 2), (2, 1)), seed=1103),
    ConvCase(2, 17, 11, 16, 32, 3, 3, (1, 1), "same", seed=1104),
    ConvCase(1, 14, 12, 32, 16, 3, 3, (1, 1), ((3, 0), (1, 1)), seed=1105),
    ConvCase(2, 9, 11, 32, 32, 3, 3, (1, 1), "valid", seed=1106),
    ConvCase(3, 8, 8, 32, 32, 3, 3, (1, 1), "same", seed=1107),
]
# The stride-2 Winograd forward (3x3, C a multiple of 16 and >= 32, K a
# multiple of 16, >= 64 output pixels): odd sizes, phantom last tiles,
# explicit and one-sided padding. The wide scheme (4x4 tiles) takes those
# with 81*C*K <= 2^17, the 25-point one the others (C x K 64 x 64, 32 x 80,
# 64 x 32); for the wide one also output sizes 1, 2 and 3 past a multiple of
# 4, and chunks across images (6 tiles an image, chunks of 10 at 1 thread
# and 7-8 at 2).
STRIDED_WINOGRAD_EXTRA = [
    ConvCase(2, 18, 20, 32, 32, 3, 3, (2, 2), "same", seed=1310),
    ConvCase(1, 22, 13, 48, 16, 3, 3, (2, 2), "same", seed=1311),
    ConvCase(5, 16, 24, 32, 16, 3, 3, (2, 2), "same", seed=1312),
    ConvCase(1, 18, 21, 32, 32, 3, 3, (2, 2), ((3, 0), (1, 2)), seed=1313),
    ConvCase(2, 32, 32, 32, 32, 3, 3, (2, 2), "same", seed=1300),
    ConvCase(3, 16, 16, 64, 64, 3, 3, (2, 2), "same", seed=1301),
    ConvCase(1, 17, 19, 32, 48, 3, 3, (2, 2), "valid", seed=1302),
    ConvCase(2, 21, 15, 48, 16, 3, 3, (2, 2), "same", seed=1303),
    ConvCase(1, 18, 17, 32, 80, 3, 3, (2, 2), ((2, 0), (1, 2)), seed=1304),
    ConvCase(1, 16, 20, 64, 32, 3, 3, (2, 2), ((0, 1), (3, 0)), seed=1305),
    # and its d-input (K >= 64): odd sizes, one-sided and explicit padding
    ConvCase(2, 16, 16, 64, 64, 3, 3, (2, 2), "same", seed=1306),
    ConvCase(1, 19, 17, 32, 64, 3, 3, (2, 2), "valid", seed=1307),
    ConvCase(1, 18, 21, 48, 80, 3, 3, (2, 2), ((2, 1), (0, 3)), seed=1308),
]
# F(4x4, 3x3), which replaced F(2x2, 3x3) wherever the transformed weight
# (36*C*K floats) stays within 16 MiB: output sizes 1, 2 and 3 past a
# multiple of 4 (phantom tile rows and columns), 4x4 tiles of 8x8 images in
# chunks that cross images, asymmetric explicit pads, K = 80; C = K = 352,
# whose 36-point weight is too large, on F(2x2, 3x3); and images of more
# tiles than one d-weight chunk.
F43_EXTRA = [
    ConvCase(2, 13, 10, 32, 48, 3, 3, (1, 1), "same", seed=1400),
    ConvCase(1, 15, 11, 32, 64, 3, 3, (1, 1), "valid", seed=1401),
    ConvCase(3, 9, 11, 48, 32, 3, 3, (1, 1), "same", seed=1402),
    ConvCase(2, 12, 14, 64, 80, 3, 3, (1, 1), ((0, 2), (2, 1)), seed=1403),
    ConvCase(9, 8, 8, 32, 32, 3, 3, (1, 1), "same", seed=1404),
    ConvCase(2, 10, 10, 32, 16, 3, 3, (1, 1), ((1, 0), (0, 1)), seed=1405),
    ConvCase(1, 8, 9, 352, 352, 3, 3, (1, 1), "same", seed=1406),
    # one image of 100 tiles: its d-weight sums two chunks of tiles (>= 72 each), also at stride 2
    ConvCase(1, 38, 37, 32, 16, 3, 3, (1, 1), "same", seed=1407),
    ConvCase(1, 40, 38, 32, 16, 3, 3, (2, 2), "same", seed=1408),
]
# First layers with 3x3 windows at stride 1 (C 1..4, K a multiple of 16),
# which AVX-512 runs by F(2x2, 3x3) tiles in both the forward and d-weight:
# odd and even output heights and widths (a missing second row or column in
# the last tile), 1-3 tiles in the last group of a row, one to three
# 16-channel blocks, explicit pads (taller than the window: row pairs of
# zeros only), a 1x1 output, and an output over 8 MiB (prefetched rows).
FIRST_TILES_EXTRA = [
    ConvCase(2, 9, 11, 3, 16, 3, 3, (1, 1), "same", seed=1500),
    ConvCase(1, 12, 10, 1, 32, 3, 3, (1, 1), "valid", seed=1501),
    ConvCase(3, 7, 8, 2, 48, 3, 3, (1, 1), ((2, 0), (0, 3)), seed=1502),
    ConvCase(1, 10, 7, 4, 16, 3, 3, (1, 1), "same", seed=1503),
    ConvCase(2, 3, 3, 3, 32, 3, 3, (1, 1), "valid", seed=1504),
    ConvCase(1, 4, 14, 3, 16, 3, 3, (1, 1), ((3, 4), (1, 1)), seed=1505),
    ConvCase(2, 70, 60, 2, 256, 3, 3, (1, 1), "same", seed=1506),
    ConvCase(1, 13, 17, 4, 16, 3, 3, (1, 1), "valid", seed=1507),
]
CASES = (random_conv_cases(220) + small_seed_conv(2) + DIRECT_EXTRA + SLIDING_EXTRA + IMPLICIT_EXTRA + STRIDED_EXTRA
         + WINOGRAD_EXTRA + STRIDED_WINOGRAD_EXTRA + F43_EXTRA + FIRST_TILES_EXTRA)
ACTIVATIONS = [None, "relu", "leaky_relu", "elu", "sigmoid", "tanh"]


def _data(case, rng):
    x = rng.standard_normal(case.x_shape).astype(np.float32)
    kernel = rng.standard_normal(case.kernel_shape).astype(np.float32)
    bias = rng.standard_normal(case.k).astype(np.float32)
    return x, kernel, bias


def _ref_kwargs(case):
    return dict(strides=case.strides, padding=case.padding, dilation=case.dilation, groups=case.groups)


def _assert_close(got, want, terms, sums=None):
    # float32 sums of `terms` products of unit-scale numbers; the error scales
    # with the sums themselves (`sums`, when an activation whose slope is at
    # most 1 squashed them into `want`)
    scale = max(1.0, float(np.abs(want if sums is None else sums).max(initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-6 * scale * max(terms, 1) ** 0.5 + 1e-5 * scale)


def _run_nan_filled(case, x, kernel, bias, code=0, alpha=0.0):
    """Forward and backward through the core with NaN-filled outputs."""
    args = case.core_args()
    oh, ow = case.output_hw()
    y = np.full((case.n, oh, ow, case.k), np.nan, np.float32)
    _core.conv2d_forward(x, kernel, bias, *args, code, alpha, out=y)
    dy = np.random.default_rng(case.seed).standard_normal(y.shape).astype(np.float32)
    dx = np.full(x.shape, np.nan, np.float32)
    dk = np.full(kernel.shape, np.nan, np.float32)
    db = np.full(case.k, np.nan, np.float32)
    _core.conv2d_backward(dy, x, kernel, *args, True, True, out_dx=dx, out_dweight=dk, out_dbias=db)
    return y, dy, dx, dk, db


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_conv2d_matches_reference(case, rng):
    x, kernel, bias = _data(case, rng)
    act = ACTIVATIONS[case.seed % len(ACTIVATIONS)]
    code, alpha = {None: (0, 0.0), "relu": (1, 0.0), "leaky_relu": (2, 0.2), "elu": (3, 1.0),
                   "sigmoid": (4, 0.0), "tanh": (5, 0.0)}[act]
    y, dy, dx, dk, db = _run_nan_filled(case, x, kernel, bias, code, alpha)
    terms = case.kh * case.kw * (case.c // case.groups)
    sums = ref.conv2d(x, kernel, bias, **_ref_kwargs(case))
    _assert_close(y, ref_activation(sums, act, alpha), terms, sums)
    rdx, rdk, rdb = ref.conv2d_backward(dy, x, kernel, **_ref_kwargs(case))
    oh, ow = case.output_hw()
    _assert_close(dx, rdx, case.k * case.kh * case.kw)
    _assert_close(dk, rdk, case.n * oh * ow)
    _assert_close(db, rdb, case.n * oh * ow)


GRAD_CASES = [
    ConvCase(2, 5, 4, 3, 2, 3, 2, (2, 1), "same", seed=1),
    ConvCase(1, 6, 5, 4, 4, 2, 3, (1, 2), ((1, 0), (2, 1)), (2, 1), groups=2, seed=2),
    ConvCase(2, 4, 4, 3, 6, 3, 3, (1, 1), "valid", groups=3, seed=3),
    ConvCase(1, 3, 3, 2, 3, 1, 1, (2, 2), "same", seed=4),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=lambda c: c.id)
def test_reference_backward_matches_finite_differences(case, rng):
    x = rng.standard_normal(case.x_shape)
    kernel = rng.standard_normal(case.kernel_shape)
    bias = rng.standard_normal(case.k)
    kw = _ref_kwargs(case)
    oh, ow = case.output_hw()
    r = rng.standard_normal((case.n, oh, ow, case.k))
    dx, dk, db = ref.conv2d_backward(r, x, kernel, **kw)
    assert_grad_close(dx, numeric_grad(lambda v: (ref.conv2d(v, kernel, bias, **kw) * r).sum(), x))
    assert_grad_close(dk, numeric_grad(lambda v: (ref.conv2d(x, v, bias, **kw) * r).sum(), kernel))
    assert_grad_close(db, numeric_grad(lambda v: (ref.conv2d(x, kernel, v, **kw) * r).sum(), bias))


THREAD_CASES = (small_seed_conv(4) + [c for c in random_conv_cases(60) if c.seed % 10 in (3, 4, 7, 9)]
                + IMPLICIT_EXTRA + WINOGRAD_EXTRA + STRIDED_WINOGRAD_EXTRA + F43_EXTRA)


@pytest.mark.parametrize("case", THREAD_CASES, ids=lambda c: c.id)
def test_one_and_two_threads_bitwise_equal(case, rng):
    x, kernel, bias = _data(case, rng)
    before = pycnn.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            pycnn.set_num_threads(threads)
            results.append(_run_nan_filled(case, x, kernel, bias, 1))
    finally:
        pycnn.set_num_threads(before)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


DIRECT_CASES = [c for c in CASES if c.c // c.groups == 1][:12] + DIRECT_EXTRA + SLIDING_EXTRA


@pytest.mark.parametrize("isa", [i for i in ("portable", "avx2", "avx512") if i in _core.supported_isas()])
@pytest.mark.parametrize("case", DIRECT_CASES, ids=lambda c: c.id)
def test_direct_kernel_every_isa(case, isa, rng):
    x, kernel, bias = _data(case, rng)
    _core.set_isa(isa)
    try:
        y, dy, dx, dk, db = _run_nan_filled(case, x, kernel, bias, 1)
    finally:
        _core.set_isa(None)
    want = np.maximum(ref.conv2d(x, kernel, bias, **_ref_kwargs(case)), 0)
    _assert_close(y, want, case.kh * case.kw)
    rdx, rdk, _ = ref.conv2d_backward(dy, x, kernel, **_ref_kwargs(case))
    _assert_close(dx, rdx, case.k * case.kh * case.kw)
    _assert_close(dk, rdk, dy.size // case.k)


# The implicit-GEMM tiles, the stride-2 phase decompositions and the Winograd
# schemes on each ISA that has them (AVX-512 and AVX2 register tiles and
# transforms; the baseline build's im2col + GEMM as the control), and the
# first-layer tiles (AVX-512; the direct blocks elsewhere), with a fused relu
# or leaky_relu in the tile epilogues, and 1 vs 2 threads bitwise.
TILED_CASES = IMPLICIT_EXTRA + STRIDED_EXTRA + WINOGRAD_EXTRA + STRIDED_WINOGRAD_EXTRA + F43_EXTRA + FIRST_TILES_EXTRA


@pytest.mark.parametrize("isa", [i for i in ("portable", "avx2", "avx512") if i in _core.supported_isas()])
@pytest.mark.parametrize("case", TILED_CASES, ids=lambda c: c.id)
def test_tiled_kernels_every_isa(case, isa, rng):
    x, kernel, bias = _data(case, rng)
    act, code, alpha = ("relu", 1, 0.0) if case.seed % 2 else ("leaky_relu", 2, 0.2)
    before = pycnn.get_num_threads()
    _core.set_isa(isa)
    try:
        runs = []
        for threads in (1, 2):
            pycnn.set_num_threads(threads)
            runs.append(_run_nan_filled(case, x, kernel, bias, code, alpha))
    finally:
        _core.set_isa(None)
        pycnn.set_num_threads(before)
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    y, dy, dx, dk, db = runs[0]
    sums = ref.conv2d(x, kernel, bias, **_ref_kwargs(case))
    _assert_close(y, ref_activation(sums, act, alpha), case.kh * case.kw * case.c, sums)
    rdx, rdk, _ = ref.conv2d_backward(dy, x, kernel, **_ref_kwargs(case))
    _assert_close(dx, rdx, case.k * case.kh * case.kw)
    _assert_close(dk, rdk, dy.size // case.k)


def test_ops_accept_float64_int_and_noncontiguous(rng):
    x64 = rng.standard_normal((2, 9, 12, 6))
    x = x64[:, ::1, ::2, :]  # non-contiguous view, float64
    kernel = rng.integers(-2, 3, size=(3, 3, 6, 5))  # int kernel
    y = ops.conv2d(x, kernel, padding="same", strides=(2, 1))
    assert y.dtype == np.float32 and y.shape == (2, 5, 6, 5)
    _assert_close(y, ref.conv2d(x.astype(np.float32), kernel, strides=(2, 1), padding="same"), 54)
    dx, dk, db = ops.conv2d_backward(np.ones(y.shape), x, kernel, padding="same", strides=(2, 1))
    assert dx.shape == x.shape and dk.shape == kernel.shape and db.shape == (5,)


def test_ops_depthwise_matches_grouped(rng):
    x = rng.standard_normal((2, 7, 6, 4)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, 4, 2)).astype(np.float32)
    y = ops.depthwise_conv2d(x, kernel, padding="same")
    want = ref.conv2d(x, kernel.reshape(3, 3, 1, 8), padding="same", groups=4)
    _assert_close(y, want, 9)


def test_backward_flags_skip_outputs(rng):
    x = rng.standard_normal((2, 5, 5, 3))
    kernel = rng.standard_normal((3, 3, 3, 4))
    dx, dk, db = ops.conv2d_backward(np.ones((2, 3, 3, 4)), x, kernel, need_input_grad=False,
                                     need_bias_grad=False)
    assert dx is None and db is None and dk.shape == kernel.shape


def test_empty_batch():
    x = np.zeros((0, 6, 6, 3), np.float32)
    kernel = np.ones((3, 3, 3, 4), np.float32)
    y = ops.conv2d(x, kernel, np.ones(4), padding="same")
    assert y.shape == (0, 6, 6, 4)
    dx, dk, db = ops.conv2d_backward(np.zeros(y.shape), x, kernel, padding="same")
    assert dx.shape == x.shape
    np.testing.assert_array_equal(dk, 0)
    np.testing.assert_array_equal(db, 0)


BAD = [
    (dict(x=np.zeros((28, 28, 3))), "rank 4"),
    (dict(kernel=np.zeros((3, 3, 4))), "rank 4"),
    (dict(kernel=np.zeros((3, 3, 4, 8))), r"expects 4 input channels, got x with 3 \(x.shape=\(2, 28, 28, 3\)\)"),
    (dict(strides=0), "strides"),
    (dict(strides=(1, -2)), "strides"),
    (dict(strides=True), "strides"),  # a bool is an int subclass, refused all the same
    (dict(strides=2.0), "strides"),
    (dict(groups=np.bool_(True)), "groups"),
    (dict(activation="leaky_relu", alpha=float("nan")), "alpha"),
    (dict(activation="leaky_relu", alpha=True), "alpha"),
    (dict(dilation_rate=0), "dilation_rate"),
    (dict(kernel=np.zeros((0, 3, 3, 8))), "kernel"),
    (dict(kernel=np.zeros((3, 3, 3, 0))), "kernel"),
    (dict(kernel=np.zeros((29, 3, 3, 8))), "smaller than"),
    (dict(kernel=np.zeros((3, 3, 3, 8)), dilation_rate=14), "smaller than"),
    (dict(padding=((1, 1), (1, -1))), "padding"),
    (dict(padding="full"), "padding"),
    (dict(groups=2), "groups=2 must divide the input channels"),
    (dict(kernel=np.zeros((3, 3, 1, 8)), groups=3, x=np.zeros((2, 8, 8, 3))), r"\(kernel of|groups=3"),
    (dict(kernel=np.zeros((3, 3, 1, 4)), groups=3), "groups=3 must divide the output channels"),
    (dict(bias=np.zeros(7)), "bias"),
    (dict(activation="swish"), "activation"),
    (dict(x=np.array([["a"]])), "dtype"),
    (dict(x=np.zeros((2, 0, 28, 3))), "positive"),
]


@pytest.mark.parametrize("bad,match", BAD, ids=lambda v: str(v)[:40] if isinstance(v, str) else None)
def test_bad_input_raises(bad, match):
    args = dict(x=np.zeros((2, 28, 28, 3)), kernel=np.zeros((3, 3, 3, 8)), bias=None, strides=1,
                padding="valid", dilation_rate=1, groups=1, activation=None)
    args.update(bad)
    with pytest.raises(ValueError, match=r"\[conv2d\]") as info:
        ops.conv2d(**args)
    assert info.match(match)


def test_numpy_scalar_options_accepted():
    # The option checks take Python ints and floats on a fast path and
    # NumPy scalars on the general one: both must give the same result.
    x, kernel = np.random.default_rng(0).standard_normal((2, 9, 9, 3)), np.ones((3, 3, 3, 4))
    plain = ops.conv2d(x, kernel, strides=2, dilation_rate=1, groups=1, activation="leaky_relu", alpha=0.1)
    numpy = ops.conv2d(x, kernel, strides=np.int64(2), dilation_rate=(np.int32(1), 1), groups=np.uint8(1),
                       activation="leaky_relu", alpha=np.float32(0.1))
    np.testing.assert_array_equal(plain, numpy)


def test_bad_backward_inputs():
    x, kernel = np.zeros((2, 8, 8, 3)), np.zeros((3, 3, 3, 4))
    with pytest.raises(ValueError, match=r"\[conv2d\] expected dy of shape \(2, 6, 6, 4\)"):
        ops.conv2d_backward(np.zeros((2, 6, 6, 5)), x, kernel)
    with pytest.raises(ValueError, match=r"\[conv2d\].*expects 3 input channels"):
        ops.conv2d_backward(np.zeros((2, 6, 6, 4)), np.zeros((2, 8, 8, 2)), kernel)


def test_overflowing_sizes_raise():
    # Explicit padding of 2^40 makes N*OH*OW*K overflow: refused before any allocation.
    x, kernel = np.zeros((1, 1, 1, 1), np.float32), np.zeros((1, 1, 1, 1), np.float32)
    with pytest.raises(ValueError, match=r"\[conv2d\].*too large"):
        _core.conv2d_forward(x, kernel, None, (1, 1), 2, (1 << 40,) * 4, (1, 1), 1, 0, 0.0)
