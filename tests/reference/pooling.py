"""Float64 references for 2-D pooling (NHWC), each forward with its backward.

Windows follow the TF rules: 'valid' -> out = (in - pool) // stride + 1;
'same' -> out = ceil(in / stride), total pad max((out-1)*stride + pool - in, 0),
top/left = total // 2. Padded cells never take part.
"""

import numpy as np


def out_and_pad(size, pool, stride, padding):
    if padding == "same":
        out = -(-size // stride)
        return out, max((out - 1) * stride + pool - size, 0) // 2
    return (size - pool) // stride + 1, 0


def windows(in_shape, pool, stride, padding):
    """Yields (oh, ow, h0, h1, w0, w1): the real cells of each output position."""
    _, h, w, _ = in_shape
    oh_n, pt = out_and_pad(h, pool[0], stride[0], padding)
    ow_n, pl = out_and_pad(w, pool[1], stride[1], padding)
    for oh in range(oh_n):
        h0 = oh * stride[0] - pt
        for ow in range(ow_n):
            w0 = ow * stride[1] - pl
            yield oh, ow, max(h0, 0), min(h0 + pool[0], h), max(w0, 0), min(w0 + pool[1], w)


def out_shape(in_shape, pool, stride, padding):
    n, h, w, c = in_shape
    return (n, out_and_pad(h, pool[0], stride[0], padding)[0], out_and_pad(w, pool[1], stride[1], padding)[0], c)


def max_pool(x, pool, stride, padding):
    """(y, argmax) with argmax = (h * W + w) * C + c, first maximum in window order."""
    x = np.asarray(x, np.float64)
    n, h, w, c = x.shape
    y = np.empty(out_shape(x.shape, pool, stride, padding))
    argmax = np.empty(y.shape, np.int64)
    for oh, ow, h0, h1, w0, w1 in windows(x.shape, pool, stride, padding):
        win = x[:, h0:h1, w0:w1, :].reshape(n, -1, c)
        k = win.argmax(axis=1)  # (n, c): first maximum
        y[:, oh, ow, :] = np.take_along_axis(win, k[:, None, :], axis=1)[:, 0, :]
        kh, kw = np.divmod(k, w1 - w0)
        argmax[:, oh, ow, :] = ((h0 + kh) * w + (w0 + kw)) * c + np.arange(c)
    return y, argmax


def max_pool_backward(dy, x, pool, stride, padding):
    """d/dx of sum(max_pool(x) * dy), computed from x (not from a saved argmax)."""
    x = np.asarray(x, np.float64)
    n, h, w, c = x.shape
    dx = np.zeros(x.shape)
    for oh, ow, h0, h1, w0, w1 in windows(x.shape, pool, stride, padding):
        win = x[:, h0:h1, w0:w1, :].reshape(n, -1, c)
        kh, kw = np.divmod(win.argmax(axis=1), w1 - w0)
        for b in range(n):
            np.add.at(dx[b], (h0 + kh[b], w0 + kw[b], np.arange(c)), dy[b, oh, ow, :])
    return dx


def avg_pool(x, pool, stride, padding):
    x = np.asarray(x, np.float64)
    y = np.empty(out_shape(x.shape, pool, stride, padding))
    for oh, ow, h0, h1, w0, w1 in windows(x.shape, pool, stride, padding):
        y[:, oh, ow, :] = x[:, h0:h1, w0:w1, :].mean(axis=(1, 2))
    return y


def avg_pool_backward(dy, in_shape, pool, stride, padding):
    dx = np.zeros(in_shape)
    for oh, ow, h0, h1, w0, w1 in windows(in_shape, pool, stride, padding):
        count = (h1 - h0) * (w1 - w0)
        dx[:, h0:h1, w0:w1, :] += np.asarray(dy, np.float64)[:, oh, ow, None, None, :] / count
    return dx


def global_avg_pool(x):
    return np.asarray(x, np.float64).mean(axis=(1, 2))


def global_avg_pool_backward(dy, in_shape):
    n, h, w, c = in_shape
    return np.broadcast_to(np.asarray(dy, np.float64)[:, None, None, :] / (h * w), in_shape).copy()


def global_max_pool(x):
    x = np.asarray(x, np.float64)
    y, argmax = max_pool(x, x.shape[1:3], (1, 1), "valid")
    return y[:, 0, 0, :], argmax[:, 0, 0, :]


def global_max_pool_backward(dy, x):
    x = np.asarray(x, np.float64)
    return max_pool_backward(np.asarray(dy, np.float64)[:, None, None, :], x, x.shape[1:3], (1, 1), "valid")
