"""2-D convolution on NHWC float32, Keras/TF semantics.

``x`` (N, H, W, C), ``kernel`` (kh, kw, C/groups, K), ``bias`` (K,).
``padding`` is 'valid', 'same' (TF rule: output ceil(in/stride), the odd
padding pixel bottom/right) or explicit ((top, bottom), (left, right)).
Depthwise convolution is ``groups == C``: a Keras DepthwiseConv2D kernel
(kh, kw, C, multiplier) becomes ``kernel.reshape(kh, kw, 1, C * multiplier)``.

The algorithm is picked per shape: on AVX-512 CPUs, undilated 3x3
convolutions with C and K multiples of 16 use Winograd's F(4x4, 3x3) at
stride 1 (4x fewer multiplies; F(2x2, 3x3) when C*K is very large) and a
25-point scheme at stride 2. Their float32 rounding differs from a direct
sum's: about 3e-7 * max|y| * sqrt(9*C) at worst for F(4x4, 3x3), 20 times
that of F(2x2, 3x3), far below what training notices. Every route gives the
same bits for any thread count.
"""

from pycnn import _core
from pycnn.ops._validate import as_float32, flag, int_tuple, op_error, padding_mode, positive_int, require_rank
from pycnn.ops.dense import _activation_code, _bias
from pycnn.ops.pooling import _pool_args

__all__ = ["conv2d", "conv2d_backward", "conv2d_max_pool2d", "depthwise_conv2d"]

_PADDING_CODES = {"valid": 0, "same": 1}


def _options(strides, padding, dilation_rate, groups, op):
    strides = int_tuple(strides, 2, op, "strides")
    dilation = int_tuple(dilation_rate, 2, op, "dilation_rate")
    groups = positive_int(groups, op, "groups")
    mode = padding_mode(padding, op)
    if isinstance(mode, str):
        return strides, _PADDING_CODES[mode], (0, 0, 0, 0), dilation, groups
    return strides, 2, mode, dilation, groups


def _operands(x, kernel, op):
    x = as_float32(x, op, "x")
    kernel = as_float32(kernel, op, "kernel")
    require_rank(x, 4, op, "x", "(batch, height, width, channels)")
    require_rank(kernel, 4, op, "kernel", "(kernel_h, kernel_w, in_channels/groups, out_channels)")
    return x, kernel


def _run(kernel, x, args, op, own_ops):
    """kernel(x, *args). A ValueError that names none of ``own_ops`` comes from
    numpy refusing an empty output whose other dimensions overflow (huge
    padding on N=0): it is reported as ``op``'s."""
    try:
        return kernel(x, *args)
    except ValueError as exc:
        if str(exc).startswith(tuple(f"[{name}]" for name in own_ops)):
            raise
        raise op_error(op, f"the output for x of shape {x.shape} is too large: {exc}") from None


def conv2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1, groups=1,
           activation=None, alpha=None):
    """``act(conv2d(x, kernel) + bias)`` -> (N, OH, OW, K) float32."""
    op = "conv2d"
    x, kernel = _operands(x, kernel, op)
    options = _options(strides, padding, dilation_rate, groups, op)
    bias = _bias(bias, op, kernel.shape[3])
    code, alpha = _activation_code(activation, alpha, op)
    return _run(_core.conv2d_forward, x, (kernel, bias, *options, code, alpha), op, (op,))


def conv2d_max_pool2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1, groups=1,
                      activation=None, alpha=None, pool_size=(2, 2), pool_strides=None, pool_padding="valid", *,
                      return_argmax=False):
    """``max_pool2d(conv2d(x, kernel, bias, ..., activation), pool_size, pool_strides, pool_padding)``
    -> (N, POH, POW, K) float32; with ``return_argmax`` also the argmax, as
    ``max_pool2d`` returns it (int32 indices into one image of the
    convolution's output), for ``max_pool2d_backward`` in training.

    One image at a time: its convolution output stays in cache until it is
    pooled, so the full-size activation is never written to memory. Equal to
    the two ops in sequence up to float rounding of the convolution's sums.
    The convolution's arguments are checked as ``conv2d``'s, the pooling's as
    ``max_pool2d``'s (on the convolution's output).
    """
    op = "conv2d_max_pool2d"
    return_argmax = flag(return_argmax, op, "return_argmax")
    x, kernel = _operands(x, kernel, "conv2d")
    options = _options(strides, padding, dilation_rate, groups, "conv2d")
    bias = _bias(bias, "conv2d", kernel.shape[3])
    code, alpha = _activation_code(activation, alpha, "conv2d")
    pool, pool_stride, pool_same = _pool_args(pool_size, pool_strides, pool_padding, op)
    return _run(_core.conv2d_max_pool2d, x,
                (kernel, bias, *options, code, alpha, pool, pool_stride, pool_same, return_argmax),
                op, ("conv2d", op))


def conv2d_backward(dy, x, kernel, strides=1, padding="valid", dilation_rate=1, groups=1, *,
                    need_input_grad=True, need_bias_grad=True):
    """Gradients of ``conv2d``: ``(dx or None, dkernel, dbias or None)``.

    ``dy`` is the gradient w.r.t. the pre-activation output (N, OH, OW, K).
    """
    op = "conv2d"
    x, kernel = _operands(x, kernel, op)
    options = _options(strides, padding, dilation_rate, groups, op)
    dy = as_float32(dy, op, "dy")
    return _core.conv2d_backward(dy, x, kernel, *options, bool(need_input_grad), bool(need_bias_grad))


def depthwise_conv2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1,
                     activation=None, alpha=None):
    """Keras DepthwiseConv2D: ``kernel`` (kh, kw, C, multiplier) -> (N, OH, OW, C*multiplier)."""
    op = "conv2d"
    kernel = as_float32(kernel, op, "kernel")
    require_rank(kernel, 4, op, "kernel", "(kernel_h, kernel_w, channels, depth_multiplier)")
    kh, kw, c, mult = kernel.shape
    return conv2d(x, kernel.reshape(kh, kw, 1, c * mult), bias, strides, padding, dilation_rate,
                  groups=c, activation=activation, alpha=alpha)
