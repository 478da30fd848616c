"""Per-sample losses and their gradients.

Each function returns ``(losses, grad)``: ``losses`` has one value per
sample (the input's shape without its last axis, so ``(N,)`` for ``(N, C)``
inputs) and ``grad`` is the gradient of each sample's own loss with respect
to the predictions — not divided by N. Reduction over the batch and sample
weights are the caller's (the model layer's) business. Formulas and defaults
follow ``keras.losses``; probabilities are clipped to [1e-7, 1 - 1e-7].
"""

import numpy as np

from pycnn import _core
from pycnn.ops._validate import as_float32, as_int_labels, op_error

__all__ = [
    "softmax_cross_entropy",
    "categorical_cross_entropy",
    "binary_cross_entropy",
    "mean_squared_error",
]


def _predictions(x, op, name):
    x = as_float32(x, op, name)
    if x.ndim < 1:
        raise op_error(op, f"expected `{name}` of rank >= 1 (samples..., classes), got a scalar")
    if x.shape[-1] < 1:
        raise op_error(op, f"expected at least one class along the last axis of `{name}`, got shape {x.shape}")
    return x


def _dense_labels(labels, pred, op, name):
    labels = as_float32(labels, op, name)
    if labels.shape != pred.shape:
        raise op_error(op, f"expected `{name}` of the predictions' shape {pred.shape}, got {labels.shape}"
                       + (" (integer class labels need sparse=True)" if labels.shape == pred.shape[:-1] else ""))
    return labels


def _sparse_labels(labels, pred, op):
    try:
        labels = np.asarray(labels)
    except ValueError as exc:  # ragged lists
        raise op_error(op, f"expected integer labels as an array, could not convert them: {exc}") from None
    want = pred.shape[:-1]
    if labels.shape == want + (1,):  # Keras accepts a trailing axis of 1
        labels = labels.reshape(want)
    if labels.shape != want:
        raise op_error(op, f"expected integer labels of shape {want} for predictions of shape {pred.shape}, got {labels.shape}")
    return as_int_labels(labels, op, "labels", pred.shape[-1])


def softmax_cross_entropy(logits, labels, sparse=False):
    """Softmax + cross-entropy on logits, fused and numerically stable.

    ``labels`` are one-hot or soft targets of the logits' shape, or with
    ``sparse=True`` integer class ids of shape ``logits.shape[:-1]``
    (range-checked). Loss ``sum(t * (logsumexp(z) - z))``; gradient
    ``softmax(z) * sum(t) - t``.
    """
    op = "softmax_cross_entropy"
    logits = _predictions(logits, op, "logits")
    if sparse:
        return _core.softmax_cross_entropy_sparse(logits, _sparse_labels(labels, logits, op))
    return _core.softmax_cross_entropy(logits, _dense_labels(labels, logits, op, "labels"))


def categorical_cross_entropy(probs, labels, sparse=False):
    """Cross-entropy on probabilities, as ``keras.losses.categorical_crossentropy``.

    Rows are normalised to sum 1, clipped to [1e-7, 1 - 1e-7], and the loss
    is ``-sum(t * log(p))``; the gradient flows through the normalisation and
    is zero where the clip is active.
    """
    op = "categorical_cross_entropy"
    probs = _predictions(probs, op, "probs")
    if sparse:
        return _core.categorical_cross_entropy_sparse(probs, _sparse_labels(labels, probs, op))
    return _core.categorical_cross_entropy(probs, _dense_labels(labels, probs, op, "labels"))


def binary_cross_entropy(y_pred, y_true, from_logits=False):
    """Binary cross-entropy, averaged over the last axis (Keras).

    Probabilities are clipped to [1e-7, 1 - 1e-7]; with ``from_logits`` the
    stable form ``max(z, 0) - z*t + log(1 + exp(-|z|))`` is used (as
    TensorFlow's sigmoid_cross_entropy_with_logits), whose gradient is
    ``(sigmoid(z) - t) / C``.
    """
    op = "binary_cross_entropy"
    y_pred = _predictions(y_pred, op, "y_pred")
    y_true = _dense_labels(y_true, y_pred, op, "y_true")
    return _core.binary_cross_entropy(y_pred, y_true, bool(from_logits))


def mean_squared_error(y_pred, y_true):
    """``mean((y_pred - y_true)**2)`` over the last axis; gradient ``2 (y_pred - y_true) / C``."""
    op = "mean_squared_error"
    y_pred = _predictions(y_pred, op, "y_pred")
    return _core.mean_squared_error(y_pred, _dense_labels(y_true, y_pred, op, "y_true"))
