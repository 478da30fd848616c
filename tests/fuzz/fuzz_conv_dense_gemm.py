"""Fuzz target: gemm, dense, conv2d (forward, backward, depthwise).

    python tests/fuzz/fuzz_conv_dense_gemm.py -max_total_time=600 -rss_limit_mb=4096 -timeout=20 CORPUS_DIR
"""

import numpy as np

import fuzz_inputs as fi

with fi.instrumented(__name__ == "__main__"):
    from pycnn import ops


def _gemm(src):
    a, b = fi.array(src, rank=src.pick((2, 2, 2, 1, 3))), fi.array(src, rank=src.pick((2, 2, 2, 1)))
    c = fi.array(src, rank=2) if src.chance(2) else None
    y = fi.call(ops.gemm, a, b, c, alpha=fi.real(src), beta=src.pick((0.0, 1.0, fi.real(src))),
                trans_a=src.chance(2), trans_b=src.chance(2))
    if y is not None:
        fi.check_array(y, "gemm")


def _dense_args(src):
    x = fi.array(src, rank=src.pick((2, 2, 3, 4, 1)))
    units = fi.dim(src)
    fan_in = fi.last_dim(x) if fi.ndim(x) and not src.chance(5) else fi.dim(src)
    kernel = fi.array(src, dims=(fan_in, units)) if not src.chance(8) else fi.array(src)
    return x, kernel


def _dense(src):
    x, kernel = _dense_args(src)
    bias = fi.array(src, dims=(fi.last_dim(kernel),)) if src.chance(2) else None
    y = fi.call(ops.dense, x, kernel, bias, fi.activation_name(src), fi.real(src) if src.chance(4) else None)
    if y is not None:
        fi.check_array(y, "dense", fi.shape_of(x)[:-1] + fi.shape_of(kernel)[1:])


def _dense_backward(src):
    x, kernel = _dense_args(src)
    dy_dims = fi.shape_of(x)[:-1] + fi.shape_of(kernel)[1:] if fi.ndim(x) and fi.ndim(kernel) == 2 else fi.shape(src)
    dy = fi.array(src, dims=dy_dims) if not src.chance(6) else fi.array(src)
    need_kernel_grad = not src.chance(4)
    result = fi.call(ops.dense_backward, dy, x, kernel, need_input_grad=src.chance(2),
                     need_bias_grad=src.chance(2), need_kernel_grad=need_kernel_grad)
    if result is not None:
        dx, dkernel, dbias = result
        if need_kernel_grad:
            fi.check_array(dkernel, "dense_backward", fi.shape_of(kernel))
        if dx is not None:
            fi.check_array(dx, "dense_backward", fi.shape_of(x))


def _conv_args(src, depthwise=False):
    x = fi.array(src, rank=src.pick((4, 4, 4, 3)))
    c = fi.last_dim(x) if fi.ndim(x) == 4 else fi.dim(src)
    groups = src.pick((1, 1, 1, c, 2, 3)) if not src.chance(8) else fi.integer(src)
    per_group = c // groups if isinstance(groups, int) and groups > 0 and not src.chance(6) else fi.dim(src)
    kh, kw = src.below(4) + (0 if src.chance(8) else 1), src.below(4) + (0 if src.chance(8) else 1)
    if src.chance(16):
        kh = fi.dim(src)
    if depthwise:
        kernel = fi.array(src, dims=(kh, kw, c, src.below(3)))
    else:
        # Output channels mostly small, sometimes the 16/32 that the vector kernels take whole.
        filters = src.pick((16, 32, 48)) if src.chance(4) else fi.dim(src)
        kernel = fi.array(src, dims=(kh, kw, per_group, filters)) if not src.chance(8) else fi.array(src)
    options = dict(strides=fi.int_pair(src), padding=fi.padding(src), dilation_rate=fi.int_pair(src))
    return x, kernel, groups, options


def _conv2d(src):
    x, kernel, groups, options = _conv_args(src)
    bias = fi.array(src, dims=(fi.last_dim(kernel),)) if src.chance(2) else None
    y = fi.call(ops.conv2d, x, kernel, bias, groups=groups, activation=fi.activation_name(src),
                alpha=fi.real(src) if src.chance(4) else None, **options)
    if y is not None:
        fi.check_array(y, "conv2d")
        if y.ndim != 4 or y.shape[0] != fi.shape_of(x)[0] or y.shape[3] != fi.shape_of(kernel)[3]:
            raise fi.FuzzFinding(f"conv2d: output {y.shape} for x {fi.shape_of(x)}, kernel {fi.shape_of(kernel)}")


def _conv2d_max_pool2d(src):
    x, kernel, groups, options = _conv_args(src)
    bias = fi.array(src, dims=(fi.last_dim(kernel),)) if src.chance(2) else None
    strides = None if src.chance(2) else fi.int_pair(src)
    with_argmax = src.chance(2)
    y = fi.call(ops.conv2d_max_pool2d, x, kernel, bias, groups=groups, activation=fi.activation_name(src),
                pool_size=fi.int_pair(src, 0, 4), pool_strides=strides, pool_padding=fi.padding(src),
                return_argmax=with_argmax, **options)
    if y is not None and with_argmax:
        y, argmax = y
        if argmax.shape != y.shape or argmax.dtype != np.int32 or (argmax < 0).any():
            raise fi.FuzzFinding(f"conv2d_max_pool2d: argmax {argmax.shape} {argmax.dtype} for y {y.shape}")
    if y is not None:
        fi.check_array(y, "conv2d_max_pool2d")
        if y.ndim != 4 or y.shape[0] != fi.shape_of(x)[0] or y.shape[3] != fi.shape_of(kernel)[3]:
            raise fi.FuzzFinding(f"conv2d_max_pool2d: output {y.shape} for x {fi.shape_of(x)}, "
                                 f"kernel {fi.shape_of(kernel)}")


def _conv2d_backward(src):
    x, kernel, groups, options = _conv_args(src)
    y = fi.call(ops.conv2d, x, kernel, groups=groups, **options) if not src.chance(4) else None
    dy = fi.array(src, dims=y.shape) if isinstance(y, np.ndarray) else fi.array(src, rank=4)
    result = fi.call(ops.conv2d_backward, dy, x, kernel, groups=groups, need_input_grad=src.chance(2),
                     need_bias_grad=src.chance(2), **options)
    if result is not None:
        dx, dkernel, dbias = result
        fi.check_array(dkernel, "conv2d_backward", fi.shape_of(kernel))
        if dx is not None:
            fi.check_array(dx, "conv2d_backward", fi.shape_of(x))


def _depthwise(src):
    x, kernel, _, options = _conv_args(src, depthwise=True)
    y = fi.call(ops.depthwise_conv2d, x, kernel, None, activation=fi.activation_name(src), **options)
    if y is not None:
        fi.check_array(y, "depthwise_conv2d")


OPS = {
    "gemm": _gemm,
    "dense": _dense,
    "dense_backward": _dense_backward,
    "conv2d": _conv2d,
    "conv2d_backward": _conv2d_backward,
    "conv2d_max_pool2d": _conv2d_max_pool2d,
    "depthwise_conv2d": _depthwise,
}


def TestOneInput(data):
    fi.run_one(OPS, data)


if __name__ == "__main__":
    fi.main(OPS)
