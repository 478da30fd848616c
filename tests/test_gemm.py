"""pycnn.ops.gemm against the float64 reference, on every ISA and thread count."""

import numpy as np
import pytest

import pycnn
from pycnn import _core, ops
from reference import gemm as ref

ISAS = _core.supported_isas()


def _case(seed):
    rng = np.random.default_rng(seed)
    if seed % 10 == 0:  # crosses the K slice (384), the N block and many row tiles
        m, n, k = rng.integers(1, 300), rng.integers(1, 700), rng.integers(300, 900)
    else:
        m, n, k = rng.integers(1, 70, size=3)
    ta, tb = bool(rng.integers(2)), bool(rng.integers(2))
    alpha = float(rng.choice([1.0, -0.5, 2.0]))
    beta = float(rng.choice([0.0, 0.0, 1.0, 0.25]))
    return rng, int(m), int(n), int(k), ta, tb, alpha, beta


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("seed", range(70))
def test_gemm_matches_reference(isa, seed):
    rng, m, n, k, ta, tb, alpha, beta = _case(seed)
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
    c = rng.standard_normal((m, n)).astype(np.float32)
    _core.set_isa(isa)
    try:
        got = ops.gemm(a, b, c, alpha=alpha, beta=beta, trans_a=ta, trans_b=tb)
    finally:
        _core.set_isa(None)
    want = ref.gemm(a, b, c, alpha, beta, ta, tb)
    tol = 2e-6 * k + 1e-5
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max(initial=1.0))


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("act", [0, 1, 2, 3, 4, 5])
def test_epilogue_and_nan_prefilled_output(isa, act):
    """beta == 0 never reads C (NaN there must not leak); bias + activation fused."""
    rng = np.random.default_rng(act)
    m, n, k = 37, 45, 29
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    out = np.full((m, n), np.nan, np.float32)
    _core.set_isa(isa)
    try:
        _core.gemm_epilogue(a, b, out, bias, act, 0.1)
    finally:
        _core.set_isa(None)
    z = ref.gemm(a, b, bias=bias)
    want = [z, np.maximum(z, 0), np.where(z < 0, 0.1 * z, z), np.where(z < 0, 0.1 * np.expm1(z), z),
            1 / (1 + np.exp(-z)), np.tanh(z)][act]
    np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-4)


# Near-misses of the small-M routes: m around the in-place-B limit (16) and
# the dot-product limit (32), k around the dot minimum (64) and the in-place
# K slice (192), n around panel and dot-group widths.
SMALL_M = [(m, n, k, tb) for m, n, k, tb in [
    (1, 1, 1, False), (1, 33, 193, False), (5, 47, 385, False), (12, 64, 191, False), (13, 70, 192, False),
    (16, 512, 500, False), (16, 17, 1000, False), (17, 40, 400, False),
    (1, 7, 64, True), (4, 6, 63, True), (5, 13, 65, True), (16, 100, 512, True), (31, 25, 130, True),
    (32, 49, 64, True), (33, 20, 200, True), (16, 3, 1001, True), (8, 1, 300, True),
]]


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("m,n,k,tb", SMALL_M, ids=[f"m{m}-n{n}-k{k}-{'nt' if tb else 'nn'}" for m, n, k, tb in SMALL_M])
def test_small_m_routes_match_reference(isa, m, n, k, tb):
    _check_route(isa, m, n, k, False, tb)


def _check_route(isa, m, n, k, ta, tb):
    """ops.gemm with and without alpha, beta and c against the reference, on one ISA."""
    rng = np.random.default_rng(m * 10007 + n * 101 + k)
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
    c = rng.standard_normal((m, n)).astype(np.float32)
    _core.set_isa(isa)
    try:
        got = ops.gemm(a, b, c, alpha=-0.5, beta=0.25, trans_a=ta, trans_b=tb)
        plain = ops.gemm(a, b, trans_a=ta, trans_b=tb)
    finally:
        _core.set_isa(None)
    tol = 2e-6 * k + 1e-5
    want = ref.gemm(a, b, c, -0.5, 0.25, ta, tb)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max(initial=1.0))
    want = ref.gemm(a, b, None, 1.0, 0.0, ta, tb)
    np.testing.assert_allclose(plain, want, rtol=tol, atol=tol * np.abs(want).max(initial=1.0))


# Few columns: row-major A with n <= 4 and k >= 64 runs on the dot-product
# kernels over a copy of B^T; otherwise n < 16 and m >= 32 compute C^T and
# store it transposed (row-major A only while m * k <= 65536). n = 5 / 16,
# m = 31, k = 63 and m * k = 80000 are near-misses.
FEW_COLUMNS = [(m, n, k, ta, tb) for m, n, k in [(16, 2, 128), (128, 2, 16), (2000, 1, 70), (64, 4, 64),
                                                 (64, 4, 63), (4, 3, 100), (5, 2, 9), (33, 5, 64), (1, 1, 300),
                                                 (64, 10, 64), (32, 15, 40), (31, 15, 40), (32, 16, 40),
                                                 (2000, 10, 40), (1024, 7, 64)]
               for ta in (False, True) for tb in (False, True)]


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("m,n,k,ta,tb", FEW_COLUMNS)
def test_few_column_routes_match_reference(isa, m, n, k, ta, tb):
    _check_route(isa, m, n, k, ta, tb)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("act", [1, 2, 4])
def test_small_m_epilogue_over_nan_output(isa, act):
    """B read in place over several K slices: bias + activation on the last one only."""
    rng = np.random.default_rng(act)
    m, n, k = 16, 37, 450
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    out = np.full((m, n), np.nan, np.float32)
    _core.set_isa(isa)
    try:
        _core.gemm_epilogue(a, b, out, bias, act, 0.1)
    finally:
        _core.set_isa(None)
    z = ref.gemm(a, b, bias=bias)
    want = {1: np.maximum(z, 0), 2: np.where(z < 0, 0.1 * z, z), 4: 1 / (1 + np.exp(-z))}[act]
    np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-4)


def test_strided_rows_are_used_without_copy_and_give_same_result():
    rng = np.random.default_rng(1)
    big = rng.standard_normal((50, 80)).astype(np.float32)
    a = big[:, 3:40]  # leading dimension 80
    b = rng.standard_normal((37, 19)).astype(np.float32)
    np.testing.assert_allclose(ops.gemm(a, b), ref.gemm(a, b), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ops.gemm(big[::-1, ::2][:, :37], b), ref.gemm(big[::-1, ::2][:, :37], b),
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("m,n,k,lda", [(150, 600, 900, 1024), (37, 300, 1024, 1024), (13, 40, 300, 512)])
def test_rows_aliasing_in_l1_are_copied_per_k_slice(isa, m, n, k, lda):
    """Leading dimensions that are multiples of 1 KiB take the copied-A route
    (several K slices, column blocks, partial row tiles and panels): same
    result as the reference, same bits at 1 and 2 threads."""
    rng = np.random.default_rng(m)
    a = rng.standard_normal((m, lda)).astype(np.float32)[:, :k]
    b = rng.standard_normal((k, n)).astype(np.float32)
    c = np.full((m, n), np.nan, np.float32)
    want = ref.gemm(a, b)
    before = pycnn.get_num_threads()
    _core.set_isa(isa)
    try:
        results = []
        for threads in (1, 2):
            pycnn.set_num_threads(threads)
            results.append(ops.gemm(a, b, c.copy(), beta=0.0))
    finally:
        _core.set_isa(None)
        pycnn.set_num_threads(before)
    tol = 2e-6 * k + 1e-5
    np.testing.assert_allclose(results[0], want, rtol=tol, atol=tol * np.abs(want).max())
    assert np.array_equal(results[0], results[1])


@pytest.mark.parametrize("shape", [(300, 64, 1000, False, False), (288, 64, 3000, True, False),
                                   (500, 288, 64, False, True), (2000, 32, 27, False, False),
                                   (16, 512, 1000, False, False), (13, 700, 500, False, False),
                                   (16, 2000, 512, False, True), (32, 600, 300, False, True),
                                   (2000, 512, 16, True, False), (30000, 2, 128, False, False),
                                   (20000, 3, 40, True, False), (1024, 10, 64, False, False)])
def test_thread_count_does_not_change_bits(shape):
    m, n, k, ta, tb = shape
    rng = np.random.default_rng(m)
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
    before = pycnn.get_num_threads()
    try:
        pycnn.set_num_threads(1)
        one = ops.gemm(a, b, trans_a=ta, trans_b=tb)
        pycnn.set_num_threads(2)
        two = ops.gemm(a, b, trans_a=ta, trans_b=tb)
    finally:
        pycnn.set_num_threads(before)
    assert np.array_equal(one, two)


@pytest.mark.parametrize("m,n,k", [(0, 5, 3), (4, 0, 3), (4, 5, 0)])
def test_empty_sizes(m, n, k):
    a = np.ones((m, k), np.float32)
    b = np.ones((k, n), np.float32)
    c = np.full((m, n), 2.0, np.float32)
    np.testing.assert_array_equal(ops.gemm(a, b, c, beta=0.5), np.full((m, n), 1.0, np.float32))


@pytest.mark.parametrize("args,kwargs,match", [
    ((np.ones((3, 4)), np.ones((5, 2))), {}, r"\[gemm\] inner dimensions"),
    ((np.ones((3, 4, 1)), np.ones((4, 2))), {}, r"\[gemm\] expected `a` of rank 2"),
    ((np.ones((3, 4)), np.ones(4)), {}, r"\[gemm\] expected `b` of rank 2"),
    ((np.ones((3, 4)), np.ones((4, 2)), np.ones((2, 2))), {"beta": 1.0}, r"\[gemm\] expected c of shape"),
    ((np.ones((3, 4)), np.ones((4, 2))), {"beta": 1.0}, r"\[gemm\] beta != 0 needs `c`"),
    ((np.array([["a"]]), np.ones((1, 2))), {}, r"\[gemm\] expected `matrix` with a real numeric dtype"),
])
def test_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        ops.gemm(*args, **kwargs)


def test_core_rejects_inconsistent_sizes():
    with pytest.raises(ValueError, match=r"\[gemm\]"):
        _core.gemm(np.ones((3, 4), np.float32), np.ones((5, 2), np.float32), None, False, False, 1.0, 0.0)
