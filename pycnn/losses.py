"""Losses with Keras 3 names, defaults and reduction.

A ``Loss`` gives per-sample values and their gradient with respect to
``y_pred`` (``per_sample``); ``__call__`` applies Keras' default reduction,
``sum_over_batch_size``: sum(loss_i * w_i) / N. Cross-entropies and MSE run in
``pycnn.ops``; MAE and Huber are elementwise NumPy.
"""

import numpy as np

from pycnn import ops


def _shape_error(y_true, y_pred):
    return ValueError(f"Arguments `target` and `output` must have the same shape. Received: "
                      f"target.shape={tuple(np.shape(y_true))}, output.shape={tuple(np.shape(y_pred))}")


def _dense_labels(y_true, y_pred):
    y_true = np.asarray(y_true, dtype=np.float32)
    if y_true.shape != y_pred.shape:
        if y_pred.ndim == 2 and y_true.ndim == 1 and y_pred.shape[1] == 1 and y_true.shape[0] == y_pred.shape[0]:
            return y_true.reshape(-1, 1)
        raise _shape_error(y_true, y_pred)
    return y_true


def _sparse_labels(y_true, y_pred):
    y_true = np.asarray(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true.reshape(y_true.shape[:-1])
    if y_true.shape != y_pred.shape[:-1]:
        raise ValueError(f"Argument `output` must have rank (ndim) `target.ndim - 1` and the same leading axes as "
                         f"`target` (sparse integer labels). Received: target.shape={tuple(np.shape(y_true))}, "
                         f"output.shape={tuple(y_pred.shape)}")
    num_classes = y_pred.shape[-1]
    if y_true.size:
        if y_true.dtype.kind == "f" and not np.all(y_true == np.round(y_true)):
            raise ValueError("Sparse labels must be integer class indices; received non-integer values")
        lo, hi = y_true.min(), y_true.max()
        if lo < 0 or hi >= num_classes:
            raise ValueError(f"Received a label value of {hi if hi >= num_classes else lo} which is outside the valid "
                             f"range of [0, {num_classes - 1}] for an output of {num_classes} classes.")
    return y_true.astype(np.int32)


class Loss:
    name = "loss"

    def __init__(self, name=None, reduction="sum_over_batch_size"):
        if reduction not in ("sum_over_batch_size", "sum", "none", None, "mean"):
            raise ValueError(f"Invalid value for argument `reduction`: {reduction!r}. Expected one of "
                             f"'sum_over_batch_size', 'sum', 'none'.")
        self.name = name or self.name
        self.reduction = reduction

    def per_sample(self, y_true, y_pred):
        """(losses (N,), d loss_i / d y_pred) as float32 arrays."""
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred, dtype=np.float32)
        values, _ = self.per_sample(y_true, y_pred)
        values = values.astype(np.float64)
        if sample_weight is not None:
            values = values * np.asarray(sample_weight, dtype=np.float64).reshape(values.shape)
        if self.reduction in (None, "none"):
            return values.astype(np.float32)
        total = values.sum()
        if self.reduction in ("sum_over_batch_size", "mean"):
            total = total / values.size if values.size else 0.0
        return np.float32(total)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class CategoricalCrossentropy(Loss):
    name = "categorical_crossentropy"
    sparse = False

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, name=None, reduction="sum_over_batch_size"):
        super().__init__(name, reduction)
        if axis != -1:
            raise ValueError(f"{type(self).__name__}: only axis=-1 is supported, received axis={axis}")
        if not 0 <= label_smoothing < 1:
            raise ValueError(f"`label_smoothing` must be in [0, 1), received {label_smoothing}")
        self.from_logits, self.label_smoothing = bool(from_logits), float(label_smoothing)

    def labels(self, y_true, y_pred):
        y = _sparse_labels(y_true, y_pred) if self.sparse else _dense_labels(y_true, y_pred)
        if self.label_smoothing and not self.sparse:
            k = y_pred.shape[-1]
            y = (y * (1 - self.label_smoothing) + self.label_smoothing / k).astype(np.float32)
        return y

    def per_sample(self, y_true, y_pred):
        labels = self.labels(y_true, y_pred)
        if self.from_logits:
            return ops.softmax_cross_entropy(y_pred, labels, sparse=self.sparse)
        return ops.categorical_cross_entropy(y_pred, labels, sparse=self.sparse)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits, "label_smoothing": self.label_smoothing}


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    name = "sparse_categorical_crossentropy"
    sparse = True

    def __init__(self, from_logits=False, ignore_class=None, name=None, reduction="sum_over_batch_size"):
        if ignore_class is not None:
            raise ValueError("SparseCategoricalCrossentropy(ignore_class=...) is not supported")
        super().__init__(from_logits=from_logits, name=name, reduction=reduction)

    def get_config(self):
        config = super().get_config()
        config.pop("label_smoothing")
        return config


class BinaryCrossentropy(Loss):
    name = "binary_crossentropy"

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, name=None, reduction="sum_over_batch_size"):
        super().__init__(name, reduction)
        self.from_logits, self.label_smoothing = bool(from_logits), float(label_smoothing)

    def per_sample(self, y_true, y_pred):
        y = _dense_labels(y_true, y_pred)
        if self.label_smoothing:
            y = (y * (1 - self.label_smoothing) + 0.5 * self.label_smoothing).astype(np.float32)
        values, grad = ops.binary_cross_entropy(y_pred, y, from_logits=self.from_logits)
        return values, grad.reshape(y_pred.shape)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits, "label_smoothing": self.label_smoothing}


def _rows(a):
    return a.reshape(a.shape[0], -1) if a.ndim > 2 else (a.reshape(-1, 1) if a.ndim == 1 else a)


class MeanSquaredError(Loss):
    name = "mean_squared_error"

    def per_sample(self, y_true, y_pred):
        y = _dense_labels(y_true, y_pred)
        values, grad = ops.mean_squared_error(_rows(y_pred), _rows(y))
        return values, grad.reshape(y_pred.shape)


class MeanAbsoluteError(Loss):
    name = "mean_absolute_error"

    def per_sample(self, y_true, y_pred):
        y = _dense_labels(y_true, y_pred)
        diff = _rows(y_pred) - _rows(y)
        k = diff.shape[1]
        return np.abs(diff).mean(axis=1), (np.sign(diff) / np.float32(k)).reshape(y_pred.shape).astype(np.float32)


class Huber(Loss):
    name = "huber_loss"

    def __init__(self, delta=1.0, name=None, reduction="sum_over_batch_size"):
        super().__init__(name, reduction)
        self.delta = float(delta)

    def per_sample(self, y_true, y_pred):
        y = _dense_labels(y_true, y_pred)
        diff = _rows(y_pred) - _rows(y)
        k = diff.shape[1]
        absd = np.abs(diff)
        quad = absd <= self.delta
        values = np.where(quad, 0.5 * diff * diff, self.delta * absd - 0.5 * self.delta ** 2).mean(axis=1)
        grad = np.where(quad, diff, self.delta * np.sign(diff)) / np.float32(k)
        return values.astype(np.float32), grad.reshape(y_pred.shape).astype(np.float32)

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


def _function(cls, **kw):
    def loss(y_true, y_pred):
        values, _ = cls(**kw).per_sample(y_true, np.asarray(y_pred, dtype=np.float32))
        return values

    loss.__name__ = cls.name
    return loss


categorical_crossentropy = _function(CategoricalCrossentropy)
sparse_categorical_crossentropy = _function(SparseCategoricalCrossentropy)
binary_crossentropy = _function(BinaryCrossentropy)
mean_squared_error = mse = _function(MeanSquaredError)
mean_absolute_error = mae = _function(MeanAbsoluteError)
huber = _function(Huber)

_CLASSES = {c.__name__: c for c in (CategoricalCrossentropy, SparseCategoricalCrossentropy, BinaryCrossentropy,
                                     MeanSquaredError, MeanAbsoluteError, Huber)}
_ALIASES = {"categorical_crossentropy": CategoricalCrossentropy,
            "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
            "binary_crossentropy": BinaryCrossentropy, "mse": MeanSquaredError,
            "mean_squared_error": MeanSquaredError, "mae": MeanAbsoluteError,
            "mean_absolute_error": MeanAbsoluteError, "huber": Huber, "huber_loss": Huber}


def get(identifier):
    """A Loss object from a name, a class name, a config dict, a loss function above, or a Loss."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        cls = _ALIASES.get(identifier) or _CLASSES.get(identifier)
        if cls is not None:
            return cls()
    if isinstance(identifier, dict) and identifier.get("class_name") in _CLASSES:
        return _CLASSES[identifier["class_name"]].from_config(identifier.get("config", {}))
    if callable(identifier) and getattr(identifier, "__name__", None) in _ALIASES:
        return _ALIASES[identifier.__name__]()
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}. Expected one of {sorted(_ALIASES)} "
                     f"or a pycnn.losses.Loss instance.")


def serialize(loss):
    return {"class_name": type(loss).__name__, "config": loss.get_config()}
