"""Stateful metric base and the (weighted) mean/sum reductions, as Keras'.

A metric accumulates over batches (``update_state``) and reports
``result()``; ``Mean`` keeps sum(v * w) and sum(w) in float64.
"""

import numpy as np


class Metric:
    def __init__(self, name=None, dtype=None):
        from pycnn.utils.naming import to_snake_case

        self.name = name or to_snake_case(type(self).__name__)
        self.reset_state()

    def reset_state(self):
        raise NotImplementedError

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def _broadcast_weights(values, sample_weight):
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim > values.ndim and w.shape[-1] == 1:
        w = w.reshape(w.shape[:-1])
    w = w.reshape(w.shape + (1,) * (values.ndim - w.ndim))
    return np.broadcast_to(w, values.shape)


class Sum(Metric):
    def reset_state(self):
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        values = np.asarray(values, dtype=np.float64)
        w = _broadcast_weights(values, sample_weight)
        self.total += float((values if w is None else values * w).sum())

    def result(self):
        return np.float32(self.total)


class Mean(Metric):
    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        values = np.asarray(values, dtype=np.float64)
        w = _broadcast_weights(values, sample_weight)
        if w is None:
            self.total += float(values.sum())
            self.count += float(values.size)
        else:
            self.total += float((values * w).sum())
            self.count += float(w.sum())

    def result(self):
        return np.float32(self.total / self.count) if self.count else np.float32(0.0)


class MeanMetricWrapper(Mean):
    """The weighted mean of ``fn(y_true, y_pred)`` (per-sample values) over everything seen."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        self._fn = fn
        self._fn_kwargs = kwargs
        super().__init__(name=name or fn.__name__)

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight)

    def get_config(self):
        return {"name": self.name, **self._fn_kwargs}
