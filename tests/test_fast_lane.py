"""The small ops' fast lane (csrc/bindings/fast_lane.h) against their checked path.

``ops.gemm``, ``batch_norm_train``, ``batch_norm_backward``, ``dropout`` and
``dropout_backward`` first offer their arguments to a ``_core.*_fast`` entry,
which runs the kernel only when every argument is already what the kernel
reads and returns None otherwise. These tests pin both halves: the fast
lane's results are bitwise those of the checked path, and every argument the
fast lane cannot take is handed on (None), so conversions and error messages
stay the checked path's.
"""

import copy
import importlib
import inspect
import pickle
import pydoc
import re
import sys

import numpy as np
import pytest

from pycnn import _core, ops

# The modules themselves (pycnn.ops.gemm and .dropout also name functions).
gemm_module = importlib.import_module("pycnn.ops.gemm")
dropout_module = importlib.import_module("pycnn.ops.dropout")


def _misaligned(x):
    """A float32 copy of x whose data pointer is not a multiple of 4 bytes."""
    raw = np.zeros(x.nbytes + 1, np.uint8)
    out = np.frombuffer(raw.data, dtype=np.float32, count=x.size, offset=1).reshape(x.shape)
    out[...] = x
    assert not out.flags.aligned
    return out


def _read_only(x):
    x = x.copy()
    x.flags.writeable = False
    return x


@pytest.fixture
def rng():
    return np.random.default_rng(20261206)


# ---- gemm -------------------------------------------------------------------


def _gemm_args(rng, m=16, n=2, k=128, ta=False, tb=False):
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
    c = rng.standard_normal((m, n)).astype(np.float32)
    return a, b, c


@pytest.mark.parametrize("m,n,k", [(16, 2, 128), (128, 2, 16), (64, 10, 64), (7, 300, 33)])
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_gemm_fast_lane_equals_checked_path(rng, m, n, k, ta, tb):
    a, b, c = _gemm_args(rng, m, n, k, ta, tb)
    for c_arg, beta in [(None, 0.0), (c, 0.5), (c, 0.0)]:
        fast = _core.gemm_fast(a, b, c_arg, ta, tb, -1.5, beta)
        checked = gemm_module._gemm_checked(a, b, c_arg, -1.5, beta, ta, tb)
        assert fast is not None and np.array_equal(fast, checked)
    # Strided rows (a column slice) are taken in place, as by the checked path.
    wide = np.concatenate([a, a], axis=1)
    view = wide[:, : a.shape[1]]
    assert np.array_equal(_core.gemm_fast(view, b, None, ta, tb, 1.0, 0.0), ops.gemm(a, b, trans_a=ta, trans_b=tb))


def test_gemm_fast_lane_hands_on_what_it_cannot_take(rng):
    a, b, c = _gemm_args(rng)
    canonical = (a, b, None, False, False, 1.0, 0.0)
    assert _core.gemm_fast(*canonical) is not None
    handed_on = {
        "float64 a": (a.astype(np.float64),) + canonical[1:],
        "list b": (a, b.tolist()) + canonical[2:],
        "transposed view": (a, np.asfortranarray(b)) + canonical[2:],
        "reversed rows": (a[::-1],) + canonical[1:],
        "misaligned a": (_misaligned(a),) + canonical[1:],
        "1-D b": (a, b[:, 0]) + canonical[2:],
        "inner sizes differ": (a, b[:-1]) + canonical[2:],
        "empty a": (a[:0],) + canonical[1:],
        "int trans flag": canonical[:3] + (1,) + canonical[4:],
        "int alpha": canonical[:5] + (2, 0.0),
        "numpy float beta": (a, b, c, False, False, 1.0, np.float32(0.5)),
        "beta without c": canonical[:6] + (0.5,),
        "c of another shape": (a, b, c.T.copy(), False, False, 1.0, 0.5),
        "float64 c": (a, b, c.astype(np.float64), False, False, 1.0, 0.5),
        "nan alpha": canonical[:5] + (float("nan"), 0.0),
    }
    for why, args in handed_on.items():
        assert _core.gemm_fast(*args) is None, why


def test_gemm_checked_path_still_converts_and_refuses(rng):
    a, b, c = _gemm_args(rng)
    want = ops.gemm(a, b, c, alpha=2.0, beta=0.5)
    assert np.array_equal(ops.gemm(a.astype(np.float64), b.tolist(), c, alpha=2, beta=0.5), want)
    with pytest.raises(ValueError, match=r"\[gemm\] beta != 0 needs `c`"):
        ops.gemm(a, b, beta=0.5)
    with pytest.raises(ValueError, match=r"\[gemm\] inner dimensions differ"):
        ops.gemm(a, b[:-1])


# ---- batch norm ---------------------------------------------------------------


def _bn_args(rng, shape=(32, 128)):
    c = shape[-1]
    x = (3.0 + 2.0 * rng.standard_normal(shape)).astype(np.float32)
    gamma = rng.uniform(0.5, 1.5, c).astype(np.float32)
    beta = rng.standard_normal(c).astype(np.float32)
    moving = rng.standard_normal(c).astype(np.float32), rng.uniform(0.5, 2.0, c).astype(np.float32)
    return x, gamma, beta, moving


@pytest.mark.parametrize("shape", [(32, 128), (4, 5, 7, 3), (0, 16)])
@pytest.mark.parametrize("activation,alpha", [(None, None), ("linear", None), ("relu", None), ("leaky_relu", 0.1),
                                              ("leaky_relu", None), ("elu", None), ("sigmoid", None), ("tanh", None)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_fast_lane_equals_checked_path(rng, shape, activation, alpha, affine):
    # Every name, and the default alphas: fast_lane.h keeps its own table of them.
    x, gamma, beta, (mm, mv) = _bn_args(rng, shape)
    if not affine:
        gamma = beta = None
    mm_fast, mv_fast, mm_checked, mv_checked = mm.copy(), mv.copy(), mm.copy(), mv.copy()
    fast = _core.batch_norm_train_fast(x, gamma, beta, mm_fast, mv_fast, 0.9, 1e-3, activation, alpha)
    checked = ops.batch_norm_train.__wrapped__(x, gamma, beta, mm_checked, mv_checked, 0.9, 1e-3, activation, alpha)
    assert fast is not None
    for got, want in zip(fast + (mm_fast, mv_fast), checked + (mm_checked, mv_checked)):
        assert np.array_equal(got, want, equal_nan=True)
    y, mean, inv_std = fast
    dy = rng.standard_normal(shape).astype(np.float32)
    fast = _core.batch_norm_backward_fast(dy, x, gamma, mean, inv_std, activation, alpha, y)
    checked = ops.batch_norm_backward.__wrapped__(dy, x, gamma, mean, inv_std, activation=activation, alpha=alpha,
                                                  y=y)
    assert fast is not None
    for got, want in zip(fast, checked):
        assert np.array_equal(got, want)


def test_batch_norm_train_fast_lane_hands_on_what_it_cannot_take(rng):
    x, gamma, beta, (mm, mv) = _bn_args(rng)
    canonical = (x, gamma, beta, mm, mv, 0.99, 1e-3, None, None)
    assert _core.batch_norm_train_fast(*canonical) is not None

    def swap(i, value):
        return canonical[:i] + (value,) + canonical[i + 1:]

    handed_on = {
        "float64 x": swap(0, x.astype(np.float64)),
        "non-contiguous x": swap(0, np.asfortranarray(x)),
        "misaligned x": swap(0, _misaligned(x)),
        "1-D x": swap(0, x[0]),
        "no channels": swap(0, x[:, :0]),
        "gamma of another size": swap(1, gamma[:-1]),
        "list beta": swap(2, beta.tolist()),
        "read-only moving mean": swap(3, _read_only(mm)),
        "float64 moving variance": swap(4, mv.astype(np.float64)),
        "momentum above 1": swap(5, 1.5),
        "int momentum": swap(5, 1),
        "zero epsilon": swap(6, 0.0),
        "numpy epsilon": swap(6, np.float64(1e-3)),
        "capitalised activation": swap(7, "ReLU"),
        "unknown activation": swap(7, "swish"),
        "int alpha": canonical[:7] + ("leaky_relu", 1),
        "infinite alpha": canonical[:7] + ("leaky_relu", float("inf")),
    }
    for why, args in handed_on.items():
        assert _core.batch_norm_train_fast(*args) is None, why
    # Nothing was updated by a call that was handed on.
    before = mm.copy()
    _core.batch_norm_train_fast(*swap(6, 0.0))
    assert np.array_equal(mm, before)


def test_batch_norm_backward_fast_lane_hands_on_what_it_cannot_take(rng):
    x, gamma, beta, (mm, mv) = _bn_args(rng)
    y, mean, inv_std = ops.batch_norm_train(x, gamma, beta, mm, mv, activation="leaky_relu", alpha=0.2)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    canonical = (dy, x, gamma, mean, inv_std, "leaky_relu", 0.2, y)
    assert _core.batch_norm_backward_fast(*canonical) is not None
    assert _core.batch_norm_backward_fast(dy, x, gamma, mean, inv_std, None, None, "ignored") is not None

    def swap(i, value):
        return canonical[:i] + (value,) + canonical[i + 1:]

    handed_on = {
        "dy of another shape": swap(0, dy[:-1]),
        "float64 dy": swap(0, dy.astype(np.float64)),
        "mean of another size": swap(3, mean[:-1]),
        "no y with an activation": swap(7, None),
        "y of another shape": swap(7, y[:-1]),
        "zero alpha for leaky_relu": swap(6, 0.0),
    }
    for why, args in handed_on.items():
        assert _core.batch_norm_backward_fast(*args) is None, why


def test_batch_norm_checked_path_still_refuses(rng):
    x, gamma, beta, (mm, mv) = _bn_args(rng)
    with pytest.raises(ValueError, match=r"\[batch_norm\] expected `momentum` in \[0, 1\]"):
        ops.batch_norm_train(x, gamma, beta, mm, mv, momentum=1.5)
    with pytest.raises(ValueError, match=r"\[batch_norm\] `moving_mean` is updated in place"):
        ops.batch_norm_train(x, gamma, beta, _read_only(mm), mv)
    y, mean, inv_std = ops.batch_norm_train(x, gamma, beta, mm, mv)
    with pytest.raises(ValueError, match=r"\[batch_norm_backward\] activation='relu' needs"):
        ops.batch_norm_backward(x, x, gamma, mean, inv_std, activation="relu")


# ---- dropout ------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(64, 128), (3, 5, 7), (), (0, 4)])
@pytest.mark.parametrize("rate", [0.0, 0.5, 0.9])
def test_dropout_fast_lane_equals_checked_path(rng, shape, rate):
    x = rng.standard_normal(shape).astype(np.float32)
    fast = _core.dropout_fast(x, rate, 7, 2**64 - 1)
    assert fast is not None
    assert np.array_equal(fast, dropout_module._dropout_checked(x, rate, 7, 2**64 - 1, "dropout", "x"))
    assert np.array_equal(ops.dropout_backward(x, rate, 7, 2**64 - 1), fast)


def test_dropout_fast_lane_hands_on_what_it_cannot_take(rng):
    x = rng.standard_normal((64, 128)).astype(np.float32)
    canonical = (x, 0.5, 1, 2)
    assert _core.dropout_fast(*canonical) is not None
    handed_on = {
        "float16 x": (x.astype(np.float16), 0.5, 1, 2),
        "non-contiguous x": (x[:, ::2], 0.5, 1, 2),
        "misaligned x": (_misaligned(x), 0.5, 1, 2),
        "rate 1": (x, 1.0, 1, 2),
        "negative rate": (x, -0.1, 1, 2),
        "int rate": (x, 0, 1, 2),
        "negative seed": (x, 0.5, -1, 2),
        "step of 2**64": (x, 0.5, 1, 2**64),
        "numpy step": (x, 0.5, 1, np.int64(2)),
        "bool seed": (x, 0.5, True, 2),
    }
    for why, args in handed_on.items():
        assert _core.dropout_fast(*args) is None, why
    assert np.array_equal(ops.dropout(x[:, ::2], 0.5, 1, np.int64(2)), ops.dropout(x[:, ::2].copy(), 0.5, 1, 2))
    with pytest.raises(ValueError, match=r"\[dropout_backward\] expected `seed` as an int"):
        ops.dropout_backward(x, 0.5, -1, 2)


@pytest.mark.parametrize("entry,arity", [(_core.gemm_fast, 7), (_core.batch_norm_train_fast, 9),
                                         (_core.batch_norm_backward_fast, 8), (_core.dropout_fast, 4)])
def test_fast_entries_take_exactly_their_positional_arguments(entry, arity):
    with pytest.raises(TypeError, match=f"expected {arity} positional arguments, got {arity - 1}"):
        entry(*([None] * (arity - 1)))
    with pytest.raises(TypeError):
        entry(*([None] * arity), extra=1)
    assert entry(*([None] * arity)) is None  # nothing usable: handed on


# ---- the ops as FastOp objects (csrc/bindings/fast_op.cpp) ---------------------


FAST_OPS = [ops.gemm, ops.batch_norm_train, ops.batch_norm_backward, ops.dropout, ops.dropout_backward]


def _python_calls(fn, *args, **kwargs):
    """Names of the Python functions entered while fn(*args, **kwargs) runs."""
    seen = []

    def profile(frame, event, arg):
        if event == "call":
            seen.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        fn(*args, **kwargs)
    finally:
        sys.setprofile(None)
    return seen


def test_fast_lane_runs_without_a_python_frame(rng):
    x, gamma, beta, (mm, mv) = _bn_args(rng)
    assert _python_calls(ops.batch_norm_train, x, gamma, beta, mm, mv) == []
    assert _python_calls(ops.batch_norm_train, x, gamma, beta, mm, mv, momentum=0.9, activation="relu") == []
    # float64 x is the checked path's to convert: the Python function runs.
    assert "batch_norm_train" in _python_calls(ops.batch_norm_train, x.astype(np.float64), gamma, beta, mm, mv)
    a, b, _ = _gemm_args(rng)
    assert _python_calls(ops.gemm, a, b, trans_b=False, alpha=2.0) == []
    assert _python_calls(ops.dropout, x, 0.5, 1, 2) == []


def test_keywords_and_defaults_bind_as_in_python(rng):
    x, gamma, beta, (mm, mv) = _bn_args(rng)
    want = ops.batch_norm_train.__wrapped__(x, gamma, beta, mm.copy(), mv.copy(), 0.9, 1e-3, "leaky_relu", None)
    for call in [lambda m, v: ops.batch_norm_train(x, gamma, beta, m, v, 0.9, activation="leaky_relu"),
                 lambda m, v: ops.batch_norm_train(activation="leaky_relu", moving_variance=v, momentum=0.9,
                                                   moving_mean=m, beta=beta, gamma=gamma, x=x)]:
        got = call(mm.copy(), mv.copy())
        for g, w in zip(got, want):
            assert np.array_equal(g, w)
    a, b, c = _gemm_args(rng, m=5, n=6, k=7)
    assert np.array_equal(ops.gemm(a, b, c, beta=0.5, alpha=-1.0),
                          gemm_module._gemm_checked(a, b, c, -1.0, 0.5, False, False))


@pytest.mark.parametrize("call, message", [
    (lambda x: ops.dropout(x, 0.5, 1), "missing 1 required positional argument: 'step'"),
    (lambda x: ops.dropout(x, 0.5, 1, 2, 3), "takes 4 positional arguments but 5 were given"),
    (lambda x: ops.dropout(x, 0.5, 1, 2, rate=0.5), "multiple values for argument 'rate'"),
    (lambda x: ops.dropout(x, 0.5, 1, stride=2), "unexpected keyword argument 'stride'"),
    (lambda x: ops.batch_norm_backward(x, x, None, x[0], x[0], None), "takes 5 positional arguments but 6"),
])
def test_arguments_that_do_not_bind_raise_pythons_type_error(rng, call, message):
    x = rng.standard_normal((4, 3)).astype(np.float32)
    with pytest.raises(TypeError, match=re.escape(message)):
        call(x)


@pytest.mark.parametrize("op", FAST_OPS, ids=lambda op: op.__name__)
def test_a_fast_op_looks_like_its_function(op):
    function = op.__wrapped__
    assert inspect.isfunction(function)
    assert (op.__name__, op.__qualname__, op.__module__, op.__doc__) == (
        function.__name__, function.__qualname__, function.__module__, function.__doc__)
    assert op.__doc__ and op.__module__.startswith("pycnn.ops")
    assert inspect.signature(op) == inspect.signature(function)
    assert inspect.isroutine(op)
    text = pydoc.render_doc(op, renderer=pydoc.plaintext)
    assert str(inspect.signature(function)) in text and op.__doc__.splitlines()[0] in text
    assert repr(op) == repr(function)

    assert pickle.loads(pickle.dumps(op)) is op and copy.deepcopy(op) is op  # by name, as functions

    class Holder:
        method = op

    assert Holder.method is op  # looked up on the class: the op itself
    assert Holder().method.__func__ is op  # on an instance: bound, as a function would be


def test_fast_op_refuses_what_it_cannot_wrap():
    def f(x, y=1):
        return x

    def star(*args):
        return args

    with pytest.raises(TypeError, match="entry"):
        _core.FastOp(f, f, ("x", "y"))
    with pytest.raises(TypeError, match="Python function"):
        _core.FastOp(_core.dropout_fast, len, ("x",))
    with pytest.raises(TypeError, match="each named once"):
        _core.FastOp(_core.dropout_fast, f, ("x",))
    with pytest.raises(TypeError, match="each of the function's parameters"):
        _core.FastOp(_core.dropout_fast, f, ("x", "z"))
    with pytest.raises(TypeError, match="no /, \\*args"):
        _core.FastOp(_core.dropout_fast, star, ())


def test_fast_op_keeps_reference_counts(rng):
    x, gamma, beta, (mm, mv) = _bn_args(rng)
    x64 = x.astype(np.float64)
    defaults = [d for d in ops.batch_norm_train.__wrapped__.__defaults__ if d is not None]  # None's count moves
    watched = [x, x64, gamma, mm, 0.9, "relu"] + defaults
    assert len(defaults) == 2
    before = [sys.getrefcount(obj) for obj in watched]
    for _ in range(100):
        ops.batch_norm_train(x, gamma, beta, mm, mv, 0.9, activation="relu")  # the fast lane
        ops.batch_norm_train(x64, gamma, beta, mm, mv, momentum=0.9)  # handed on
        with pytest.raises(TypeError):
            ops.batch_norm_train(x, gamma, beta, mm, mv, moment=0.9)  # does not bind
    assert [sys.getrefcount(obj) for obj in watched] == before
