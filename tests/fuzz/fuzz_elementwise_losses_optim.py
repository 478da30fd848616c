"""Fuzz target: activations, losses, dropout and the in-place optimizer updates.

    python tests/fuzz/fuzz_elementwise_losses_optim.py -max_total_time=600 -rss_limit_mb=4096 -timeout=20 CORPUS_DIR
"""

import numpy as np

import fuzz_inputs as fi

with fi.instrumented(__name__ == "__main__"):
    from pycnn import ops


def _unary(fn, *extra):
    def drive(src):
        x = fi.array(src)
        y = fi.call(fn, x, *(make(src) for make in extra))
        if y is not None:
            fi.check_array(y, fn.__name__, fi.shape_of(x))
    return drive


def _pair(fn, *extra):
    def drive(src):
        t = fi.array(src)
        dy = fi.like(src, t)
        dx = fi.call(fn, dy, t, *(make(src) for make in extra))
        if dx is not None:
            fi.check_array(dx, fn.__name__, fi.shape_of(t))
    return drive


def _slope(src):
    return src.pick((0.2, 0.0, -1.0, 1.0)) if src.chance(2) else fi.real(src)


def _axis(src):
    return src.pick((-1, 0, 1, 2, -2, 5, -6)) if not src.chance(8) else fi.integer(src)


def _activation(src):
    x = fi.array(src)
    y = fi.call(ops.activation, x, fi.activation_name(src), alpha=None if src.chance(2) else _slope(src))
    if y is not None:
        fi.check_array(y, "activation", fi.shape_of(x))


def _activation_backward(src):
    t = fi.array(src)
    dy = fi.like(src, t)
    kwargs = {src.pick(("x", "y")): t}
    if src.chance(3):
        kwargs[src.pick(("x", "y"))] = fi.like(src, t)
    fi.call(ops.activation_backward, dy, fi.activation_name(src), alpha=None if src.chance(2) else _slope(src),
            **kwargs)


def _labels(src, pred, sparse):
    if not sparse or src.chance(6):
        return fi.like(src, pred)
    classes = fi.shape_of(pred)[-1] if fi.ndim(pred) else 1
    dims = fi.shape_of(pred)[:-1] + ((1,) if src.chance(6) else ())
    labels = fi.array(src, dims=dims, dtype=src.pick((np.int32, np.int64, np.uint8, np.float32, np.bool_)))
    if isinstance(labels, np.ndarray) and labels.dtype.kind in "iu" and 0 < classes < 128 \
            and labels.size <= fi.MAX_ELEMENTS and not src.chance(4):
        labels = labels % labels.dtype.type(classes)
    return labels


def _loss(fn, sparse_flag=None):
    def drive(src):
        pred = fi.array(src, rank=src.pick((2, 2, 1, 3, 0)))
        sparse = src.chance(2)
        flag = {} if sparse_flag is None else {sparse_flag: sparse if sparse_flag == "sparse" else src.chance(2)}
        result = fi.call(fn, pred, _labels(src, pred, sparse and sparse_flag == "sparse"), **flag)
        if result is not None:
            losses, grad = result
            fi.check_array(losses, fn.__name__, fi.shape_of(pred)[:-1])
            fi.check_array(grad, fn.__name__, fi.shape_of(pred))
    return drive


def _dropout(fn):
    def drive(src):
        x = fi.array(src)
        y = fi.call(fn, x, fi.rate(src), fi.counter(src), fi.counter(src))
        if y is not None:
            fi.check_array(y, fn.__name__, fi.shape_of(x))
    return drive


def _dropout_mask(src):
    dims = fi.shape(src) if not src.chance(8) else src.pick((5, -1, None, (2, -3), (2.0,), "ab", True))
    fi.call(ops.dropout_mask, dims, fi.rate(src), fi.counter(src), fi.counter(src))


def _slots(src, params):
    """One state array per parameter: usually right, sometimes a shared, mis-typed or mis-shaped one."""
    if src.chance(8):
        return src.pick((None, [], params, "x"))
    slots = [fi.float32_array(src, fi.shape_of(p)) * 0 for p in params]
    if slots and src.chance(6):
        i = src.below(len(slots))
        slots[i] = src.pick((params[i], fi.array(src), slots[i].astype(np.float64), slots[i].reshape(-1)[::-1]))
    return slots


def _params(src):
    params = [fi.float32_array(src, fi.shape(src, max_rank=3)) for _ in range(src.below(4))]
    if src.chance(6):
        params.append(fi.array(src))
    if src.chance(12):
        return src.pick((params[0] if params else np.zeros(2, np.float32), None, 3.0))
    grads = [fi.like(src, p) for p in params] if not src.chance(8) else [fi.array(src)]
    for i, p in enumerate(params):
        if isinstance(p, np.ndarray) and p.ndim == 2 and p.dtype == np.float32 and i < len(grads) and src.chance(3):
            grads[i] = _factored_grad(src, p)
    return params, grads


def _factored_grad(src, p):
    """A FactoredGradient for matrix p: mostly fitting, sometimes the wrong shape or a factor inside p."""
    rows = src.below(6)
    n_in, n_out = (p.shape if not src.chance(6) else fi.shape(src, rank=2))
    if src.chance(8) and p.size and n_in:
        flat = p.reshape(-1)
        a = flat[: (flat.size // n_in) * n_in].reshape(-1, n_in)
    else:
        a = fi.float32_array(src, (rows, n_in))
    b = fi.float32_array(src, (a.shape[0], n_out))
    if a.shape[0] != b.shape[0]:  # one of them was too large and came back empty
        return fi.array(src)
    return ops.FactoredGradient(a, b)


def _factored(src):
    a = fi.array(src)
    b = fi.like(src, a) if not src.chance(3) else fi.array(src)
    fi.call(lambda a, b: np.asarray(ops.FactoredGradient(a, b)), a, b)


def _optimizer(fn, make_kwargs):
    def drive(src):
        decoded = _params(src)
        if not isinstance(decoded, tuple):
            fi.call(fn, decoded, decoded, decoded, learning_rate=0.1)
            return
        params, grads = decoded
        fi.call(fn, params, grads, **make_kwargs(src, params))
    return drive


def _sgd_kwargs(src, params):
    return dict(velocities=_slots(src, params), learning_rate=fi.real(src),
                momentum=src.pick((0.0, 0.9, fi.real(src))), nesterov=src.chance(2))


def _rmsprop_kwargs(src, params):
    return dict(velocities=_slots(src, params), learning_rate=fi.real(src), rho=src.pick((0.9, fi.real(src))),
                epsilon=src.pick((1e-7, fi.real(src))), momentum=src.pick((0.0, 0.5, fi.real(src))),
                momenta=_slots(src, params), centered=src.chance(2), average_grads=_slots(src, params))


def _adam_kwargs(src, params):
    return dict(m=_slots(src, params), v=_slots(src, params), learning_rate=fi.real(src),
                step=src.pick((1, 2, 1000, 0, -1, 2**63, 2**64, 1.5)), beta_1=src.pick((0.9, fi.real(src))),
                beta_2=src.pick((0.999, fi.real(src))), epsilon=src.pick((1e-7, fi.real(src))),
                amsgrad=src.chance(2), v_hat=_slots(src, params), weight_decay=src.pick((0.0, 0.01, fi.real(src))))


def _adam(src):
    decoded = _params(src)
    if not isinstance(decoded, tuple):
        fi.call(ops.adam_update, decoded, decoded, decoded, decoded, learning_rate=0.1, step=1)
        return
    params, grads = decoded
    kwargs = _adam_kwargs(src, params)
    fi.call(ops.adam_update, params, grads, kwargs.pop("m"), kwargs.pop("v"), **kwargs)


OPS = {
    "relu": _unary(ops.relu),
    "leaky_relu": _unary(ops.leaky_relu, _slope),
    "elu": _unary(ops.elu, _slope),
    "sigmoid": _unary(ops.sigmoid),
    "tanh": _unary(ops.tanh),
    "softmax": _unary(ops.softmax, _axis),
    "relu_backward": _pair(ops.relu_backward),
    "leaky_relu_backward": _pair(ops.leaky_relu_backward, _slope),
    "elu_backward": _pair(ops.elu_backward, _slope),
    "sigmoid_backward": _pair(ops.sigmoid_backward),
    "tanh_backward": _pair(ops.tanh_backward),
    "softmax_backward": _pair(ops.softmax_backward, _axis),
    "activation": _activation,
    "activation_backward": _activation_backward,
    "softmax_cross_entropy": _loss(ops.softmax_cross_entropy, "sparse"),
    "categorical_cross_entropy": _loss(ops.categorical_cross_entropy, "sparse"),
    "binary_cross_entropy": _loss(ops.binary_cross_entropy, "from_logits"),
    "mean_squared_error": _loss(ops.mean_squared_error),
    "dropout": _dropout(ops.dropout),
    "dropout_backward": _dropout(ops.dropout_backward),
    "dropout_mask": _dropout_mask,
    "sgd_update": _optimizer(ops.sgd_update, _sgd_kwargs),
    "rmsprop_update": _optimizer(ops.rmsprop_update, _rmsprop_kwargs),
    "adam_update": _adam,
    "FactoredGradient": _factored,
}


def TestOneInput(data):
    fi.run_one(OPS, data)


if __name__ == "__main__":
    fi.main(OPS)
