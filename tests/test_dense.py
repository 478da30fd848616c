"""dense kernels against the float64 reference (tests/reference/dense.py)."""

import numpy as np
import pytest

import pycnn
from pycnn import _core, ops
from gradcheck import assert_grad_close, numeric_grad
from reference import dense as ref
from shapes import SEED_DENSE, DenseCase, random_dense_cases

CASES = random_dense_cases(210) + SEED_DENSE
ACTIVATIONS = [(None, 0, 0.0), ("relu", 1, 0.0), ("leaky_relu", 2, 0.2), ("elu", 3, 1.0),
               ("sigmoid", 4, 0.0), ("tanh", 5, 0.0)]


def _assert_close(got, want, terms):
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-6 * scale * max(terms, 1) ** 0.5 + 1e-5 * scale)


def _run_nan_filled(case, x, kernel, bias, code, alpha):
    y = np.full((*x.shape[:-1], case.out), np.nan, np.float32)
    _core.dense_forward(x, kernel, bias, code, alpha, out=y)
    dy = np.random.default_rng(case.seed).standard_normal(y.shape).astype(np.float32)
    dx = np.full(x.shape, np.nan, np.float32)
    dk = np.full(kernel.shape, np.nan, np.float32)
    db = np.full(case.out, np.nan, np.float32)
    _core.dense_backward(dy, x, kernel, True, True, out_dx=dx, out_dweight=dk, out_dbias=db)
    return y, dy, dx, dk, db


def _data(case, rng):
    x = rng.standard_normal(case.x_shape).astype(np.float32)
    kernel = rng.standard_normal((case.inp, case.out)).astype(np.float32)
    bias = rng.standard_normal(case.out).astype(np.float32)
    return x, kernel, bias


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_dense_matches_reference(case, rng):
    x, kernel, bias = _data(case, rng)
    name, code, alpha = ACTIVATIONS[case.seed % len(ACTIVATIONS)]
    y, dy, dx, dk, db = _run_nan_filled(case, x, kernel, bias, code, alpha)
    _assert_close(y, ref.activation(ref.dense(x, kernel, bias), name, alpha), case.inp)
    rdx, rdk, rdb = ref.dense_backward(dy, x, kernel)
    rows = int(np.prod(x.shape[:-1]))
    _assert_close(dx, rdx, case.out)
    _assert_close(dk, rdk, rows)
    _assert_close(db, rdb, rows)


@pytest.mark.parametrize("case", [DenseCase(3, 4, 5, seed=1), DenseCase(2, 3, 2, (2,), seed=2)], ids=lambda c: c.id)
def test_reference_backward_matches_finite_differences(case, rng):
    x = rng.standard_normal(case.x_shape)
    kernel = rng.standard_normal((case.inp, case.out))
    bias = rng.standard_normal(case.out)
    r = rng.standard_normal((*case.x_shape[:-1], case.out))
    dx, dk, db = ref.dense_backward(r, x, kernel)
    assert_grad_close(dx, numeric_grad(lambda v: (ref.dense(v, kernel, bias) * r).sum(), x))
    assert_grad_close(dk, numeric_grad(lambda v: (ref.dense(x, v, bias) * r).sum(), kernel))
    assert_grad_close(db, numeric_grad(lambda v: (ref.dense(x, kernel, v) * r).sum(), bias))


@pytest.mark.parametrize("case", SEED_DENSE + [DenseCase(3000, 33, 17, seed=5), DenseCase(70, 300, 129, seed=6)],
                         ids=lambda c: c.id)
def test_one_and_two_threads_bitwise_equal(case, rng):
    x, kernel, bias = _data(case, rng)
    before = pycnn.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            pycnn.set_num_threads(threads)
            results.append(_run_nan_filled(case, x, kernel, bias, 1, 0.0))
    finally:
        pycnn.set_num_threads(before)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_ops_accept_float64_int_noncontiguous_and_flags(rng):
    x = rng.standard_normal((5, 8))[:, ::2]
    kernel = rng.integers(-3, 4, size=(4, 3))
    y = ops.dense(x, kernel, [1, 2, 3], activation="relu")
    _assert_close(y, np.maximum(ref.dense(x, kernel, [1, 2, 3]), 0), 4)
    dx, dk, db = ops.dense_backward(np.ones(y.shape), x, kernel, need_input_grad=False, need_bias_grad=False)
    assert dx is None and db is None and dk.shape == (4, 3)
    dy = rng.standard_normal(y.shape)
    dx, dk, db = ops.dense_backward(dy, x, kernel, need_kernel_grad=False)
    assert dk is None
    _assert_close(db, dy.sum(axis=0), 5)
    _assert_close(dx, dy @ kernel.T, 5)


def test_empty_batch():
    y = ops.dense(np.zeros((0, 4)), np.ones((4, 3)), np.ones(3))
    assert y.shape == (0, 3)
    dx, dk, db = ops.dense_backward(np.zeros((0, 3)), np.zeros((0, 4)), np.ones((4, 3)))
    assert dx.shape == (0, 4)
    np.testing.assert_array_equal(dk, 0)
    np.testing.assert_array_equal(db, 0)


BAD = [
    (dict(x=np.zeros(4)), "rank"),
    (dict(kernel=np.zeros((4, 3, 1))), "rank 2"),
    (dict(kernel=np.zeros((5, 3))), r"kernel of shape \(5, 3\) expects 5 input features, got x with 4 \(x.shape=\(2, 4\)\)"),
    (dict(kernel=np.zeros((4, 0))), "kernel dimensions"),
    (dict(bias=np.zeros(4)), "bias"),
    (dict(activation="gelu"), "activation"),
    (dict(alpha="x", activation="elu"), "alpha"),
    (dict(x=np.array([[1j, 2j, 3j, 4j]])), "dtype"),
]


@pytest.mark.parametrize("bad,match", BAD, ids=lambda v: str(v)[:40] if isinstance(v, str) else None)
def test_bad_input_raises(bad, match):
    args = dict(x=np.zeros((2, 4)), kernel=np.zeros((4, 3)), bias=None, activation=None, alpha=None)
    args.update(bad)
    with pytest.raises(ValueError, match=r"\[dense\]") as info:
        ops.dense(**args)
    assert info.match(match)


def test_bad_backward_inputs():
    with pytest.raises(ValueError, match=r"\[dense\] expected dy of shape \(2, 3\)"):
        ops.dense_backward(np.zeros((2, 4)), np.zeros((2, 4)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"\[dense\].*too large"):
        # 2^25 x 2^26 rows of zero features: an empty array whose row count overflows.
        ops.dense(np.zeros((1 << 25, 1 << 26, 0), np.float32), np.zeros((1, 1)))


@pytest.mark.parametrize("rows", [1, 5, 32, 33], ids=lambda r: f"rows{r}")
def test_backward_input_few_rows_large_weight(rows, rng):
    """Few rows against a weight of 64K+ elements: dx is computed as a transposed product."""
    case = DenseCase(rows, 300, 257, seed=rows)
    x, kernel, bias = _data(case, rng)
    _, dy, dx, _, _ = _run_nan_filled(case, x, kernel, bias, 0, 0.0)
    _assert_close(dx, ref.dense_backward(dy, x, kernel)[0], case.out)
