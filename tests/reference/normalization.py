"""Float64 reference for batch normalisation over the last axis, forward with backward."""

import numpy as np


def _rows(x):
    x = np.asarray(x, np.float64)
    return x.reshape(-1, x.shape[-1])


def activation(v, name, alpha):
    if name in (None, "linear"):
        return v
    if name == "relu":
        return np.maximum(v, 0)
    if name == "leaky_relu":
        return np.where(v > 0, v, alpha * v)
    if name == "elu":
        return np.where(v > 0, v, alpha * np.expm1(np.minimum(v, 0)))
    if name == "sigmoid":
        return 1 / (1 + np.exp(-v))
    if name == "tanh":
        return np.tanh(v)
    raise ValueError(name)


def batch_norm_train(x, gamma, beta, moving_mean, moving_variance, momentum, epsilon, act=None, alpha=0.0):
    """-> (y, mean, inv_std, new_moving_mean, new_moving_variance)."""
    xr = _rows(x)
    c = xr.shape[1]
    mean = xr.mean(axis=0)
    var = ((xr - mean) ** 2).mean(axis=0)
    inv_std = 1 / np.sqrt(var + epsilon)
    g = np.ones(c) if gamma is None else np.asarray(gamma, np.float64)
    b = np.zeros(c) if beta is None else np.asarray(beta, np.float64)
    y = activation((xr - mean) * inv_std * g + b, act, alpha).reshape(np.shape(x))
    new_mm = np.asarray(moving_mean, np.float64) * momentum + mean * (1 - momentum)
    new_mv = np.asarray(moving_variance, np.float64) * momentum + var * (1 - momentum)
    return y, mean, inv_std, new_mm, new_mv


def batch_norm_inference(x, gamma, beta, moving_mean, moving_variance, epsilon, act=None, alpha=0.0):
    xr = _rows(x)
    c = xr.shape[1]
    g = np.ones(c) if gamma is None else np.asarray(gamma, np.float64)
    b = np.zeros(c) if beta is None else np.asarray(beta, np.float64)
    y = (xr - np.asarray(moving_mean, np.float64)) / np.sqrt(np.asarray(moving_variance, np.float64) + epsilon) * g + b
    return activation(y, act, alpha).reshape(np.shape(x))


def batch_norm_backward(dy, x, gamma, mean, inv_std):
    """(dx, dgamma, dbeta) of the training-mode forward, given its mean and inv_std."""
    xr, g_rows = _rows(x), _rows(dy)
    m = xr.shape[0]
    gamma = np.ones(xr.shape[1]) if gamma is None else np.asarray(gamma, np.float64)
    xhat = (xr - mean) * inv_std
    dbeta = g_rows.sum(axis=0)
    dgamma = (g_rows * xhat).sum(axis=0)
    dx = gamma * inv_std / m * (m * g_rows - dbeta - xhat * dgamma)
    return dx.reshape(np.shape(x)), dgamma, dbeta
