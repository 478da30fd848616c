"""Activations: kernels vs float64 references, gradients, the fast exp's
accuracy, extreme values, every ISA, thread determinism and bad input."""

import numpy as np
import pytest

import pycnn
from pycnn import _core, ops
from gradcheck import assert_grad_close, numeric_grad
from reference import activations as ref

ISAS = _core.supported_isas()
NAMES = ["linear", "relu", "leaky_relu", "elu", "sigmoid", "tanh"]
EXP_BASED = {"elu", "sigmoid", "tanh"}
DIMS = [1, 2, 3, 5, 7, 13, 16, 17, 31, 33, 64]


@pytest.fixture(autouse=True)
def restore_runtime():
    threads = pycnn.get_num_threads()
    yield
    _core.set_isa(None)
    pycnn.set_num_threads(threads)


def random_shape(rng, max_rank=4, max_size=6000):
    while True:
        shape = tuple(int(d) for d in rng.choice(DIMS, rng.integers(1, max_rank + 1)))
        if np.prod(shape) <= max_size:
            return shape


def random_layout(rng, x):
    """x as float32, float64, an int array or a non-contiguous view (values kept)."""
    if np.all(x == np.round(x)) and rng.random() < 0.5:
        return x.astype(rng.choice([np.int32, np.int64]))
    kind = rng.integers(4)
    if kind == 1:
        return x.astype(np.float64)
    if kind == 2:
        wide = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), np.float32)
        wide[..., ::2] = x
        return wide[..., ::2]
    if kind == 3 and x.ndim >= 2:
        return np.ascontiguousarray(np.swapaxes(x, 0, -1)).swapaxes(0, -1)
    return x


def alpha_for(name, rng):
    if name == "leaky_relu":
        return float(rng.choice([0.2, 0.01, 0.5, 1.7]))
    if name == "elu":
        return float(rng.choice([1.0, 0.5, 2.0]))
    return None


def forward(name, x, alpha):
    fn = {"linear": lambda: ops.activation(x, None), "relu": lambda: ops.relu(x),
          "leaky_relu": lambda: ops.leaky_relu(x, alpha), "elu": lambda: ops.elu(x, alpha),
          "sigmoid": lambda: ops.sigmoid(x), "tanh": lambda: ops.tanh(x)}
    return fn[name]()


def tolerance(name):
    if name in EXP_BASED:
        return dict(rtol=4e-7, atol=1e-37)
    return dict(rtol=1.2e-7, atol=0) if name == "leaky_relu" else dict(rtol=0, atol=0)  # one rounding of alpha·x


def backward_from_y_reference(name, dy, y, alpha):
    """The derivative written in terms of the output, evaluated in float64."""
    dy, y = dy.astype(np.float64), y.astype(np.float64)
    return {"linear": dy, "relu": np.where(y > 0, dy, 0.0), "leaky_relu": np.where(y > 0, dy, dy * (alpha or 0.2)),
            "elu": np.where(y >= 0, dy, dy * (y + (alpha or 1.0))), "sigmoid": dy * y * (1 - y),
            "tanh": dy * (1 - y * y)}[name]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", range(40))
def test_elementwise_matches_reference(name, seed):
    rng = np.random.default_rng(seed)
    shape = random_shape(rng)
    scale = float(rng.choice([0.1, 1.0, 4.0, 30.0]))
    x32 = (rng.standard_normal(shape) * scale).astype(np.float32)
    if rng.random() < 0.2:
        x32 = np.round(x32)  # integer-valued: may be passed as an int array
    x32[np.abs(x32) < 1e-3] = 1.0  # off the kinks, for the backward checks
    x = random_layout(rng, x32)
    alpha = alpha_for(name, rng)
    a = ref.FORWARD[name](x32.astype(np.float64), alpha if alpha is not None else 0.0)
    dy = rng.standard_normal(shape).astype(np.float32)
    dx_ref = ref.BACKWARD[name](dy.astype(np.float64), x32.astype(np.float64), alpha if alpha is not None else 0.0)
    for isa in ISAS:
        _core.set_isa(isa)
        y = forward(name, x, alpha)
        assert y.dtype == np.float32 and y.shape == shape
        np.testing.assert_allclose(y, a, **tolerance(name), err_msg=f"{name} forward on {isa}")
        # every element written: the kernel fills a NaN-prefilled output
        out = np.full(shape, np.nan, np.float32)
        _core.activation_forward(x32, name, alpha or 0.0, out=out)
        np.testing.assert_array_equal(out, y)
        # backward from the input, against the float64 reference
        dx = ops.activation_backward(dy, name, x=x, alpha=alpha) if name != "linear" else dy
        np.testing.assert_allclose(dx, dx_ref, rtol=2e-6, atol=1e-6 * np.abs(dy).max(), err_msg=f"{name} dx(x) {isa}")
        # backward from the output, against the formula in terms of y
        dx_y = ops.activation_backward(dy, name, y=y, alpha=alpha)
        np.testing.assert_allclose(dx_y, backward_from_y_reference(name, dy, y, alpha), rtol=1e-6, atol=1e-30)


@pytest.mark.parametrize("seed", range(60))
def test_softmax_matches_reference(seed):
    rng = np.random.default_rng(1000 + seed)
    shape = random_shape(rng, max_rank=3)
    axis = int(rng.integers(-len(shape), len(shape)))
    scale = float(rng.choice([0.1, 1.0, 10.0, 1000.0]))
    x32 = (rng.standard_normal(shape) * scale).astype(np.float32)
    x = random_layout(rng, x32)
    y_ref = ref.softmax(x32.astype(np.float64), axis)
    dy = rng.standard_normal(shape).astype(np.float32)
    for isa in ISAS:
        _core.set_isa(isa)
        y = ops.softmax(x, axis=axis)
        # x - max is rounded to float32 first: its error grows with |x - max|
        shift = np.abs(x32 - x32.max(axis=axis, keepdims=True)).astype(np.float64)
        bound = (5e-7 + shift * 2.0 ** -24) * y_ref + 1e-37
        assert np.all(np.abs(y - y_ref) <= bound), f"{isa}: max excess {np.max(np.abs(y - y_ref) / bound):.2f}"
        np.testing.assert_allclose(y.sum(axis=axis), 1.0, rtol=2e-6)
        dx = ops.softmax_backward(dy, y, axis=axis)
        y64 = y.astype(np.float64)
        dx_ref = y64 * (dy - np.sum(dy * y64, axis=axis, keepdims=True))
        np.testing.assert_allclose(dx, dx_ref, rtol=1e-5, atol=1e-6 * np.abs(dy).max())
        out = np.full(x32.reshape(-1, shape[-1]).shape, np.nan, np.float32)
        _core.softmax(x32.reshape(-1, shape[-1]), out=out)
        assert np.isfinite(out).all()


@pytest.mark.parametrize("name", NAMES[1:] + ["softmax"])
@pytest.mark.parametrize("seed", range(2))
def test_reference_backward_matches_finite_differences(name, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 5)) * 2
    x[np.abs(x) < 0.05] = 0.3
    r = rng.standard_normal((3, 5))
    alpha = {"leaky_relu": 0.3, "elu": 1.5}.get(name, 0.0)
    if name == "softmax":
        f, analytic = (lambda v: (ref.softmax(v) * r).sum()), ref.softmax_backward(r, x)
    else:
        f, analytic = (lambda v: (ref.FORWARD[name](v, alpha) * r).sum()), ref.BACKWARD[name](r, x, alpha)
    assert_grad_close(analytic, numeric_grad(f, x), rtol=1e-6, atol=1e-8)


def ulp_error(y, exact):
    """|y - exact| in units of float32 spacing at the exact value."""
    return np.abs(y.astype(np.float64) - exact) / np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)


@pytest.mark.parametrize("isa", ISAS)
def test_fast_exp_accuracy(isa, rng):
    _core.set_isa(isa)
    x = np.concatenate([np.linspace(-87.3, 88.7, 400_001), rng.uniform(-1, 1, 100_000),
                        rng.uniform(-20, 20, 100_000)]).astype(np.float32)
    exact = np.exp(x.astype(np.float64))
    err = ulp_error(_core.fast_exp(x), exact)
    assert err.max() <= 1.5, f"max {err.max():.2f} ulp at x={x[err.argmax()]}"
    # subnormal results: within one subnormal step; below -103.97 exactly 0
    sub = np.linspace(-103.9, -87.4, 10_001).astype(np.float32)
    ys = _core.fast_exp(sub)
    assert np.all(np.abs(ys - np.exp(sub.astype(np.float64))) <= 2 * 2.0 ** -149)
    big = np.array([-np.inf, -1e30, -1e4, -200.0, -104.0, 89.0, 100.0, 1e4, np.inf, np.nan], np.float32)
    yb = _core.fast_exp(big)
    np.testing.assert_array_equal(yb[:5], 0.0)
    assert np.all(np.isposinf(yb[5:9])) and np.isnan(yb[9])


@pytest.mark.parametrize("isa", ISAS)
def test_exp_based_activations_keep_relative_accuracy(isa):
    """tanh and elu near 0 (expm1 form) and sigmoid far out keep a few ulp."""
    _core.set_isa(isa)
    x = np.concatenate([-np.logspace(-30, 1.9, 20_000), np.logspace(-30, 1.9, 20_000)]).astype(np.float32)
    x64 = x.astype(np.float64)
    assert ulp_error(ops.tanh(x), np.tanh(x64)).max() <= 2.5
    neg = x[x < 0]
    assert ulp_error(ops.elu(neg), np.expm1(neg.astype(np.float64))).max() <= 1.0
    assert ulp_error(ops.sigmoid(x), ref.sigmoid(x64)).max() <= 2.5


@pytest.mark.parametrize("isa", ISAS)
def test_extreme_values_saturate_and_nan_propagates(isa):
    _core.set_isa(isa)
    x = np.array([-np.inf, -1e4, -100.0, -30.0, 30.0, 100.0, 1e4, np.inf, np.nan], np.float32)
    s, t, e = ops.sigmoid(x), ops.tanh(x), ops.elu(x, 1.5)
    np.testing.assert_array_equal(s[[0, 1, 2]], 0.0)
    np.testing.assert_array_equal(s[[5, 6, 7]], 1.0)
    np.testing.assert_array_equal(t[:3], -1.0)
    np.testing.assert_array_equal(t[5:8], 1.0)
    np.testing.assert_array_equal(e[:3], -1.5)
    np.testing.assert_array_equal(e[4:8], x[4:8])
    for y in (s, t, e, ops.relu(x), ops.leaky_relu(x)):
        assert np.isnan(y[-1])
    big = np.array([[1e4, -1e4, 0.0], [3e38, 3e38, -3e38], [1.0, np.nan, 2.0]], np.float32)
    sm = ops.softmax(big)
    np.testing.assert_allclose(sm[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(sm[1], [0.5, 0.5, 0.0])
    assert np.isnan(sm[2]).all()


@pytest.mark.parametrize("isa", ISAS)
def test_threads_bitwise_identical(isa, rng):
    _core.set_isa(isa)
    x = (rng.standard_normal(100_003) * 5).astype(np.float32)
    dy = rng.standard_normal(100_003).astype(np.float32)
    rows = (rng.standard_normal((1001, 97)) * 5).astype(np.float32)
    results = []
    for threads in (1, 2):
        pycnn.set_num_threads(threads)
        out = [forward(n, x, alpha_for(n, np.random.default_rng(0))) for n in NAMES]
        out += [ops.activation_backward(dy, n, x=x) for n in NAMES[1:]]
        out += [ops.activation_backward(dy, n, y=y) for n, y in zip(NAMES, out[:6])]
        sm = ops.softmax(rows)
        out += [sm, ops.softmax_backward(rows, sm)]
        results.append(out)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_in_place_and_empty():
    x = np.linspace(-3, 3, 50, dtype=np.float32)
    expected = ops.tanh(x)
    _core.activation_forward(x, "tanh", 0.0, out=x)
    np.testing.assert_array_equal(x, expected)
    for fn in (ops.relu, ops.sigmoid, ops.tanh, ops.softmax):
        assert fn(np.zeros((0, 5), np.float32)).shape == (0, 5)
    assert ops.softmax(np.zeros((3, 0), np.float32)).shape == (3, 0)
    assert ops.activation_backward(np.zeros((0, 4)), "elu", y=np.zeros((0, 4))).shape == (0, 4)


def test_generic_activation_dispatch(rng):
    x = rng.standard_normal((4, 9)).astype(np.float32)
    np.testing.assert_array_equal(ops.activation(x, "leaky_relu"), ops.leaky_relu(x, 0.2))
    np.testing.assert_array_equal(ops.activation(x, "elu", alpha=0.5), ops.elu(x, 0.5))
    np.testing.assert_array_equal(ops.activation(x, "softmax"), ops.softmax(x))
    np.testing.assert_array_equal(ops.activation(x, "LINEAR"), x)
    y = ops.softmax(x)
    np.testing.assert_array_equal(ops.activation_backward(x, "softmax", y=y), ops.softmax_backward(x, y))
    # negative slope: the output no longer tells the sign, x is used
    np.testing.assert_array_equal(ops.activation_backward(x, "leaky_relu", x=x, y=x, alpha=-0.5),
                                  ops.leaky_relu_backward(x, x, -0.5))


@pytest.mark.parametrize("call, match", [
    (lambda: ops.activation(np.ones(3), "gelu"), r"\[activation\] expected an activation"),
    (lambda: ops.activation(np.ones(3), "relu", alpha=float("nan")), r"\[activation\] expected `alpha`"),
    (lambda: ops.relu(np.ones(3, complex)), r"\[relu\] expected `x` with a real numeric dtype"),
    (lambda: ops.relu_backward(np.ones(3), np.ones(4)), r"\[relu_backward\] expected `dy` and `y` of the same shape"),
    (lambda: ops.softmax(np.ones((2, 3)), axis=2), r"\[softmax\] axis 2 is out of range"),
    (lambda: _core.softmax(np.array(1.0, np.float32)), r"\[softmax\] expected an array of rank >= 1"),
    (lambda: ops.activation_backward(np.ones(3), "softmax", x=np.ones(3)), r"\[activation_backward\] softmax .* needs `y`"),
    (lambda: ops.activation_backward(np.ones(3), "elu", y=np.ones(3), alpha=-1.0), r"\[activation_backward\] elu .* needs `x`"),
    (lambda: ops.activation_backward(np.ones(3), "tanh"), r"\[activation_backward\] tanh .* got neither"),
    (lambda: _core.activation_forward(np.ones(3, np.float32), "swish", 0.0), r"\[activation\] unknown activation"),
    (lambda: _core.activation_forward(np.ones(3, np.float32), "relu", 0.0, out=np.ones(4, np.float32)), r"\[activation\] expected `out`"),
    (lambda: _core.activation_backward(np.ones(3, np.float32), np.ones(3, np.float32), "leaky_relu", -1.0, True),
     r"\[activation_backward\] leaky_relu with alpha -1 needs the input x"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
