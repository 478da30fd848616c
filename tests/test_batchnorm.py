"""Batch norm kernels vs the float64 reference in tests/reference/normalization.py."""

import numpy as np
import pytest

import pycnn
from pycnn import _core, ops
from gradcheck import assert_grad_close, numeric_grad
from reference import normalization as ref

ACTS = [None, None, "relu", "leaky_relu", "elu", "sigmoid", "tanh", "linear"]


def make_config(seed):
    r = np.random.default_rng(seed)
    rank = int(r.choice([2, 2, 3, 4, 4, 4]))
    c = int(r.choice([1, 3, 8, 13, 16, 17, 32, 64, 128, 130]))  # 16, 32, 64, 128: constant-width loops
    lead = tuple(int(v) for v in r.integers(1, 7, rank - 1))
    if seed % 11 == 0:
        lead = (int(r.integers(100, 400)),) + lead[1:]  # several reduction chunks
    return dict(seed=seed, shape=lead + (c,), act=ACTS[seed % len(ACTS)], affine=seed % 5 != 4,
                layout=["contiguous", "float64", "strided"][seed % 3], offset=[0.0, 5.0, -300.0][seed % 3 if seed % 4 else 0])


def config_id(cfg):
    return f"s{cfg['seed']}-{'x'.join(map(str, cfg['shape']))}-{cfg['act']}-{'affine' if cfg['affine'] else 'plain'}-{cfg['layout']}"


CONFIGS = [make_config(seed) for seed in range(220)]


def layout(x, kind):
    if kind == "float64":
        return x
    if kind == "strided":
        wide = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), np.float32)
        wide[..., 1::2] = x
        return wide[..., 1::2]
    return x.astype(np.float32)


@pytest.mark.parametrize("cfg", CONFIGS, ids=config_id)
def test_batch_norm_matches_reference(cfg):
    r = np.random.default_rng(cfg["seed"])
    shape, c = cfg["shape"], cfg["shape"][-1]
    x32 = (r.standard_normal(shape) * r.uniform(0.5, 3, c) + cfg["offset"]).astype(np.float32)
    x = layout(x32, cfg["layout"])
    gamma = r.uniform(0.5, 1.5, c).astype(np.float32) if cfg["affine"] else None
    beta = r.standard_normal(c).astype(np.float32) if cfg["affine"] else None
    mm, mv = r.standard_normal(c).astype(np.float32), r.uniform(0.5, 2, c).astype(np.float32)
    mm0, mv0 = mm.copy(), mv.copy()
    act, alpha = cfg["act"], {"leaky_relu": 0.2, "elu": 1.0}.get(cfg["act"], 0.0)

    y, mean, inv_std = ops.batch_norm_train(x, gamma, beta, mm, mv, momentum=0.9, epsilon=1e-3, activation=act)
    y_ref, mean_ref, is_ref, mm_ref, mv_ref = ref.batch_norm_train(x32, gamma, beta, mm0, mv0, 0.9, 1e-3, act, alpha)
    assert y.shape == shape and y.dtype == np.float32 and mean.shape == inv_std.shape == (c,)
    np.testing.assert_allclose(y, y_ref, rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(mean, mean_ref, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(inv_std, is_ref, rtol=2e-6)
    np.testing.assert_allclose(mm, mm_ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(mv, mv_ref, rtol=1e-5, atol=1e-6)

    yi = ops.batch_norm_inference(x, gamma, beta, mm0, mv0, epsilon=1e-3, activation=act)
    np.testing.assert_allclose(yi, ref.batch_norm_inference(x32, gamma, beta, mm0, mv0, 1e-3, act, alpha), rtol=2e-5, atol=2e-5)

    dy = layout(r.standard_normal(shape).astype(np.float32), cfg["layout"])
    dx, dgamma, dbeta = ops.batch_norm_backward(dy, x, gamma, mean, inv_std)
    dx_ref, dg_ref, db_ref = ref.batch_norm_backward(np.asarray(dy, np.float32), x32, gamma, mean_ref, inv_std.astype(np.float64))
    m = int(np.prod(shape[:-1]))
    scale = np.sqrt(m)  # sums over m rows of O(1) terms
    np.testing.assert_allclose(dbeta, db_ref, rtol=1e-5, atol=1e-5 * scale)
    np.testing.assert_allclose(dgamma, dg_ref, rtol=1e-5, atol=1e-5 * scale)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-4, atol=1e-5)


# A run-time width (19), the constant widths (one vector block, several) and
# batches of one reduction chunk and of several.
ISA_SHAPES = [(37, 5, 19), (3, 7, 16), (37, 128), (300, 32), (2, 5, 64), (90, 128)]


@pytest.mark.parametrize("isa", _core.supported_isas())
@pytest.mark.parametrize("shape", ISA_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_every_isa_matches_reference(isa, shape, rng):
    c, axes = shape[-1], tuple(range(len(shape) - 1))
    x = (rng.standard_normal(shape) * 2 + 300).astype(np.float32)  # the mean needs its correction (sum d)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    g, b = rng.uniform(0.5, 1.5, c).astype(np.float32), rng.standard_normal(c).astype(np.float32)
    mm, mv = np.zeros(c, np.float32), np.ones(c, np.float32)
    _core.set_isa(isa)
    try:
        y, mean, inv_std = ops.batch_norm_train(x, g, b, mm, mv, activation="leaky_relu")
        dx, dg, db = ops.batch_norm_backward(dy, x, g, mean, inv_std)
    finally:
        _core.set_isa(None)
    y_ref, mean_ref, is_ref, mm_ref, mv_ref = ref.batch_norm_train(x, g, b, np.zeros(c), np.ones(c), 0.99, 1e-3,
                                                                   "leaky_relu", 0.2)
    np.testing.assert_allclose(y, y_ref, rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(mean, mean_ref, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(inv_std, is_ref, rtol=2e-6)
    np.testing.assert_allclose(mm, mm_ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(mv, mv_ref, rtol=1e-5, atol=1e-6)
    dx_ref, dg_ref, db_ref = ref.batch_norm_backward(dy, x, g, np.asarray(x, np.float64).mean(axis=axes), inv_std.astype(float))
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dg, dg_ref, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(db, db_ref, rtol=1e-5, atol=1e-4)


# The moments are taken about the moving mean in one pass when it lies
# within about a standard deviation of the batch mean, and in two passes
# (about the batch's own float mean) otherwise: both must meet the reference
# where |mean| >> std, and a guess that is refused must leave no trace.
@pytest.mark.parametrize("isa", _core.supported_isas())
@pytest.mark.parametrize("shape", [(40, 16), (37, 128), (3, 5, 64), (90, 32)], ids=lambda s: "x".join(map(str, s)))
def test_moments_about_the_moving_mean(isa, shape, rng):
    c = shape[-1]
    x = (rng.standard_normal(shape) * 2 + 300).astype(np.float32)
    rows = x.reshape(-1, c).astype(np.float64)
    mean64, std64 = rows.mean(axis=0), rows.std(axis=0)
    g, b = rng.uniform(0.5, 1.5, c).astype(np.float32), rng.standard_normal(c).astype(np.float32)
    y_ref, mean_ref, is_ref, _, _ = ref.batch_norm_train(x, g, b, np.zeros(c), np.ones(c), 0.99, 1e-3)

    def run(guess):
        _core.set_isa(isa)
        try:
            return ops.batch_norm_train(x, g, b, np.asarray(guess, np.float32), np.ones(c, np.float32))
        finally:
            _core.set_isa(None)

    taken = {"near": mean64 + 0.5 * std64 * rng.uniform(-1, 1, c), "half a std off": mean64 + 0.5 * std64}
    refused = {"zeros": np.zeros(c), "two std off": mean64 - 2 * std64, "nan": np.full(c, np.nan),
               "inf": np.full(c, np.inf)}
    results = {name: run(guess) for name, guess in {**taken, **refused}.items()}
    for name, (y, mean, inv_std) in results.items():
        np.testing.assert_allclose(y, y_ref, rtol=2e-5, atol=2e-5, err_msg=name)
        np.testing.assert_allclose(mean, mean_ref, rtol=1e-6, atol=1e-5, err_msg=name)
        np.testing.assert_allclose(inv_std, is_ref, rtol=2e-6, err_msg=name)
    two_pass = results["zeros"]
    for name in refused:
        assert all(np.array_equal(a, b) for a, b in zip(results[name], two_pass)), name
    for name in taken:  # the one pass ran: its roundings differ from the two passes'
        assert not all(np.array_equal(a, b) for a, b in zip(results[name], two_pass)), name


def test_outputs_fully_written(rng):
    x = rng.standard_normal((7, 3, 13)).astype(np.float32)
    g, b = np.ones(13, np.float32), np.zeros(13, np.float32)
    y, mean, inv_std = _core.batch_norm_train(x, g, b, np.zeros(13, np.float32), np.ones(13, np.float32), 0.9, 1e-3, 0, 0.0, fill=np.nan)
    assert np.isfinite(y).all() and np.isfinite(mean).all() and np.isfinite(inv_std).all()
    assert np.isfinite(_core.batch_norm_inference(x, None, None, mean, inv_std, 1e-3, 2, 0.2, fill=np.nan)).all()
    for out in _core.batch_norm_backward(x, x, g, mean, inv_std, fill=np.nan):
        assert np.isfinite(out).all()


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 3, 2), (5, 1, 3)])
def test_reference_backward_matches_finite_differences(shape, rng):
    x = rng.standard_normal(shape) * 2 + 0.5
    c = shape[-1]
    g, b = rng.uniform(0.5, 1.5, c), rng.standard_normal(c)
    r = rng.standard_normal(shape)

    def loss_x(v):
        return (ref.batch_norm_train(v, g, b, np.zeros(c), np.ones(c), 0.9, 1e-3)[0] * r).sum()

    _, mean, inv_std, _, _ = ref.batch_norm_train(x, g, b, np.zeros(c), np.ones(c), 0.9, 1e-3)
    dx, dg, db = ref.batch_norm_backward(r, x, g, mean, inv_std)
    assert_grad_close(dx, numeric_grad(loss_x, x), rtol=1e-5, atol=1e-6)
    assert_grad_close(dg, numeric_grad(lambda v: (ref.batch_norm_train(x, v, b, np.zeros(c), np.ones(c), 0.9, 1e-3)[0] * r).sum(), g), rtol=1e-5, atol=1e-6)
    assert_grad_close(db, numeric_grad(lambda v: (ref.batch_norm_train(x, g, v, np.zeros(c), np.ones(c), 0.9, 1e-3)[0] * r).sum(), b), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(16, 32, 32, 32), (64, 11, 11, 13), (4096, 130), (300, 128), (8, 9, 7, 64)])
def test_one_and_two_threads_bitwise_equal(shape, rng):
    x = (rng.standard_normal(shape) + 2).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    c = shape[-1]
    g, b = rng.uniform(0.5, 1.5, c).astype(np.float32), rng.standard_normal(c).astype(np.float32)
    results = []
    before = pycnn.get_num_threads()
    for threads in (1, 2):
        pycnn.set_num_threads(threads)
        mm, mv = np.zeros(c, np.float32), np.ones(c, np.float32)
        y, mean, inv_std = ops.batch_norm_train(x, g, b, mm, mv, activation="leaky_relu")
        results.append((y, mean, inv_std, mm, mv, *ops.batch_norm_backward(dy, x, g, mean, inv_std)))
    pycnn.set_num_threads(before)
    for a, b2 in zip(*results):
        np.testing.assert_array_equal(a, b2)


def test_zero_variance_and_large_offsets(rng):
    m, c = 5000, 4
    x = np.empty((m, c), np.float32)
    x[:, 0] = 7.25  # constant channel
    x[:, 1] = 1e4 + rng.standard_normal(m).astype(np.float32)  # mean 1e4, std 1
    x[:, 2] = -3e4 + 0.01 * rng.standard_normal(m).astype(np.float32)
    x[:, 3] = rng.standard_normal(m)
    mm, mv = np.zeros(c, np.float32), np.ones(c, np.float32)
    y, mean, inv_std = ops.batch_norm_train(x, None, None, mm, mv, epsilon=1e-3)
    y_ref, mean_ref, is_ref, _, mv_ref = ref.batch_norm_train(x, None, None, np.zeros(c), np.ones(c), 0.99, 1e-3)
    assert np.isfinite(y).all() and np.isfinite(inv_std).all()
    np.testing.assert_array_equal(y[:, 0], 0.0)
    np.testing.assert_allclose(inv_std, is_ref, rtol=1e-5)
    np.testing.assert_allclose(y, y_ref, atol=1e-4)
    np.testing.assert_allclose(mv, mv_ref, rtol=1e-5)
    dx, dg, db = ops.batch_norm_backward(np.ones_like(x), x, None, mean, inv_std)
    assert np.isfinite(dx).all() and np.abs(dx).max() < 1e-3  # exactly 0 in exact arithmetic


def test_empty_batch():
    mm, mv = np.full(3, 0.5, np.float32), np.full(3, 2.0, np.float32)
    y, mean, inv_std = ops.batch_norm_train(np.zeros((0, 4, 4, 3)), None, None, mm, mv)
    assert y.shape == (0, 4, 4, 3) and (mean == 0).all() and (mm == 0.5).all() and (mv == 2.0).all()
    assert ops.batch_norm_inference(np.zeros((0, 3)), None, None, mm, mv).shape == (0, 3)
    dx, dg, db = ops.batch_norm_backward(np.zeros((0, 3)), np.zeros((0, 3)), None, mean, inv_std)
    assert dx.shape == (0, 3) and (dg == 0).all() and (db == 0).all()


C3 = np.zeros(3, np.float32)
X = np.ones((4, 3), np.float32)


def mv():
    return np.ones(3, np.float32)


@pytest.mark.parametrize("call,match", [
    (lambda: ops.batch_norm_train(np.ones(3), None, None, mv(), mv()), r"\[batch_norm\] expected `x` of rank >= 2"),
    (lambda: ops.batch_norm_train(X, np.ones(4), None, mv(), mv()), r"\[batch_norm\] expected `gamma` of shape \(3,\)"),
    (lambda: ops.batch_norm_train(X, None, np.ones((3, 1)), mv(), mv()), r"\[batch_norm\] expected `beta` of shape"),
    (lambda: ops.batch_norm_train(X, None, None, np.ones(4, np.float32), mv()), r"\[batch_norm\] expected `moving_mean` of shape"),
    (lambda: ops.batch_norm_train(X, None, None, mv(), np.ones(3)), r"\[batch_norm\] `moving_variance` is updated in place"),
    (lambda: ops.batch_norm_train(X, None, None, np.ones(6, np.float32)[::2], mv()), r"\[batch_norm\] `moving_mean` is updated in place"),
    (lambda: ops.batch_norm_train(X, None, None, [0, 0, 0], mv()), r"\[batch_norm\] `moving_mean` is updated in place"),
    (lambda: ops.batch_norm_train(X, None, None, mv(), mv(), momentum=1.5), r"\[batch_norm\] expected `momentum` in \[0, 1\]"),
    (lambda: ops.batch_norm_train(X, None, None, mv(), mv(), epsilon=0), r"\[batch_norm\] expected `epsilon` > 0"),
    (lambda: ops.batch_norm_train(X, None, None, mv(), mv(), activation="swish"), r"\[batch_norm\] expected activation"),
    (lambda: ops.batch_norm_inference(X, None, None, C3, -mv()), r"\[batch_norm\] expected `moving_variance` >= 0"),
    (lambda: ops.batch_norm_inference(X, None, None, np.zeros(2), mv()), r"\[batch_norm\] expected `moving_mean` of shape"),
    (lambda: ops.batch_norm_backward(X[:2], X, None, C3, mv()), r"\[batch_norm_backward\] expected `dy` of the shape"),
    (lambda: ops.batch_norm_backward(X, X, None, np.zeros(4), mv()), r"\[batch_norm_backward\] expected `mean` of shape"),
    (lambda: ops.batch_norm_backward(X, X, np.ones(2), C3, mv()), r"\[batch_norm_backward\] expected `gamma` of shape"),
    (lambda: ops.batch_norm_backward(X, X, None, C3, np.ones((1, 3))), r"\[batch_norm_backward\] expected `inv_std` of shape"),
    (lambda: _core.batch_norm_train(X, None, None, mv(), mv(), 0.9, 1e-3, 9, 0.0), r"\[batch_norm\] unknown activation"),
    (lambda: _core.batch_norm_train(X, None, None, np.ones(6, np.float32)[::2], mv(), 0.9, 1e-3, 0, 0.0), r"\[batch_norm\] `moving_mean`"),
])
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()
