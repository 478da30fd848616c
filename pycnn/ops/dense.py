"""Fully connected layer on the last axis: ``y = act(x @ kernel + bias)``.

``x`` has rank >= 2 (batch, ..., features); the kernel is (in, units) as in
Keras. Inputs are converted to C-contiguous float32 once; results are new
float32 arrays. ``dense_backward`` takes ``dy`` with respect to the
pre-activation output (apply ``activation_backward`` first).
"""

from pycnn import _core
from pycnn.ops._validate import as_float32, finite_real, op_error, require_rank

__all__ = ["dense", "dense_backward"]

# Codes of the C++ Activation enum (csrc/common/activation.h) and the default
# alpha of each: leaky_relu's negative slope (Keras: 0.2), elu's alpha (1.0).
_ACTIVATIONS = {
    None: (0, 0.0),
    "linear": (0, 0.0),
    "relu": (1, 0.0),
    "leaky_relu": (2, 0.2),
    "elu": (3, 1.0),
    "sigmoid": (4, 0.0),
    "tanh": (5, 0.0),
}


def _activation_code(activation, alpha, op):
    """(enum code, alpha) for a fused activation name; ValueError names the op."""
    key = activation.lower() if isinstance(activation, str) else activation
    if key not in _ACTIVATIONS:
        names = ", ".join(repr(k) for k in _ACTIVATIONS)
        raise op_error(op, f"unknown activation {activation!r}; expected one of {names}")
    code, default = _ACTIVATIONS[key]
    if alpha is None:
        alpha = default
    return code, finite_real(alpha, op, "alpha")


def _bias(bias, op, units):
    if bias is None:
        return None
    bias = as_float32(bias, op, "bias")
    if bias.shape != (units,):
        raise op_error(op, f"expected `bias` of shape ({units},) to match the kernel, got {bias.shape}")
    return bias


def _operands(x, kernel, op):
    x = as_float32(x, op, "x")
    kernel = as_float32(kernel, op, "kernel")
    require_rank(x, range(2, 33), op, "x", "(batch, ..., features)")
    require_rank(kernel, 2, op, "kernel", "(in_features, units)")
    return x, kernel


def dense(x, kernel, bias=None, activation=None, alpha=None):
    """``act(x @ kernel + bias)`` on the last axis of ``x``; shape (..., units)."""
    op = "dense"
    x, kernel = _operands(x, kernel, op)
    bias = _bias(bias, op, kernel.shape[1])
    code, alpha = _activation_code(activation, alpha, op)
    return _core.dense_forward(x, kernel, bias, code, alpha)


def dense_backward(dy, x, kernel, *, need_input_grad=True, need_bias_grad=True, need_kernel_grad=True):
    """Gradients of a dense layer: ``(dx or None, dkernel or None, dbias or None)``.

    ``dy`` is the gradient w.r.t. the pre-activation output, shaped like it.
    ``need_kernel_grad=False`` skips ``dkernel = x.T @ dy`` (e.g. to pass it
    to an optimizer as ``FactoredGradient(x, dy)`` instead).
    """
    op = "dense"
    x, kernel = _operands(x, kernel, op)
    dy = as_float32(dy, op, "dy")
    return _core.dense_backward(dy, x, kernel, bool(need_input_grad), bool(need_bias_grad), bool(need_kernel_grad))
