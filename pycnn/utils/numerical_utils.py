"""``to_categorical`` and ``normalize`` with Keras' semantics."""

import numpy as np


def to_categorical(x, num_classes=None):
    """Integer class vector -> one-hot float32 matrix (a trailing axis of 1 is dropped)."""
    x = np.asarray(x)
    if x.dtype.kind == "f":
        if x.size and not np.all(x == np.round(x)):
            raise ValueError("to_categorical expects integer class labels, received non-integer values")
        x = x.astype(np.int64)
    elif x.dtype.kind not in "biu":
        raise ValueError(f"to_categorical expects integer class labels, received dtype {x.dtype}")
    if x.ndim > 1 and x.shape[-1] == 1:
        x = x.reshape(x.shape[:-1])
    if num_classes is None:
        num_classes = int(x.max()) + 1 if x.size else 0
    if x.size and (x.min() < 0 or x.max() >= num_classes):
        raise ValueError(f"to_categorical expects labels in [0, {num_classes}), received values in [{x.min()}, {x.max()}]")
    out = np.zeros(x.shape + (num_classes,), dtype=np.float32)
    np.put_along_axis(out, x[..., None].astype(np.intp), 1.0, axis=-1)
    return out


def normalize(x, axis=-1, order=2):
    x = np.asarray(x, dtype=np.float32)
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / np.where(norm == 0, 1, norm)
