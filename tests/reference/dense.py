"""Dense reference in float64: y = x @ W + b on the last axis, and its backward."""

import numpy as np


def dense(x, kernel, bias=None):
    y = np.asarray(x, np.float64) @ np.asarray(kernel, np.float64)
    return y if bias is None else y + np.asarray(bias, np.float64)


def dense_backward(dy, x, kernel):
    """(dx, dkernel, dbias) of sum(dense(x, kernel, bias) * dy)."""
    dy = np.asarray(dy, np.float64)
    x = np.asarray(x, np.float64)
    kernel = np.asarray(kernel, np.float64)
    rows_x = x.reshape(-1, x.shape[-1])
    rows_dy = dy.reshape(-1, dy.shape[-1])
    return dy @ kernel.T, rows_x.T @ rows_dy, rows_dy.sum(axis=0)


def activation(y, name, alpha=None):
    """The fused activations, float64."""
    if name in (None, "linear"):
        return y
    if name == "relu":
        return np.maximum(y, 0)
    if name == "leaky_relu":
        return np.where(y > 0, y, y * (0.2 if alpha is None else alpha))
    if name == "elu":
        return np.where(y > 0, y, (1.0 if alpha is None else alpha) * np.expm1(np.minimum(y, 0)))
    if name == "sigmoid":
        return 1 / (1 + np.exp(-y))
    if name == "tanh":
        return np.tanh(y)
    raise ValueError(name)
