"""conv2d reference in float64: padding arithmetic, forward, backward.

Loops over the KH*KW window taps; each tap is one einsum over a strided
view of the padded input, per group. Written to be read.
"""

import numpy as np


def axis_padding(size, window, stride, dilation, padding, explicit=None):
    """(pad_before, pad_after, out) for one spatial axis (TF 'same' rule)."""
    extent = (window - 1) * dilation + 1
    if padding == "same":
        out = -(-size // stride)
        total = max((out - 1) * stride + extent - size, 0)
        return total // 2, total - total // 2, out
    before, after = explicit if padding == "explicit" else (0, 0)
    return before, after, (size + before + after - extent) // stride + 1


def _geometry(x_shape, w_shape, strides, padding, dilation):
    _, h, w, _ = x_shape
    kh, kw = w_shape[:2]
    if isinstance(padding, str):
        mode, ph, pw = padding, None, None
    else:
        mode, (ph, pw) = "explicit", padding
    top, bottom, oh = axis_padding(h, kh, strides[0], dilation[0], mode, ph)
    left, right, ow = axis_padding(w, kw, strides[1], dilation[1], mode, pw)
    return (top, bottom, left, right), oh, ow


def _tap_view(xp, i, j, oh, ow, strides, dilation):
    r0, c0 = i * dilation[0], j * dilation[1]
    return xp[:, r0:r0 + (oh - 1) * strides[0] + 1:strides[0], c0:c0 + (ow - 1) * strides[1] + 1:strides[1], :]


def conv2d(x, kernel, bias=None, strides=(1, 1), padding="valid", dilation=(1, 1), groups=1):
    x = np.asarray(x, np.float64)
    kernel = np.asarray(kernel, np.float64)
    n, _, _, c = x.shape
    kh, kw, cg, k = kernel.shape
    (top, bottom, left, right), oh, ow = _geometry(x.shape, kernel.shape, strides, padding, dilation)
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    kg = k // groups
    y = np.zeros((n, oh, ow, groups, kg))
    for i in range(kh):
        for j in range(kw):
            patch = _tap_view(xp, i, j, oh, ow, strides, dilation).reshape(n, oh, ow, groups, cg)
            wg = kernel[i, j].reshape(cg, groups, kg)
            y += np.einsum("nhwgc,cgk->nhwgk", patch, wg)
    y = y.reshape(n, oh, ow, k)
    if bias is not None:
        y = y + np.asarray(bias, np.float64)
    return y


def conv2d_backward(dy, x, kernel, strides=(1, 1), padding="valid", dilation=(1, 1), groups=1):
    """(dx, dkernel, dbias) of sum(conv2d(x, kernel, bias) * dy)."""
    dy = np.asarray(dy, np.float64)
    x = np.asarray(x, np.float64)
    kernel = np.asarray(kernel, np.float64)
    n, h, w, c = x.shape
    kh, kw, cg, k = kernel.shape
    (top, bottom, left, right), oh, ow = _geometry(x.shape, kernel.shape, strides, padding, dilation)
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    dxp = np.zeros_like(xp)
    dkernel = np.zeros_like(kernel)
    kg = k // groups
    dyg = dy.reshape(n, oh, ow, groups, kg)
    for i in range(kh):
        for j in range(kw):
            patch = _tap_view(xp, i, j, oh, ow, strides, dilation).reshape(n, oh, ow, groups, cg)
            wg = kernel[i, j].reshape(cg, groups, kg)
            dkernel[i, j] = np.einsum("nhwgc,nhwgk->cgk", patch, dyg).reshape(cg, k)
            dpatch = np.einsum("nhwgk,cgk->nhwgc", dyg, wg).reshape(n, oh, ow, c)
            _tap_view(dxp, i, j, oh, ow, strides, dilation)[...] += dpatch
    dx = dxp[:, top:top + h, left:left + w, :]
    return dx, dkernel, dy.sum(axis=(0, 1, 2))
