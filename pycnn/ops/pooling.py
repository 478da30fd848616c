"""Max and average pooling over NHWC images, Keras 3 semantics.

``padding`` is 'valid' or 'same' (TF rule: out = ceil(in / stride), the odd
padded cell at the bottom/right). Padded cells never count: max ignores them
and the average divides by the number of real cells in each window. Any
pool size and stride is allowed, strides larger than the pool included; with
'valid', a pool larger than the input is an error.

Max pooling returns ``argmax`` (int32, shaped like ``y``): for every output
element, the flat index ``(h * W + w) * C + c`` of its maximum inside its
input image. The backward functions scatter ``dy`` through it, so they need
only the input shape; indices are range-checked, never trusted. Given the
forward's pooling arguments as well, ``max_pool2d_backward`` writes dx in one
pass when windows do not overlap (stride >= pool), and can fuse the backward
of the activation that produced the pooled tensor (``activation=``, from the
pooled output ``y``: max-pooling commutes with these monotonic activations,
so ``y`` is the activation's output at each argmax).
"""

import math

import numpy as np

from pycnn import _core
from pycnn.ops._validate import as_float32, flag, int_tuple, is_int, op_error, padding_mode, require_rank
from pycnn.ops.normalization import activation_code

__all__ = [
    "max_pool2d",
    "max_pool2d_backward",
    "avg_pool2d",
    "avg_pool2d_backward",
    "global_avg_pool2d",
    "global_avg_pool2d_backward",
    "global_max_pool2d",
    "global_max_pool2d_backward",
]


def _pool_args(pool_size, strides, padding, op):
    pool = int_tuple(pool_size, 2, op, "pool_size")
    stride = pool if strides is None else int_tuple(strides, 2, op, "strides")
    mode = padding_mode(padding, op)
    if not isinstance(mode, str):
        raise op_error(op, f"expected padding 'valid' or 'same', got {padding!r}")
    return pool, stride, mode == "same"


def _input_shape(input_shape, op, rank=4):
    try:
        shape = tuple(input_shape)
    except TypeError:
        raise op_error(op, f"expected `input_shape` as a tuple (N, H, W, C), got {input_shape!r}") from None
    if len(shape) != rank or not all(is_int(d) and d >= 0 for d in shape):
        raise op_error(op, f"expected `input_shape` as {rank} non-negative ints (N, H, W, C), got {input_shape!r}")
    return tuple(int(d) for d in shape)


def _zeros(shape, dtype, op):
    try:
        return np.zeros(shape, dtype)
    except ValueError:  # numpy cannot describe it, e.g. (2**62, 2**62, 0)
        raise op_error(op, f"output shape {tuple(shape)} is too large") from None


def _forward(kernel, x, args, op, **options):
    """kernel(x, *args); an empty x is validated on x[:0] and answered without the kernel.

    The kernels walk N * OH * OW even when C is 0, which for an empty x with a
    huge N or spatial size would run for hours.
    """
    if x.size:
        return kernel(x, *args, op=op, **options)
    out = kernel(x[:0], *args, op=op, **options)
    shape = x.shape[:1] + (out[0] if isinstance(out, tuple) else out).shape[1:]
    if isinstance(out, tuple):
        return _zeros(shape, np.float32, op), _zeros(shape, np.int32, op)
    return _zeros(shape, np.float32, op)


def _backward(kernel, dy, shape, args, op):
    """kernel(dy, ..., list(shape), ...); an empty dx is validated on an empty batch, then zeros."""
    if dy.size or math.prod(shape) or dy.shape[0] != shape[0]:
        return kernel(dy, *args(dy, list(shape)), op=op)
    kernel(dy[:0], *args(dy[:0], [0, *shape[1:]]), op=op)
    return _zeros(shape, np.float32, op)


def _argmax(argmax, dy_shape, op):
    if not isinstance(argmax, np.ndarray) or argmax.dtype.kind not in "iu":
        kind = argmax.dtype if isinstance(argmax, np.ndarray) else type(argmax).__name__
        raise op_error(op, f"expected `argmax` as the integer array returned by the forward pass, got {kind}")
    if argmax.shape != dy_shape:
        raise op_error(op, f"expected `argmax` of the shape of dy {dy_shape}, got {argmax.shape}")
    if argmax.dtype != np.int32 and argmax.size:
        lo, hi = int(argmax.min()), int(argmax.max())
        if lo < 0 or hi > np.iinfo(np.int32).max:
            raise op_error(op, f"`argmax` holds indices in [{lo}, {hi}], outside any input image")
    argmax = np.ascontiguousarray(argmax, dtype=np.int32)
    return argmax if argmax.flags.aligned else argmax.copy()


def max_pool2d(x, pool_size=(2, 2), strides=None, padding="valid", *, return_argmax=True):
    """Max pooling of x (N, H, W, C) -> (y (N, OH, OW, C), argmax int32 like y).

    With ``return_argmax=False`` only y is returned (and no argmax is computed:
    inference, where no gradient is routed back).
    """
    op = "max_pool2d"
    return_argmax = flag(return_argmax, op, "return_argmax")
    x = as_float32(x, op, "x")
    require_rank(x, 4, op, "x", "(N, H, W, C)")
    (ph, pw), (sh, sw), same = _pool_args(pool_size, strides, padding, op)
    return _forward(_core.max_pool2d, x, (ph, pw, sh, sw, same), op, with_argmax=return_argmax)


def max_pool2d_backward(dy, argmax, input_shape, pool_size=None, strides=None, padding="valid", *,
                        activation=None, alpha=None, y=None):
    """dx (input_shape): dy scattered through the argmax of ``max_pool2d``.

    With ``pool_size`` (and the forward's ``strides`` / ``padding``) the
    windows are known: disjoint windows take a one-pass path, and
    ``activation`` (relu, leaky_relu / elu with alpha > 0, sigmoid, tanh;
    ``alpha`` as in ``ops.activation``) multiplies dy by the derivative of
    the activation that fed the pooling, read from the pooled output ``y``.
    dx is then the gradient of the activation's input.
    """
    op = "max_pool2d_backward"
    dy = as_float32(dy, op, "dy")
    require_rank(dy, 4, op, "dy", "(N, OH, OW, C)")
    shape = _input_shape(input_shape, op)
    if dy.shape[0] != shape[0] or dy.shape[3] != shape[3]:
        raise op_error(op, f"dy of shape {dy.shape} does not match input_shape {shape}")
    argmax = _argmax(argmax, dy.shape, op)
    act, alpha = activation_code(activation, alpha, op)
    if pool_size is None:
        if act:
            raise op_error(op, "a fused `activation` needs the forward's `pool_size`, `strides` and `padding`")
        return _backward(_core.max_pool2d_backward, dy, shape, lambda d, s: (argmax[:len(d)], s), op)
    (ph, pw), (sh, sw), same = _pool_args(pool_size, strides, padding, op)
    if act:
        if y is None:
            raise op_error(op, f"activation={activation!r} needs the pooled output `y`")
        y = as_float32(y, op, "y")
        if y.shape != dy.shape:
            raise op_error(op, f"expected `y` of the shape of dy {dy.shape}, got {y.shape}")
    else:
        y = None

    def windows(dy, shape, op):
        n = len(dy)
        return _core.max_pool2d_backward_windows(dy, argmax[:n], shape, ph, pw, sh, sw, same,
                                                 None if y is None else y[:n], act, alpha)

    return _backward(windows, dy, shape, lambda d, s: (s,), op)


def avg_pool2d(x, pool_size=(2, 2), strides=None, padding="valid"):
    """Average pooling of x (N, H, W, C) -> y (N, OH, OW, C); padded cells excluded."""
    op = "avg_pool2d"
    x = as_float32(x, op, "x")
    require_rank(x, 4, op, "x", "(N, H, W, C)")
    (ph, pw), (sh, sw), same = _pool_args(pool_size, strides, padding, op)
    return _forward(_core.avg_pool2d, x, (ph, pw, sh, sw, same), op)


def avg_pool2d_backward(dy, input_shape, pool_size=(2, 2), strides=None, padding="valid"):
    """dx (input_shape) of ``avg_pool2d`` with the same pooling arguments."""
    op = "avg_pool2d_backward"
    dy = as_float32(dy, op, "dy")
    require_rank(dy, 4, op, "dy", "(N, OH, OW, C)")
    shape = _input_shape(input_shape, op)
    (ph, pw), (sh, sw), same = _pool_args(pool_size, strides, padding, op)
    return _backward(_core.avg_pool2d_backward, dy, shape, lambda d, s: (s, ph, pw, sh, sw, same), op)


def _global_dy(dy, input_shape, op):
    dy = as_float32(dy, op, "dy")
    require_rank(dy, 2, op, "dy", "(N, C)")
    shape = _input_shape(input_shape, op)
    if dy.shape != (shape[0], shape[3]):
        raise op_error(op, f"expected dy of shape {(shape[0], shape[3])} for input_shape {shape}, got {dy.shape}")
    return dy, shape


def global_avg_pool2d(x):
    """The mean over H and W: x (N, H, W, C) -> (N, C)."""
    op = "global_avg_pool2d"
    x = as_float32(x, op, "x")
    require_rank(x, 4, op, "x", "(N, H, W, C)")
    n, h, w, c = x.shape
    return _forward(_core.avg_pool2d, x, (h, w, 1, 1, False), op).reshape(n, c)


def global_avg_pool2d_backward(dy, input_shape):
    """dx (N, H, W, C) = dy / (H * W) at every position."""
    op = "global_avg_pool2d_backward"
    dy, (n, h, w, c) = _global_dy(dy, input_shape, op)
    return _backward(_core.avg_pool2d_backward, dy.reshape(n, 1, 1, c), (n, h, w, c),
                     lambda d, s: (s, h, w, 1, 1, False), op)


def global_max_pool2d(x):
    """The max over H and W: x (N, H, W, C) -> (y (N, C), argmax (N, C) int32)."""
    op = "global_max_pool2d"
    x = as_float32(x, op, "x")
    require_rank(x, 4, op, "x", "(N, H, W, C)")
    n, h, w, c = x.shape
    y, argmax = _forward(_core.max_pool2d, x, (h, w, 1, 1, False), op)
    return y.reshape(n, c), argmax.reshape(n, c)


def global_max_pool2d_backward(dy, argmax, input_shape):
    """dx (input_shape): dy scattered through the argmax of ``global_max_pool2d``."""
    op = "global_max_pool2d_backward"
    dy, shape = _global_dy(dy, input_shape, op)
    argmax = _argmax(argmax, dy.shape, op)
    return _backward(_core.max_pool2d_backward, dy, shape, lambda d, s: (argmax[:len(d)], s), op)
