"""Batch normalisation over the last axis (Keras ``BatchNormalization(axis=-1)``).

``x`` has any rank >= 2: (N, H, W, C) after a convolution, (N, C) after a
dense layer; statistics are taken over all axes but the last. Training uses
the batch mean and the biased batch variance and updates the moving
statistics in place, Keras' way: ``moving = moving * momentum + batch * (1 -
momentum)``. ``gamma`` / ``beta`` may be None (``scale=False`` /
``center=False``). An activation can be fused into the output pass; the
backward then expects ``dy`` with respect to the normalised output, before
the activation (apply ``activation_backward`` first).

The batch statistics are sums about a shift: the moving mean when it lies
within about a standard deviation of the batch mean (one pass over x), else
the batch's own float mean (two passes). Either way they match the exact
statistics to float rounding, but their last bits may depend on the moving
mean passed in.

Results do not depend on the thread count. With an empty batch the output is
empty, ``mean`` is 0, ``inv_std`` is ``1/sqrt(epsilon)`` and the moving
statistics are left unchanged.
"""

import numpy as np

from pycnn import _core
from pycnn.ops._fast_lane import fast_lane
from pycnn.ops._validate import as_float32, finite_real, op_error

__all__ = ["batch_norm_train", "batch_norm_inference", "batch_norm_backward"]

_ACTIVATIONS = {None: 0, "linear": 0, "relu": 1, "leaky_relu": 2, "elu": 3, "sigmoid": 4, "tanh": 5}
_DEFAULT_ALPHA = {"leaky_relu": 0.2, "elu": 1.0}


def activation_code(activation, alpha, op):
    """(kernel code, alpha) of a fusable activation name; alpha None takes the ops default."""
    key = activation.lower() if isinstance(activation, str) else activation
    if key not in _ACTIVATIONS:
        raise op_error(op, f"expected activation None, 'linear', 'relu', 'leaky_relu', 'elu', 'sigmoid' or 'tanh', got {activation!r}")
    if alpha is None:
        alpha = _DEFAULT_ALPHA.get(key, 0.0)
    return _ACTIVATIONS[key], finite_real(alpha, op, "alpha")


def _input(x, op):
    x = as_float32(x, op, "x")
    if x.ndim < 2:
        raise op_error(op, f"expected `x` of rank >= 2 (..., channels), got shape {x.shape}")
    return x


def _channel_vector(v, channels, op, name, optional=False):
    if v is None and optional:
        return None
    v = as_float32(v, op, name)
    if v.shape != (channels,):
        raise op_error(op, f"expected `{name}` of shape ({channels},) for x with {channels} channels, got {v.shape}")
    return v


def _moving(v, channels, op, name):
    if not (isinstance(v, np.ndarray) and v.dtype == np.float32 and v.flags.c_contiguous and v.flags.writeable
            and v.flags.aligned):
        kind = f"{v.dtype} array" if isinstance(v, np.ndarray) else type(v).__name__
        raise op_error(op, f"`{name}` is updated in place and must be a writeable float32 C-contiguous array, got {kind}")
    if v.shape != (channels,):
        raise op_error(op, f"expected `{name}` of shape ({channels},) for x with {channels} channels, got {v.shape}")
    return v


def _epsilon(epsilon, op):
    epsilon = finite_real(epsilon, op, "epsilon")
    if epsilon <= 0:
        raise op_error(op, f"expected `epsilon` > 0, got {epsilon}")
    return epsilon


@fast_lane(_core.batch_norm_train_fast)
def batch_norm_train(x, gamma, beta, moving_mean, moving_variance, momentum=0.99, epsilon=1e-3,
                     activation=None, alpha=None):
    """Training-mode batch norm -> (y, mean, inv_std); updates the moving statistics in place.

    ``inv_std = 1 / sqrt(var + epsilon)`` with the biased batch variance;
    ``mean`` and ``inv_std`` (shape (C,)) are what ``batch_norm_backward`` needs.
    """
    op = "batch_norm"  # the checked path: the fast lane handed the arguments on
    x = _input(x, op)
    c = x.shape[-1]
    gamma = _channel_vector(gamma, c, op, "gamma", optional=True)
    beta = _channel_vector(beta, c, op, "beta", optional=True)
    moving_mean = _moving(moving_mean, c, op, "moving_mean")
    moving_variance = _moving(moving_variance, c, op, "moving_variance")
    momentum = finite_real(momentum, op, "momentum")
    if not 0.0 <= momentum <= 1.0:
        raise op_error(op, f"expected `momentum` in [0, 1], got {momentum}")
    act, alpha = activation_code(activation, alpha, op)
    epsilon = _epsilon(epsilon, op)
    if c == 0:  # nothing to normalise; the kernel would still walk every row
        return np.zeros(x.shape, np.float32), np.zeros(0, np.float32), np.zeros(0, np.float32)
    return _core.batch_norm_train(x, gamma, beta, moving_mean, moving_variance, momentum,
                                  epsilon, act, alpha)


def batch_norm_inference(x, gamma, beta, moving_mean, moving_variance, epsilon=1e-3, activation=None, alpha=None):
    """Inference-mode batch norm with the moving statistics -> y."""
    op = "batch_norm"
    x = _input(x, op)
    c = x.shape[-1]
    gamma = _channel_vector(gamma, c, op, "gamma", optional=True)
    beta = _channel_vector(beta, c, op, "beta", optional=True)
    moving_mean = _channel_vector(moving_mean, c, op, "moving_mean")
    moving_variance = _channel_vector(moving_variance, c, op, "moving_variance")
    if moving_variance.size and moving_variance.min() < 0:
        raise op_error(op, f"expected `moving_variance` >= 0, got a minimum of {moving_variance.min()}")
    act, alpha = activation_code(activation, alpha, op)
    epsilon = _epsilon(epsilon, op)
    if c == 0:
        return np.zeros(x.shape, np.float32)
    return _core.batch_norm_inference(x, gamma, beta, moving_mean, moving_variance, epsilon, act, alpha)


@fast_lane(_core.batch_norm_backward_fast)
def batch_norm_backward(dy, x, gamma, mean, inv_std, *, activation=None, alpha=None, y=None):
    """Training-mode backward -> (dx, dgamma, dbeta).

    ``dy`` is the gradient of the normalised output; ``mean`` / ``inv_std``
    are those returned by ``batch_norm_train``. ``gamma`` None means a scale
    of 1. With the ``activation`` (and ``alpha``) fused into the forward,
    ``dy`` is the gradient of the activated output ``y`` the forward
    returned, and the activation's derivative (from ``y``; leaky_relu and
    elu need alpha > 0) is applied inside the backward's passes.
    """
    op = "batch_norm_backward"  # the checked path: the fast lane handed the arguments on
    x = _input(x, op)
    dy = as_float32(dy, op, "dy")
    if dy.shape != x.shape:
        raise op_error(op, f"expected `dy` of the shape of x {x.shape}, got {dy.shape}")
    c = x.shape[-1]
    gamma = _channel_vector(gamma, c, op, "gamma", optional=True)
    mean = _channel_vector(mean, c, op, "mean")
    inv_std = _channel_vector(inv_std, c, op, "inv_std")
    act, alpha = activation_code(activation, alpha, op)
    if c == 0:
        return np.zeros(x.shape, np.float32), np.zeros(0, np.float32), np.zeros(0, np.float32)
    if act:
        if y is None:
            raise op_error(op, f"activation={activation!r} needs the activated output `y` of the forward")
        y = as_float32(y, op, "y")
        if y.shape != x.shape:
            raise op_error(op, f"expected `y` of the shape of x {x.shape}, got {y.shape}")
        if act in (2, 3) and alpha <= 0:
            raise op_error(op, f"{activation} with alpha={alpha} cannot be differentiated from its output")
        return _core.batch_norm_backward(dy, x, gamma, mean, inv_std, y, act, alpha)
    return _core.batch_norm_backward(dy, x, gamma, mean, inv_std)
