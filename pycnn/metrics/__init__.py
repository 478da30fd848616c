"""pycnn.metrics — Keras 3 metric names and definitions."""

from pycnn.metrics.accuracy_metrics import (Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                                            SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy, accuracy,
                                            binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
                                            sparse_top_k_categorical_accuracy, top_k_categorical_accuracy)
from pycnn.metrics.confusion_metrics import AUC, Precision, Recall
from pycnn.metrics.reduction_metrics import Mean, MeanMetricWrapper, Metric, Sum
from pycnn.metrics.report import classification_report, confusion_matrix  # noqa: F401
from pycnn.metrics.regression_metrics import (MeanAbsoluteError, MeanSquaredError, mean_absolute_error,
                                              mean_squared_error)

mse = mean_squared_error
mae = mean_absolute_error

_CLASSES = {c.__name__: c for c in (Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                                     TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, AUC, Precision, Recall,
                                     MeanSquaredError, MeanAbsoluteError, Mean, Sum)}
_ALIASES = {
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "precision": Precision, "recall": Recall, "auc": AUC,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
}
_FUNCTIONS = {f.__name__: f for f in (binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
                                       top_k_categorical_accuracy, sparse_top_k_categorical_accuracy,
                                       mean_squared_error, mean_absolute_error)}


def get(identifier):
    """A Metric from a name, class name, config dict, metric function or Metric.

    'accuracy' is resolved by the model at compile time (it depends on the loss and shapes).
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        cls = _ALIASES.get(identifier) or _CLASSES.get(identifier)
        if cls is not None:
            return cls()
    if isinstance(identifier, dict) and identifier.get("class_name") in _CLASSES:
        return _CLASSES[identifier["class_name"]].from_config(identifier.get("config", {}))
    if callable(identifier) and getattr(identifier, "__name__", None) in _FUNCTIONS:
        return MeanMetricWrapper(identifier)
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}. Expected 'accuracy' or one of "
                     f"{sorted(_ALIASES)}.")


__all__ = ["AUC", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "Mean", "MeanAbsoluteError",
           "MeanMetricWrapper", "MeanSquaredError", "Metric", "Precision", "Recall", "SparseCategoricalAccuracy",
           "SparseTopKCategoricalAccuracy", "Sum", "TopKCategoricalAccuracy", "accuracy", "binary_accuracy",
           "categorical_accuracy", "get", "mae", "mean_absolute_error", "mean_squared_error", "mse",
           "sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy", "top_k_categorical_accuracy"]
