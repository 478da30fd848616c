"""Fuzz target: max/avg/global pooling (forward and backward) and batch norm.

    python tests/fuzz/fuzz_pool_batchnorm.py -max_total_time=600 -rss_limit_mb=4096 -timeout=20 CORPUS_DIR
"""

import numpy as np

import fuzz_inputs as fi

with fi.instrumented(__name__ == "__main__"):
    from pycnn import ops


def _image(src):
    return fi.array(src, rank=src.pick((4, 4, 4, 3, 5)))


def _input_shape(src, x):
    """Usually the real input shape, sometimes a near miss or garbage."""
    kind = src.below(8)
    if kind < 5 and fi.ndim(x) == 4:
        return fi.shape_of(x)
    if kind == 5:
        return src.pick(([1, 2, 2, 1], (1, 2, 2), None, "1223", (1, 2.0, 2, 1), (True, 2, 2, 1)))
    return fi.shape(src, rank=4 if src.chance(3) else None)


def _pool_options(src):
    strides = None if src.chance(2) else fi.int_pair(src)
    return dict(pool_size=fi.int_pair(src, 0, 4), strides=strides, padding=fi.padding(src))


def _max_pool(src):
    options = _pool_options(src)
    if src.chance(2):
        options["return_argmax"] = src.pick((False, True, None, 0, "no"))
    fi.call(ops.max_pool2d, _image(src), **options)


def _max_pool_backward(src):
    x = _image(src)
    out = fi.call(ops.max_pool2d, x, **_pool_options(src)) if not src.chance(4) else None
    if out is not None:
        y, argmax = out
        fi.check_array(y, "max_pool2d", argmax.shape)
        if src.chance(4):  # forged indices
            argmax = argmax.astype(src.pick((np.int32, np.int64, np.uint8, np.int16)))
            if argmax.size:
                info = np.iinfo(argmax.dtype)
                argmax.flat[src.below(argmax.size)] = np.clip(src.pick((-1, 2**31 - 1, 10**6, 0)), info.min, info.max)
        dy = fi.like(src, y)
    else:
        dy = fi.array(src, rank=4)
        argmax = fi.array(src, dims=fi.shape_of(dy), dtype=src.pick((np.int32, np.int64, np.float32)))
    dx = fi.call(ops.max_pool2d_backward, dy, argmax, _input_shape(src, x))
    if dx is not None:
        fi.check_array(dx, "max_pool2d_backward")


def _avg_pool(src):
    y = fi.call(ops.avg_pool2d, _image(src), **_pool_options(src))
    if y is not None:
        fi.check_array(y, "avg_pool2d")


def _avg_pool_backward(src):
    x = _image(src)
    options = _pool_options(src)
    y = fi.call(ops.avg_pool2d, x, **options) if not src.chance(3) else None
    dy = fi.like(src, y) if isinstance(y, np.ndarray) else fi.array(src, rank=4)
    dx = fi.call(ops.avg_pool2d_backward, dy, _input_shape(src, x), **options)
    if dx is not None:
        fi.check_array(dx, "avg_pool2d_backward")


def _global_avg(src):
    y = fi.call(ops.global_avg_pool2d, _image(src))
    if y is not None:
        fi.check_array(y, "global_avg_pool2d")


def _global_avg_backward(src):
    x = _image(src)
    dims = (fi.shape_of(x)[0], fi.shape_of(x)[-1]) if fi.ndim(x) == 4 and not src.chance(5) else fi.shape(src)
    dx = fi.call(ops.global_avg_pool2d_backward, fi.array(src, dims=dims), _input_shape(src, x))
    if dx is not None:
        fi.check_array(dx, "global_avg_pool2d_backward")


def _global_max(src):
    fi.call(ops.global_max_pool2d, _image(src))


def _global_max_backward(src):
    x = _image(src)
    out = fi.call(ops.global_max_pool2d, x)
    if out is not None:
        y, argmax = out
        if src.chance(3) and argmax.size:
            argmax = argmax.copy()
            argmax.flat[src.below(argmax.size)] = src.pick((-5, 2**31 - 1, 77))
        dy = fi.like(src, y)
    else:
        dy, argmax = fi.array(src, rank=2), fi.array(src, rank=2, dtype=np.int32)
    fi.call(ops.global_max_pool2d_backward, dy, argmax, _input_shape(src, x))


def _channels(src, x):
    return fi.shape_of(x)[-1] if fi.ndim(x) >= 1 and not src.chance(6) else fi.dim(src)


def _vector(src, c):
    return None if src.chance(4) else fi.array(src, dims=(c,)) if not src.chance(8) else fi.array(src)


def _moving(src, c):
    """In-place statistics: usually valid float32 vectors, sometimes not."""
    if src.chance(6):
        return fi.array(src, dims=(c,))
    return fi.float32_array(src, (c,)) if not src.chance(8) else fi.float32_array(src, (fi.dim(src),))


def _bn_train(src):
    x = fi.array(src, rank=src.pick((2, 4, 4, 3, 1, 5)))
    c = _channels(src, x)
    result = fi.call(ops.batch_norm_train, x, _vector(src, c), _vector(src, c), _moving(src, c), _moving(src, c),
                     momentum=src.pick((0.99, 0.0, 1.0, fi.real(src))), epsilon=src.pick((1e-3, fi.real(src))),
                     activation=fi.activation_name(src), alpha=fi.real(src) if src.chance(4) else None)
    if result is not None:
        fi.check_array(result[0], "batch_norm_train", fi.shape_of(x))


def _bn_inference(src):
    x = fi.array(src, rank=src.pick((2, 4, 4, 3, 1)))
    c = _channels(src, x)
    y = fi.call(ops.batch_norm_inference, x, _vector(src, c), _vector(src, c), fi.array(src, dims=(c,)),
                fi.array(src, dims=(c,)), epsilon=src.pick((1e-3, fi.real(src))),
                activation=fi.activation_name(src), alpha=fi.real(src) if src.chance(4) else None)
    if y is not None:
        fi.check_array(y, "batch_norm_inference", fi.shape_of(x))


def _bn_backward(src):
    x = fi.array(src, rank=src.pick((2, 4, 4, 3, 1)))
    c = _channels(src, x)
    dx = fi.call(ops.batch_norm_backward, fi.like(src, x), x, _vector(src, c), fi.array(src, dims=(c,)),
                 fi.array(src, dims=(c,)))
    if dx is not None:
        fi.check_array(dx[0], "batch_norm_backward", fi.shape_of(x))


OPS = {
    "max_pool2d": _max_pool,
    "max_pool2d_backward": _max_pool_backward,
    "avg_pool2d": _avg_pool,
    "avg_pool2d_backward": _avg_pool_backward,
    "global_avg_pool2d": _global_avg,
    "global_avg_pool2d_backward": _global_avg_backward,
    "global_max_pool2d": _global_max,
    "global_max_pool2d_backward": _global_max_backward,
    "batch_norm_train": _bn_train,
    "batch_norm_inference": _bn_inference,
    "batch_norm_backward": _bn_backward,
}


def TestOneInput(data):
    fi.run_one(OPS, data)


if __name__ == "__main__":
    fi.main(OPS)
