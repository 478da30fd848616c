"""Keras semantics in plain NumPy float64, for the model-level tests.

Each forward sits with its backward. Layouts as Keras: NHWC, conv kernel
(kh, kw, cin, cout), dense kernel (in, out). Loss gradients here include
Keras' reduction (mean over the batch, times sample weights).
"""

import numpy as np


def same_pads(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def pad_input(x, k, s, padding):
    if padding == "valid":
        return x, (0, 0, 0, 0)
    t, b = same_pads(x.shape[1], k[0], s[0])
    l, r = same_pads(x.shape[2], k[1], s[1])
    return np.pad(x, ((0, 0), (t, b), (l, r), (0, 0))), (t, b, l, r)


def conv2d(x, kernel, bias, strides=(1, 1), padding="valid"):
    kh, kw, _, _ = kernel.shape
    xp, _ = pad_input(x, (kh, kw), strides, padding)
    oh = (xp.shape[1] - kh) // strides[0] + 1
    ow = (xp.shape[2] - kw) // strides[1] + 1
    y = np.zeros((x.shape[0], oh, ow, kernel.shape[3]))
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, i:i + (oh - 1) * strides[0] + 1:strides[0], j:j + (ow - 1) * strides[1] + 1:strides[1], :]
            y += patch @ kernel[i, j]
    return y + (0 if bias is None else bias)


def conv2d_backward(dy, x, kernel, strides=(1, 1), padding="valid"):
    kh, kw, _, _ = kernel.shape
    xp, (t, b, l, r) = pad_input(x, (kh, kw), strides, padding)
    oh, ow = dy.shape[1:3]
    dxp = np.zeros_like(xp)
    dk = np.zeros_like(kernel)
    for i in range(kh):
        for j in range(kw):
            sl = (slice(None), slice(i, i + (oh - 1) * strides[0] + 1, strides[0]),
                  slice(j, j + (ow - 1) * strides[1] + 1, strides[1]))
            dk[i, j] = np.einsum("nhwc,nhwk->ck", xp[sl], dy)
            dxp[sl] += dy @ kernel[i, j].T
    dx = dxp[:, t:xp.shape[1] - b, l:xp.shape[2] - r, :]
    return dx, dk, dy.sum(axis=(0, 1, 2))


def max_pool(x, p=2):
    n, h, w, c = x.shape
    oh, ow = h // p, w // p
    win = x[:, :oh * p, :ow * p].reshape(n, oh, p, ow, p, c)
    return win.max(axis=(2, 4))


def max_pool_backward(dy, x, p=2):
    n, h, w, c = x.shape
    oh, ow = dy.shape[1:3]
    win = x[:, :oh * p, :ow * p].reshape(n, oh, p, ow, p, c).transpose(0, 1, 3, 5, 2, 4).reshape(n, oh, ow, c, p * p)
    arg = win.argmax(-1)
    dwin = np.zeros_like(win)
    np.put_along_axis(dwin, arg[..., None], dy[..., None], axis=-1)
    dx = np.zeros_like(x)
    dx[:, :oh * p, :ow * p] = dwin.reshape(n, oh, ow, c, p, p).transpose(0, 1, 4, 2, 5, 3).reshape(n, oh * p, ow * p, c)
    return dx


def relu(x):
    return np.maximum(x, 0)


def leaky_relu(x, slope):
    return np.where(x > 0, x, slope * x)


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def batch_norm_train(x, gamma, beta, eps=1e-3):
    axes = tuple(range(x.ndim - 1))
    mean, var = x.mean(axes), x.var(axes)
    xhat = (x - mean) / np.sqrt(var + eps)
    return gamma * xhat + beta, (xhat, var, mean)


def batch_norm_backward(dy, cache, gamma, eps=1e-3):
    xhat, var, _ = cache
    axes = tuple(range(dy.ndim - 1))
    m = dy.size // dy.shape[-1]
    dbeta, dgamma = dy.sum(axes), (dy * xhat).sum(axes)
    dx = gamma / np.sqrt(var + eps) / m * (m * dy - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta


def categorical_crossentropy(probs, y, sample_weight=None):
    """Keras: normalise rows, clip to [eps, 1-eps], -sum y log p; mean of (loss * w) over the batch."""
    p = np.clip(probs / probs.sum(-1, keepdims=True), 1e-7, 1 - 1e-7)
    losses = -(y * np.log(p)).sum(-1)
    w = np.ones(len(losses)) if sample_weight is None else sample_weight
    return (losses * w).sum() / len(losses)


def softmax_crossentropy_grad(z, y, sample_weight=None):
    """d mean_i(w_i * CE(softmax(z_i), y_i)) / dz."""
    w = np.ones(len(z)) if sample_weight is None else sample_weight
    return (softmax(z) * y.sum(-1, keepdims=True) - y) * w[:, None] / len(z)


def binary_crossentropy(p, y):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return (-(y * np.log(p) + (1 - y) * np.log(1 - p))).mean(-1).mean()


# ----- optimizers (Keras 3 update rules) ---------------------------------------
def sgd_steps(w, grads, lr, momentum=0.0, nesterov=False):
    m = np.zeros_like(w)
    for g in grads:
        if momentum:
            m = momentum * m - lr * g
            w = w + (momentum * m - lr * g if nesterov else m)
        else:
            w = w - lr * g
    return w


def rmsprop_steps(w, grads, lr, rho=0.9, eps=1e-7, momentum=0.0, centered=False):
    v, mom, avg = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        v = rho * v + (1 - rho) * g * g
        den = v + eps
        if centered:
            avg = rho * avg + (1 - rho) * g
            den = v - avg * avg + eps
        inc = lr * g / np.sqrt(den)
        if momentum:
            mom = momentum * mom + inc
            w = w - mom
        else:
            w = w - inc
    return w


def adam_steps(w, grads, lr, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, weight_decay=0.0):
    m, v, vhat = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        if weight_decay:
            w = w - w * weight_decay * lr
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        if amsgrad:
            vhat = np.maximum(vhat, v)
            w = w - alpha * m / (np.sqrt(vhat) + eps)
        else:
            w = w - alpha * m / (np.sqrt(v) + eps)
    return w


# ----- metrics -------------------------------------------------------------
def roc_auc(y, p, num_thresholds=200):
    """Keras' AUC: thresholded ROC with trapezoids over num_thresholds points."""
    eps = 1e-7
    th = np.array([-eps] + [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1 + eps])
    y, p = y.reshape(-1), p.reshape(-1)
    tp = np.array([((p > t) & (y == 1)).sum() for t in th], float)
    fp = np.array([((p > t) & (y == 0)).sum() for t in th], float)
    fn, tn = (y == 1).sum() - tp, (y == 0).sum() - fp
    tpr = np.where(tp + fn > 0, tp / np.maximum(tp + fn, 1), 0)
    fpr = np.where(fp + tn > 0, fp / np.maximum(fp + tn, 1), 0)
    return float(((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2).sum())
