"""Accuracy metrics with Keras 3 definitions (per-sample values, then a weighted mean)."""

import numpy as np

from pycnn.metrics.reduction_metrics import MeanMetricWrapper


def _sparse(y_true, y_pred):
    y_true = np.asarray(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true.reshape(y_true.shape[:-1])
    return y_true


def binary_accuracy(y_true, y_pred, threshold=0.5):
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true).reshape(y_pred.shape)
    return (y_true == (y_pred > threshold)).astype(np.float32).mean(axis=-1)


def categorical_accuracy(y_true, y_pred):
    y_pred = np.asarray(y_pred)
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    y_pred = np.asarray(y_pred)
    return (_sparse(y_true, y_pred).astype(np.int64) == np.argmax(y_pred, axis=-1)).astype(np.float32)


def _in_top_k(targets, y_pred, k):
    # As tf.math.in_top_k: ties at the boundary count as inside the top k.
    target_scores = np.take_along_axis(y_pred, targets[..., None].astype(np.intp), axis=-1)
    return ((y_pred > target_scores).sum(axis=-1) < k).astype(np.float32)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    y_pred = np.asarray(y_pred)
    return _in_top_k(np.argmax(y_true, axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    y_pred = np.asarray(y_pred)
    return _in_top_k(_sparse(y_true, y_pred).astype(np.int64), y_pred, k)


def accuracy(y_true, y_pred):
    y_pred = np.asarray(y_pred)
    return (np.asarray(y_true).reshape(y_pred.shape) == y_pred).astype(np.float32).mean(axis=-1)


class Accuracy(MeanMetricWrapper):
    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name)


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, k=k)
