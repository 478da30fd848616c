"""Precision, Recall and AUC over thresholded predictions, as Keras' confusion metrics.

Inputs of any shape are flattened (every entry is one binary decision);
a prediction counts as positive when it is strictly above the threshold.
AUC uses Keras' defaults: 200 thresholds (0 - eps, i/(n-1) for i in 1..n-2,
1 + eps), ROC curve, interpolated (trapezoid) summation.
"""

import numpy as np

from pycnn.metrics.reduction_metrics import Metric, _broadcast_weights

_EPSILON = 1e-7


def _flat(y_true, y_pred, sample_weight):
    y_pred = np.asarray(y_pred, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.float64).reshape(y_pred.shape)
    w = _broadcast_weights(y_pred, sample_weight)
    w = np.ones(y_pred.size) if w is None else np.asarray(w, dtype=np.float64).reshape(-1)
    return y_true.reshape(-1), y_pred.reshape(-1), w


def _confusion(y_true, y_pred, w, thresholds):
    """Weighted tp, fp, tn, fn per threshold (prediction > threshold is positive)."""
    above = y_pred[None, :] > np.asarray(thresholds)[:, None]
    pos, neg = (y_true == 1) * w, (y_true == 0) * w
    tp, fp = (above * pos).sum(1), (above * neg).sum(1)
    return tp, fp, pos.sum() - tp, neg.sum() - fp


def _divide_no_nan(a, b):
    return np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))


class _Thresholded(Metric):
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        if top_k is not None or class_id is not None:
            raise ValueError(f"{type(self).__name__}: `top_k` and `class_id` are not supported")
        self.thresholds = 0.5 if thresholds is None else thresholds
        self._thresholds = np.atleast_1d(np.asarray(self.thresholds, dtype=np.float64))
        if np.any((self._thresholds < 0) | (self._thresholds > 1)):
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {self.thresholds}")
        super().__init__(name=name)

    def reset_state(self):
        n = len(self._thresholds)
        self.tp, self.fp, self.tn, self.fn = (np.zeros(n) for _ in range(4))

    def update_state(self, y_true, y_pred, sample_weight=None):
        tp, fp, tn, fn = _confusion(*_flat(y_true, y_pred, sample_weight), self._thresholds)
        self.tp += tp
        self.fp += fp
        self.tn += tn
        self.fn += fn

    def _scalar(self, values):
        return np.float32(values[0]) if np.ndim(self.thresholds) == 0 else values.astype(np.float32)

    def get_config(self):
        t = self.thresholds
        return {"name": self.name, "thresholds": t if np.ndim(t) == 0 else list(np.asarray(t, dtype=float))}


class Precision(_Thresholded):
    def result(self):
        return self._scalar(_divide_no_nan(self.tp, self.tp + self.fp))


class Recall(_Thresholded):
    def result(self):
        return self._scalar(_divide_no_nan(self.tp, self.tp + self.fn))


class AUC(Metric):
    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        if num_thresholds <= 1:
            raise ValueError(f"Argument `num_thresholds` must be an integer > 1. Received: num_thresholds={num_thresholds}")
        if curve.upper() not in ("ROC", "PR"):
            raise ValueError(f'Invalid `curve` argument value "{curve}". Expected one of: ROC, PR')
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f"Invalid `summation_method` argument value {summation_method!r}")
        if multi_label or label_weights is not None:
            raise ValueError("AUC(multi_label=True / label_weights) is not supported")
        self.num_thresholds, self.curve, self.summation_method = int(num_thresholds), curve.upper(), summation_method
        self.from_logits = bool(from_logits)
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            self.num_thresholds = len(inner) + 2
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self._thresholds = np.array([0.0 - _EPSILON] + inner + [1.0 + _EPSILON])
        super().__init__(name=name or "auc")

    def reset_state(self):
        n = self.num_thresholds
        self.tp, self.fp, self.tn, self.fn = (np.zeros(n) for _ in range(4))

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.from_logits:
            y_pred = 1.0 / (1.0 + np.exp(-np.asarray(y_pred, dtype=np.float64)))
        tp, fp, tn, fn = _confusion(*_flat(y_true, y_pred, sample_weight), self._thresholds)
        self.tp += tp
        self.fp += fp
        self.tn += tn
        self.fn += fn

    def result(self):
        n = self.num_thresholds
        if self.curve == "PR":
            x, y = _divide_no_nan(self.tp, self.tp + self.fn), _divide_no_nan(self.tp, self.tp + self.fp)
        else:
            x, y = _divide_no_nan(self.fp, self.fp + self.tn), _divide_no_nan(self.tp, self.tp + self.fn)
        if self.summation_method == "interpolation":
            heights = (y[: n - 1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[: n - 1], y[1:])
        else:
            heights = np.maximum(y[: n - 1], y[1:])
        return np.float32(((x[: n - 1] - x[1:]) * heights).sum())

    def get_config(self):
        return {"name": self.name, "num_thresholds": self.num_thresholds, "curve": self.curve,
                "summation_method": self.summation_method, "from_logits": self.from_logits}
