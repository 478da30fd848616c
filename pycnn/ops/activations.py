"""Activations and their backward passes (element-wise, and softmax).

Names and defaults follow ``keras.activations``: ``leaky_relu`` has a
negative slope of 0.2, ``elu`` an alpha of 1.0 and is ``x`` for ``x >= 0``,
``softmax`` subtracts the row maximum before exponentiating. Backward
functions return ``dy * f'(x)``; for relu, leaky_relu (slope > 0), elu
(alpha > 0), sigmoid and tanh the output ``y`` is enough to compute it,
which is what layers with a fused activation keep.
"""

import numpy as np

from pycnn import _core
from pycnn.ops._validate import as_float32, finite_real, is_int, op_error

__all__ = [
    "relu", "leaky_relu", "elu", "sigmoid", "tanh", "softmax",
    "relu_backward", "leaky_relu_backward", "elu_backward", "sigmoid_backward",
    "tanh_backward", "softmax_backward", "activation", "activation_backward",
    "ACTIVATIONS",
]

ACTIVATIONS = ("linear", "relu", "leaky_relu", "elu", "sigmoid", "tanh", "softmax")
_DEFAULT_ALPHA = {"leaky_relu": 0.2, "elu": 1.0}


def _name(name, op):
    if name is None:
        return "linear"
    if not isinstance(name, str) or name.lower() not in ACTIVATIONS:
        raise op_error(op, f"expected an activation among None, {', '.join(repr(a) for a in ACTIVATIONS)}; got {name!r}")
    return name.lower()


def _alpha(alpha, name, op, what="alpha"):
    if alpha is None:
        return _DEFAULT_ALPHA.get(name, 0.0)
    return finite_real(alpha, op, what)


def _pair(dy, t, op, tname):
    dy = as_float32(dy, op, "dy")
    t = as_float32(t, op, tname)
    if dy.shape != t.shape:
        raise op_error(op, f"expected `dy` and `{tname}` of the same shape, got dy.shape={dy.shape} and {tname}.shape={t.shape}")
    return dy, t


def _axis(axis, ndim, op):
    if not is_int(axis):
        raise op_error(op, f"expected `axis` to be an int, got {axis!r}")
    if ndim == 0:
        raise op_error(op, "expected an array of rank >= 1, got a scalar")
    if not -ndim <= axis < ndim:
        raise op_error(op, f"axis {axis} is out of range for an array of rank {ndim}")
    return int(axis) % ndim


def _on_last_axis(fn, arrays, axis, op):
    """Runs a last-axis kernel on arrays whose reduction axis is `axis`."""
    axis = _axis(axis, arrays[0].ndim, op)
    last = arrays[0].ndim - 1
    if axis == last:
        return fn(*arrays)
    moved = [np.ascontiguousarray(np.moveaxis(a, axis, -1)) for a in arrays]
    return np.ascontiguousarray(np.moveaxis(fn(*moved), -1, axis))


def relu(x):
    """max(x, 0)."""
    return _core.activation_forward(as_float32(x, "relu", "x"), "relu", 0.0)


def leaky_relu(x, negative_slope=0.2):
    """x for x > 0, else negative_slope * x (keras.activations.leaky_relu)."""
    slope = _alpha(negative_slope, "leaky_relu", "leaky_relu", "negative_slope")
    return _core.activation_forward(as_float32(x, "leaky_relu", "x"), "leaky_relu", slope)


def elu(x, alpha=1.0):
    """x for x >= 0, else alpha * (exp(x) - 1)."""
    return _core.activation_forward(as_float32(x, "elu", "x"), "elu", _alpha(alpha, "elu", "elu"))


def sigmoid(x):
    """1 / (1 + exp(-x)); saturates to exactly 0 and 1."""
    return _core.activation_forward(as_float32(x, "sigmoid", "x"), "sigmoid", 0.0)


def tanh(x):
    return _core.activation_forward(as_float32(x, "tanh", "x"), "tanh", 0.0)


def softmax(x, axis=-1):
    """exp(x - max) / sum(exp(x - max)) along `axis` (numerically stable)."""
    x = as_float32(x, "softmax", "x")
    return _on_last_axis(_core.softmax, [x], axis, "softmax")


def relu_backward(dy, y):
    """dy where y > 0, else 0 (y may equally be the input x)."""
    dy, y = _pair(dy, y, "relu_backward", "y")
    return _core.activation_backward(dy, y, "relu", 0.0, True)


def leaky_relu_backward(dy, x, negative_slope=0.2):
    """dy where x > 0, else negative_slope * dy."""
    slope = _alpha(negative_slope, "leaky_relu", "leaky_relu_backward", "negative_slope")
    dy, x = _pair(dy, x, "leaky_relu_backward", "x")
    return _core.activation_backward(dy, x, "leaky_relu", slope, False)


def elu_backward(dy, x, alpha=1.0):
    """dy where x >= 0, else dy * alpha * exp(x)."""
    alpha = _alpha(alpha, "elu", "elu_backward")
    dy, x = _pair(dy, x, "elu_backward", "x")
    return _core.activation_backward(dy, x, "elu", alpha, False)


def sigmoid_backward(dy, y):
    """dy * y * (1 - y), from the output y = sigmoid(x)."""
    dy, y = _pair(dy, y, "sigmoid_backward", "y")
    return _core.activation_backward(dy, y, "sigmoid", 0.0, True)


def tanh_backward(dy, y):
    """dy * (1 - y**2), from the output y = tanh(x)."""
    dy, y = _pair(dy, y, "tanh_backward", "y")
    return _core.activation_backward(dy, y, "tanh", 0.0, True)


def softmax_backward(dy, y, axis=-1):
    """y * (dy - sum(dy * y)) along `axis`, from the output y = softmax(x)."""
    dy, y = _pair(dy, y, "softmax_backward", "y")
    return _on_last_axis(_core.softmax_backward, [dy, y], axis, "softmax_backward")


def activation(x, name, alpha=None):
    """Applies the activation called `name` (None or 'linear' is the identity).

    `alpha` is leaky_relu's negative slope (default 0.2) or elu's alpha
    (default 1.0); 'softmax' works on the last axis.
    """
    name = _name(name, "activation")
    alpha = _alpha(alpha, name, "activation")
    x = as_float32(x, "activation", "x")
    if name == "softmax":
        return _core.softmax(x)
    return _core.activation_forward(x, name, alpha)


def activation_backward(dy, name, *, x=None, y=None, alpha=None):
    """dy * f'(x) for the activation `name`, from its output `y` or input `x`.

    The output suffices for every activation except leaky_relu with a slope
    <= 0 and elu with alpha <= 0, which need `x`. Softmax needs `y`.
    """
    op = "activation_backward"
    name = _name(name, op)
    alpha = _alpha(alpha, name, op)
    y_enough = not (name in ("leaky_relu", "elu") and alpha <= 0)
    if y is not None and y_enough:
        dy, y = _pair(dy, y, op, "y")
        if name == "softmax":
            return _core.softmax_backward(dy, y)
        return _core.activation_backward(dy, y, name, alpha, True)
    if x is not None and name != "softmax":
        dy, x = _pair(dy, x, op, "x")
        return _core.activation_backward(dy, x, name, alpha, False)
    need = "`y`" if name == "softmax" else ("`x`" if not y_enough else "`x` or `y`")
    raise op_error(op, f"{name} (alpha={alpha}) needs {need}, got " + ("neither" if x is None and y is None else "only the other"))
