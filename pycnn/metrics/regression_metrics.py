"""Regression metrics: weighted means of per-sample errors."""

import numpy as np

from pycnn.metrics.reduction_metrics import MeanMetricWrapper


def _rows(y_true, y_pred):
    y_pred = np.asarray(y_pred, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.float64).reshape(y_pred.shape)
    return y_true.reshape(len(y_pred), -1), y_pred.reshape(len(y_pred), -1)


def mean_squared_error(y_true, y_pred):
    t, p = _rows(y_true, y_pred)
    return ((p - t) ** 2).mean(axis=1)


def mean_absolute_error(y_true, y_pred):
    t, p = _rows(y_true, y_pred)
    return np.abs(p - t).mean(axis=1)


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name)


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name)
