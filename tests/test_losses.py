"""Losses: per-sample losses and gradients vs float64 references, gradient
checks, every ISA, extreme values, thread determinism and bad input."""

import numpy as np
import pytest

import pycnn
from pycnn import _core, ops
from gradcheck import assert_grad_close, numeric_grad
from reference import losses as ref

ISAS = _core.supported_isas()
KINDS = ["sce_soft", "sce_onehot", "sce_sparse", "cce", "cce_sparse", "bce", "bce_logits", "mse"]
ROWS = [1, 2, 3, 7, 13, 33]
COLS = [1, 2, 3, 5, 10, 13, 17, 31, 100]


@pytest.fixture(autouse=True)
def restore_runtime():
    threads = pycnn.get_num_threads()
    yield
    _core.set_isa(None)
    pycnn.set_num_threads(threads)


def make_case(kind, rng):
    """(pred, labels for the op, dense float64 labels, op callable, reference) for one configuration."""
    n, c = int(rng.choice(ROWS)), int(rng.choice(COLS))
    if kind.endswith("sparse") or kind == "sce_onehot":
        c = max(c, 2)
    lead = (n,) if rng.random() < 0.8 else (n, int(rng.choice([1, 2, 3])))
    shape = lead + (c,)
    scale = float(rng.choice([0.5, 3.0, 20.0]))
    if kind.startswith("sce") or kind in ("bce_logits", "mse"):
        pred = rng.standard_normal(shape) * scale
    elif kind.startswith("cce"):
        pred = rng.uniform(0.05, 1.0, shape)
    else:
        pred = rng.uniform(0.01, 0.99, shape)
    pred = pred.astype(np.float32)
    sparse = kind.endswith("sparse") or kind == "sce_onehot"
    if sparse:
        ids = rng.integers(0, c, lead)
        dense = ref.one_hot(ids, c)
        labels = ids.astype(rng.choice([np.int64, np.int32, np.float64])) if kind.endswith("sparse") else dense
        if kind.endswith("sparse") and rng.random() < 0.2:
            labels = labels[..., None]  # Keras' trailing axis of 1
    elif kind in ("bce", "bce_logits") and rng.random() < 0.5:
        dense = (rng.random(shape) < 0.5).astype(np.float64)
        labels = dense
    else:
        dense = rng.random(shape)
        if kind.startswith("sce") or kind == "cce":
            dense /= dense.sum(-1, keepdims=True)
        labels = dense
    pred_in = pred.astype(np.float64) if rng.random() < 0.3 else pred
    if rng.random() < 0.3:  # a non-contiguous view with the same values
        wide = np.zeros(shape[:-1] + (2 * c,), np.float32)
        wide[..., 1::2] = pred
        pred_in = wide[..., 1::2]
    is_sparse = kind.endswith("sparse")
    op, reference = {
        "sce": (lambda p, t: ops.softmax_cross_entropy(p, t, sparse=is_sparse), ref.softmax_cross_entropy),
        "cce": (lambda p, t: ops.categorical_cross_entropy(p, t, sparse=is_sparse), ref.categorical_cross_entropy),
        "bce": (lambda p, t: ops.binary_cross_entropy(p, t, from_logits=kind == "bce_logits"),
                ref.binary_cross_entropy_logits if kind == "bce_logits" else ref.binary_cross_entropy),
        "mse": (ops.mean_squared_error, ref.mean_squared_error),
    }[kind[:3]]
    return pred, pred_in, labels, dense, op, reference


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", range(30))
def test_losses_match_reference(kind, seed):
    rng = np.random.default_rng(seed)
    pred, pred_in, labels, dense, op, reference = make_case(kind, rng)
    loss_ref, grad_ref = reference(pred.astype(np.float64), dense)
    for isa in ISAS if kind.startswith("sce") else ISAS[:1]:
        _core.set_isa(isa)
        loss, grad = op(pred_in, labels)
        assert loss.shape == pred.shape[:-1] and grad.shape == pred.shape
        assert loss.dtype == grad.dtype == np.float32
        np.testing.assert_allclose(loss, loss_ref, rtol=1e-5, atol=1e-6 * max(1.0, np.abs(loss_ref).max()))
        np.testing.assert_allclose(grad, grad_ref, rtol=1e-5, atol=1e-6 * np.abs(grad_ref).max())


def test_outputs_fully_written(rng):
    """Every kernel overwrites NaN-prefilled outputs completely."""
    n, c = 37, 13
    z = rng.standard_normal((n, c)).astype(np.float32)
    p = rng.uniform(0.05, 0.95, (n, c)).astype(np.float32)
    t = rng.random((n, c)).astype(np.float32)
    ids = rng.integers(0, c, n).astype(np.int32)
    calls = [
        lambda out: _core.softmax_cross_entropy(z, t, out=out),
        lambda out: _core.softmax_cross_entropy_sparse(z, ids, out=out),
        lambda out: _core.categorical_cross_entropy(p, t, out=out),
        lambda out: _core.categorical_cross_entropy_sparse(p, ids, out=out),
        lambda out: _core.binary_cross_entropy(p, t, False, out=out),
        lambda out: _core.binary_cross_entropy(z, t, True, out=out),
        lambda out: _core.mean_squared_error(z, t, out=out),
    ]
    for call in calls:
        out = (np.full(n, np.nan, np.float32), np.full((n, c), np.nan, np.float32))
        call(out)
        assert np.isfinite(out[0]).all() and np.isfinite(out[1]).all()


@pytest.mark.parametrize("kind", ["sce", "cce", "bce", "bce_logits", "mse"])
def test_reference_gradients_match_finite_differences(kind, rng):
    n, c = 3, 5
    t = rng.random((n, c))
    if kind == "sce":
        x, f = rng.standard_normal((n, c)) * 2, ref.softmax_cross_entropy
    elif kind == "cce":
        x, f = rng.uniform(0.1, 1.0, (n, c)), ref.categorical_cross_entropy
    elif kind == "bce":
        x, f = rng.uniform(0.05, 0.95, (n, c)), ref.binary_cross_entropy
    elif kind == "bce_logits":
        x, f = rng.standard_normal((n, c)) * 2, ref.binary_cross_entropy_logits
    else:
        x, f = rng.standard_normal((n, c)), ref.mean_squared_error
    r = rng.standard_normal(n)
    analytic = f(x, t)[1] * r[:, None]
    assert_grad_close(analytic, numeric_grad(lambda v: (f(v, t)[0] * r).sum(), x), rtol=1e-6, atol=1e-8)


def test_clipped_probabilities_have_zero_gradient():
    p = np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]], np.float32)
    t = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], np.float32)
    loss, grad = ops.categorical_cross_entropy(p, t)
    np.testing.assert_allclose(loss, -np.log(1e-7), rtol=1e-6)
    lr, gr = ref.categorical_cross_entropy(p.astype(np.float64), t.astype(np.float64))
    np.testing.assert_allclose(grad, gr, rtol=1e-6, atol=1e-7)
    loss, grad = ops.binary_cross_entropy(np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]]))
    np.testing.assert_allclose(loss, -np.log(1e-7), rtol=1e-5)
    np.testing.assert_array_equal(grad, 0.0)


@pytest.mark.parametrize("isa", ISAS)
def test_extreme_logits_stay_finite(isa):
    _core.set_isa(isa)
    z = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [3e38, -3e38, 0.0]], np.float32)
    loss, grad = ops.softmax_cross_entropy(z, [1, 2, 0], sparse=True)
    np.testing.assert_allclose(loss, [1e4, np.log(3.0), 0.0], rtol=1e-6)
    assert np.isfinite(grad).all()
    np.testing.assert_allclose(grad[0], [1.0, -1.0, 0.0])
    loss, grad = ops.binary_cross_entropy(np.array([[1e4, -1e4]]), np.array([[0.0, 1.0]]), from_logits=True)
    np.testing.assert_allclose(loss, [1e4], rtol=1e-6)
    np.testing.assert_allclose(grad, [[0.5, -0.5]])


@pytest.mark.parametrize("isa", ISAS)
def test_threads_bitwise_identical(isa, rng):
    _core.set_isa(isa)
    z = (rng.standard_normal((2001, 31)) * 4).astype(np.float32)
    p = rng.uniform(0.01, 1, z.shape).astype(np.float32)
    t = rng.random(z.shape).astype(np.float32)
    ids = rng.integers(0, 31, 2001)
    runs = []
    for threads in (1, 2):
        pycnn.set_num_threads(threads)
        runs.append([ops.softmax_cross_entropy(z, t), ops.softmax_cross_entropy(z, ids, sparse=True),
                     ops.categorical_cross_entropy(p, t), ops.binary_cross_entropy(p, t),
                     ops.binary_cross_entropy(z, t, from_logits=True), ops.mean_squared_error(z, t)])
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_empty_batch():
    loss, grad = ops.softmax_cross_entropy(np.zeros((0, 4)), np.zeros(0, int), sparse=True)
    assert loss.shape == (0,) and grad.shape == (0, 4)
    loss, grad = ops.mean_squared_error(np.zeros((0, 3)), np.zeros((0, 3)))
    assert loss.shape == (0,) and grad.shape == (0, 3)


@pytest.mark.parametrize("call, match", [
    (lambda: ops.softmax_cross_entropy(np.zeros((3, 4)), [0, 4, 1], sparse=True),
     r"\[softmax_cross_entropy\] expected labels in \[0, 4\) .* got values in \[0, 4\]"),
    (lambda: ops.softmax_cross_entropy(np.zeros((3, 4)), [-1, 0, 1], sparse=True),
     r"\[softmax_cross_entropy\] expected labels in \[0, 4\)"),
    (lambda: _core.softmax_cross_entropy_sparse(np.zeros((3, 4), np.float32), np.array([0, 9, 1], np.int32)),
     r"\[softmax_cross_entropy\] label 9 of sample 1 is outside the valid range \[0, 4\)"),
    (lambda: _core.categorical_cross_entropy_sparse(np.zeros((2, 4), np.float32), np.array([0, -2], np.int32)),
     r"\[categorical_cross_entropy\] label -2 of sample 1"),
    (lambda: ops.softmax_cross_entropy(np.zeros((3, 4)), [0.5, 1, 2], sparse=True),
     r"\[softmax_cross_entropy\] expected integer class labels"),
    (lambda: ops.softmax_cross_entropy(np.zeros((3, 4)), np.zeros(3)),
     r"\[softmax_cross_entropy\] expected `labels` of the predictions' shape .*sparse=True"),
    (lambda: ops.softmax_cross_entropy(np.zeros((3, 4)), np.zeros((2,), int), sparse=True),
     r"\[softmax_cross_entropy\] expected integer labels of shape \(3,\)"),
    (lambda: ops.categorical_cross_entropy(np.zeros((3, 0)), np.zeros((3, 0))),
     r"\[categorical_cross_entropy\] expected at least one class"),
    (lambda: ops.binary_cross_entropy(np.zeros((2, 3)), np.zeros((3, 2))),
     r"\[binary_cross_entropy\] expected `y_true` of the predictions' shape"),
    (lambda: ops.mean_squared_error(np.float32(1.0) + 1j, 1.0), r"\[mean_squared_error\] expected `y_pred` with a real"),
    (lambda: _core.mean_squared_error(np.zeros((2, 3), np.float32), np.zeros((2, 4), np.float32)),
     r"\[mean_squared_error\] expected `labels` with the shape"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
