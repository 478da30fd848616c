"""pool2d kernels vs the float64 references in tests/reference/pooling.py."""

import numpy as np
import pytest

import pycnn
from pycnn import _core, ops
from gradcheck import assert_grad_close, numeric_grad
from reference import pooling as ref


def make_config(seed):
    r = np.random.default_rng(seed)
    padding = ["valid", "same"][seed % 2]
    n = int(r.choice([1, 1, 2, 3]))
    h, w = (int(v) for v in r.integers(1, 10, 2))
    c = int(r.choice([1, 3, 4, 13, 16, 17, 33]))
    if padding == "valid":
        pool = tuple(int(r.integers(1, d + 1)) for d in (h, w))
    else:
        pool = tuple(int(v) for v in r.integers(1, 6, 2))  # may exceed the input
    stride = tuple(int(v) for v in r.integers(1, 5, 2))  # also > pool
    layout = ["contiguous", "float64", "strided"][seed % 3]
    return dict(seed=seed, n=n, h=h, w=w, c=c, pool=pool, stride=stride, padding=padding, layout=layout)


def config_id(cfg):
    return (f"s{cfg['seed']}-n{cfg['n']}-h{cfg['h']}w{cfg['w']}-c{cfg['c']}-p{cfg['pool'][0]}x{cfg['pool'][1]}"
            f"-s{cfg['stride'][0]}x{cfg['stride'][1]}-{cfg['padding']}-{cfg['layout']}")


CONFIGS = [make_config(seed) for seed in range(220)]


def distinct_input(shape, rng, layout="contiguous"):
    """Values all distinct (unique argmax) and well separated (no near-ties)."""
    x = rng.permutation(int(np.prod(shape))).reshape(shape).astype(np.float64) / 8.0 - 3.0
    if layout == "float64":
        return x
    if layout == "strided":
        wide = np.zeros(shape[:-1] + (2 * shape[-1],), np.float32)
        wide[..., ::2] = x
        return wide[..., ::2]
    return x.astype(np.float32)


@pytest.mark.parametrize("cfg", CONFIGS, ids=config_id)
def test_pooling_matches_reference(cfg):
    rng = np.random.default_rng(cfg["seed"])
    shape = (cfg["n"], cfg["h"], cfg["w"], cfg["c"])
    pool, stride, padding = cfg["pool"], cfg["stride"], cfg["padding"]
    x = distinct_input(shape, rng, cfg["layout"])

    y, argmax = ops.max_pool2d(x, pool, stride, padding)
    y_ref, argmax_ref = ref.max_pool(x, pool, stride, padding)
    assert y.dtype == np.float32 and argmax.dtype == np.int32 and y.shape == y_ref.shape
    np.testing.assert_array_equal(y, y_ref.astype(np.float32))
    np.testing.assert_array_equal(argmax, argmax_ref)

    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx = ops.max_pool2d_backward(dy, argmax, shape)
    np.testing.assert_allclose(dx, ref.max_pool_backward(dy, x, pool, stride, padding), rtol=1e-5, atol=1e-5)

    ya = ops.avg_pool2d(x, pool, stride, padding)
    np.testing.assert_allclose(ya, ref.avg_pool(x, pool, stride, padding), rtol=1e-5, atol=1e-5)
    dxa = ops.avg_pool2d_backward(dy, shape, pool, stride, padding)
    np.testing.assert_allclose(dxa, ref.avg_pool_backward(dy, shape, pool, stride, padding), rtol=1e-5, atol=1e-5)


# The seed networks' 2x2 / stride-2 pooling (full windows in one loop with C
# a constant for 16 / 32 / 64 / 128, the rest pixel by pixel): even and odd
# sizes, 'valid' (uncovered last row / column) and 'same' (windows cut by
# the edge).
TWO_BY_TWO = [dict(seed=1000 + i, n=n, h=h, w=w, c=c, pool=(2, 2), stride=(2, 2), padding=padding,
                   layout="contiguous")
              for i, (n, h, w, c, padding) in enumerate([
                  (2, 8, 6, 16, "valid"), (1, 7, 9, 32, "valid"), (3, 9, 7, 64, "same"), (2, 12, 11, 16, "same"),
                  (1, 5, 5, 48, "same"), (2, 6, 7, 5, "valid"), (1, 13, 12, 32, "same"), (2, 4, 4, 64, "valid"),
                  (1, 11, 13, 16, "valid"), (2, 3, 2, 32, "same")])]


@pytest.mark.parametrize("isa", _core.supported_isas())
@pytest.mark.parametrize("cfg", TWO_BY_TWO, ids=config_id)
def test_two_by_two_matches_reference(cfg, isa):
    rng = np.random.default_rng(cfg["seed"])
    shape = (cfg["n"], cfg["h"], cfg["w"], cfg["c"])
    x = distinct_input(shape, rng).astype(np.float32)
    x[..., ::3] = np.round(x[..., ::3])  # ties in every third channel: the first cell wins
    dy = rng.standard_normal(ref.out_shape(shape, (2, 2), (2, 2), cfg["padding"])).astype(np.float32)
    _core.set_isa(isa)
    try:
        y, argmax = _core.max_pool2d(x, 2, 2, 2, 2, cfg["padding"] == "same", fill=np.nan)
        values = ops.max_pool2d(x, 2, 2, cfg["padding"], return_argmax=False)
        dx = ops.max_pool2d_backward(dy, argmax, shape, 2, 2, cfg["padding"])
    finally:
        _core.set_isa(None)
    want_y, want_argmax = ref.max_pool(x, (2, 2), (2, 2), cfg["padding"])
    np.testing.assert_array_equal(y, want_y.astype(np.float32))
    np.testing.assert_array_equal(argmax, want_argmax)
    np.testing.assert_array_equal(values, y)
    np.testing.assert_allclose(dx, ref.max_pool_backward(dy, x, (2, 2), (2, 2), cfg["padding"]), rtol=1e-6, atol=0)


@pytest.mark.parametrize("cfg", CONFIGS[:40:3], ids=config_id)
def test_outputs_fully_written(cfg):
    rng = np.random.default_rng(cfg["seed"])
    shape = (cfg["n"], cfg["h"], cfg["w"], cfg["c"])
    (ph, pw), (sh, sw), same = cfg["pool"], cfg["stride"], cfg["padding"] == "same"
    x = distinct_input(shape, rng).astype(np.float32)
    y, argmax = _core.max_pool2d(x, ph, pw, sh, sw, same, fill=np.nan)
    assert np.isfinite(y).all() and (argmax >= 0).all()
    dx = _core.max_pool2d_backward(np.ones_like(y), argmax, list(shape), fill=np.nan)
    assert np.isfinite(dx).all()
    assert np.isfinite(_core.avg_pool2d(x, ph, pw, sh, sw, same, fill=np.nan)).all()
    assert np.isfinite(_core.avg_pool2d_backward(np.ones_like(y), list(shape), ph, pw, sh, sw, same, fill=np.nan)).all()


@pytest.mark.parametrize("isa", _core.supported_isas())
@pytest.mark.parametrize("cfg", CONFIGS[:60:7], ids=config_id)
def test_every_isa_matches_reference(cfg, isa):
    rng = np.random.default_rng(cfg["seed"])
    shape = (cfg["n"], cfg["h"], cfg["w"], cfg["c"])
    pool, stride, padding = cfg["pool"], cfg["stride"], cfg["padding"]
    x = distinct_input(shape, rng).astype(np.float32)
    dy = rng.standard_normal(ref.out_shape(shape, pool, stride, padding)).astype(np.float32)
    _core.set_isa(isa)
    try:
        y, argmax = ops.max_pool2d(x, pool, stride, padding)
        dx = ops.max_pool2d_backward(dy, argmax, shape)
        ya = ops.avg_pool2d(x, pool, stride, padding)
        dxa = ops.avg_pool2d_backward(dy, shape, pool, stride, padding)
    finally:
        _core.set_isa(None)
    np.testing.assert_array_equal(y, ref.max_pool(x, pool, stride, padding)[0].astype(np.float32))
    np.testing.assert_allclose(dx, ref.max_pool_backward(dy, x, pool, stride, padding), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ya, ref.avg_pool(x, pool, stride, padding), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dxa, ref.avg_pool_backward(dy, shape, pool, stride, padding), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("isa", _core.supported_isas())
@pytest.mark.parametrize("cfg", CONFIGS[::5], ids=config_id)
def test_max_pool_without_argmax_gives_the_same_values(cfg, isa):
    """return_argmax=False (inference) writes every element, equal bit for bit
    to the argmax pass, NaN and ties included."""
    rng = np.random.default_rng(cfg["seed"])
    shape = (cfg["n"], cfg["h"], cfg["w"], cfg["c"])
    pool, stride, padding = cfg["pool"], cfg["stride"], cfg["padding"]
    x = np.round(rng.standard_normal(shape), 1).astype(np.float32)  # ties
    x.flat[rng.integers(0, x.size, 3)] = np.nan
    _core.set_isa(isa)
    try:
        y, _ = ops.max_pool2d(x, pool, stride, padding)
        values = ops.max_pool2d(x, pool, stride, padding, return_argmax=False)
        prefilled = _core.max_pool2d(x, *pool, *stride, padding == "same", fill=np.inf, with_argmax=False)
    finally:
        _core.set_isa(None)
    assert isinstance(values, np.ndarray) and values.dtype == np.float32
    np.testing.assert_array_equal(values, y)
    np.testing.assert_array_equal(prefilled, y)
    np.testing.assert_array_equal(ops.max_pool2d(x[:0], pool, stride, padding, return_argmax=False), y[:0])


@pytest.mark.parametrize("isa", _core.supported_isas())
@pytest.mark.parametrize("h, w, padding", [(4, 6, "valid"), (5, 7, "valid"), (8, 4, "same"), (2, 3, "valid"),
                                           (2, 2, "same"), (5, 6, "same")])
@pytest.mark.parametrize("c", [1, 16, 17, 33])
def test_whole_2x2_windows(h, w, padding, c, isa):
    """The 2x2 / stride-2 route (every window inside the image; 'same' with an
    odd size takes the general one): values and argmax as the reference, ties
    resolved to the first cell in window order."""
    rng = np.random.default_rng(h * 100 + w * 10 + c)
    shape = (3, h, w, c)
    x = rng.integers(-2, 3, shape).astype(np.float32)  # many ties
    _core.set_isa(isa)
    try:
        y, argmax = ops.max_pool2d(x, 2, 2, padding)
        dx = ops.max_pool2d_backward(np.ones_like(y), argmax, shape)
    finally:
        _core.set_isa(None)
    want_y, want_argmax = ref.max_pool(x, (2, 2), (2, 2), padding)
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(argmax, want_argmax)
    assert dx.sum() == y.size


@pytest.mark.parametrize("bad", [None, 0, "no", 1.0])
def test_max_pool_return_argmax_must_be_a_bool(bad):
    with pytest.raises(ValueError, match=r"^\[max_pool2d\] expected `return_argmax` True or False"):
        ops.max_pool2d(np.zeros((1, 2, 2, 1)), return_argmax=bad)


@pytest.mark.parametrize("seed", range(30))
def test_global_pooling(seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 4)), int(rng.integers(1, 9)), int(rng.integers(1, 9)), int(rng.choice([1, 5, 13, 32])))
    x = distinct_input(shape, rng)
    np.testing.assert_allclose(ops.global_avg_pool2d(x), ref.global_avg_pool(x), rtol=1e-5, atol=1e-5)
    y, argmax = ops.global_max_pool2d(x)
    y_ref, argmax_ref = ref.global_max_pool(x)
    np.testing.assert_array_equal(y, y_ref.astype(np.float32))
    np.testing.assert_array_equal(argmax, argmax_ref)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    np.testing.assert_allclose(ops.global_max_pool2d_backward(dy, argmax, shape),
                               ref.global_max_pool_backward(dy, x), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ops.global_avg_pool2d_backward(dy, shape),
                               ref.global_avg_pool_backward(dy, shape), rtol=1e-5, atol=1e-6)


GRAD_CASES = [((1, 5, 4, 2), (2, 2), (2, 2), "valid"), ((2, 5, 5, 3), (3, 2), (1, 2), "same"),
              ((1, 4, 6, 2), (2, 3), (3, 1), "same"), ((1, 3, 3, 1), (3, 3), (1, 1), "valid")]


@pytest.mark.parametrize("shape,pool,stride,padding", GRAD_CASES)
def test_reference_backward_matches_finite_differences(shape, pool, stride, padding, rng):
    x = distinct_input(shape, rng).astype(np.float64)
    r = rng.standard_normal(ref.out_shape(shape, pool, stride, padding))
    assert_grad_close(ref.max_pool_backward(r, x, pool, stride, padding),
                      numeric_grad(lambda v: (ref.max_pool(v, pool, stride, padding)[0] * r).sum(), x))
    assert_grad_close(ref.avg_pool_backward(r, shape, pool, stride, padding),
                      numeric_grad(lambda v: (ref.avg_pool(v, pool, stride, padding) * r).sum(), x))
    rg = rng.standard_normal((shape[0], shape[3]))
    assert_grad_close(ref.global_max_pool_backward(rg, x), numeric_grad(lambda v: (ref.global_max_pool(v)[0] * rg).sum(), x))
    assert_grad_close(ref.global_avg_pool_backward(rg, shape), numeric_grad(lambda v: (ref.global_avg_pool(v) * rg).sum(), x))


@pytest.mark.parametrize("pool,stride,padding", [((2, 2), (2, 2), "valid"), ((3, 3), (1, 1), "same"), ((3, 2), (2, 3), "same")])
def test_one_and_two_threads_bitwise_equal(pool, stride, padding, rng):
    shape = (8, 30, 27, 19)  # large enough to be split over threads
    x = rng.standard_normal(shape).astype(np.float32)
    dy = rng.standard_normal(ref.out_shape(shape, pool, stride, padding)).astype(np.float32)
    results = []
    before = pycnn.get_num_threads()
    for threads in (1, 2):
        pycnn.set_num_threads(threads)
        y, argmax = ops.max_pool2d(x, pool, stride, padding)
        results.append((y, argmax, ops.max_pool2d_backward(dy, argmax, shape), ops.avg_pool2d(x, pool, stride, padding),
                        ops.avg_pool2d_backward(dy, shape, pool, stride, padding), ops.global_avg_pool2d(x)))
    pycnn.set_num_threads(before)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_empty_batch():
    x = np.zeros((0, 6, 5, 3), np.float32)
    y, argmax = ops.max_pool2d(x, 2, None, "same")
    assert y.shape == (0, 3, 3, 3) and argmax.shape == (0, 3, 3, 3)
    assert ops.max_pool2d_backward(y, argmax, x.shape).shape == x.shape
    assert ops.avg_pool2d(x).shape == (0, 3, 2, 3)
    assert ops.avg_pool2d_backward(np.zeros((0, 3, 2, 3)), x.shape).shape == x.shape
    assert ops.global_avg_pool2d(x).shape == (0, 3)
    gy, ga = ops.global_max_pool2d(x)
    assert gy.shape == (0, 3) and ops.global_max_pool2d_backward(gy, ga, x.shape).shape == x.shape


X = np.arange(2 * 4 * 4 * 3, dtype=np.float32).reshape(2, 4, 4, 3)
Y, A = ops.max_pool2d(X)


@pytest.mark.parametrize("call,match", [
    (lambda: ops.max_pool2d(X[0]), r"\[max_pool2d\] expected `x` of rank 4"),
    (lambda: ops.max_pool2d(X, pool_size=0), r"\[max_pool2d\] expected `pool_size` >= 1"),
    (lambda: ops.max_pool2d(X, pool_size=(-1, 2)), r"\[max_pool2d\]"),
    (lambda: ops.max_pool2d(X, pool_size=5), r"\[max_pool2d\] pool size 5 is larger than the input"),
    (lambda: ops.max_pool2d(X, strides=(0, 1)), r"\[max_pool2d\] expected `strides` >= 1"),
    (lambda: ops.max_pool2d(X, padding="full"), r"\[max_pool2d\] expected padding"),
    (lambda: ops.max_pool2d(X, padding=((1, 1), (1, 1))), r"\[max_pool2d\] expected padding 'valid' or 'same'"),
    (lambda: ops.max_pool2d(np.zeros((1, 0, 3, 2))), r"\[max_pool2d\] input height must be >= 1"),
    (lambda: ops.max_pool2d(np.array([["a"]])), r"\[max_pool2d\]"),
    (lambda: ops.max_pool2d_backward(Y, A, (2, 4, 4)), r"\[max_pool2d_backward\] expected `input_shape`"),
    (lambda: ops.max_pool2d_backward(Y, A, (2, 4, 4, 4)), r"\[max_pool2d_backward\] dy of shape"),
    (lambda: ops.max_pool2d_backward(Y, A[:, :1], X.shape), r"\[max_pool2d_backward\] expected `argmax` of the shape"),
    (lambda: ops.max_pool2d_backward(Y, A.astype(np.float32), X.shape), r"\[max_pool2d_backward\] expected `argmax` as the integer"),
    (lambda: ops.max_pool2d_backward(Y, A + 48, X.shape), r"\[max_pool2d_backward\] argmax holds indices outside \[0, 48\)"),
    (lambda: ops.max_pool2d_backward(Y, A - 100, X.shape), r"\[max_pool2d_backward\] argmax holds indices outside"),
    (lambda: ops.max_pool2d_backward(Y, A.astype(np.int64) + 2**32, X.shape), r"\[max_pool2d_backward\] `argmax` holds indices"),
    (lambda: ops.avg_pool2d(X, (2, 7)), r"\[avg_pool2d\] pool size 7 is larger than the input width"),
    (lambda: ops.avg_pool2d_backward(Y, X.shape, 3), r"\[avg_pool2d_backward\] expected dy of shape"),
    (lambda: ops.avg_pool2d_backward(Y, (2, 4, -4, 3)), r"\[avg_pool2d_backward\] expected `input_shape`"),
    (lambda: ops.global_avg_pool2d(X[0]), r"\[global_avg_pool2d\] expected `x` of rank 4"),
    (lambda: ops.global_avg_pool2d_backward(np.zeros((2, 4)), X.shape), r"\[global_avg_pool2d_backward\] expected dy of shape"),
    (lambda: ops.global_max_pool2d(X[0]), r"\[global_max_pool2d\] expected `x` of rank 4"),
    (lambda: ops.global_max_pool2d_backward(np.zeros((2, 3)), np.full((2, 3), 48), X.shape),
     r"\[global_max_pool2d_backward\] argmax holds indices outside"),
])
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()
