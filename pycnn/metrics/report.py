"""Per-class evaluation summaries, printed as scikit-learn prints them.

``classification_report`` returns the same text as
``sklearn.metrics.classification_report`` for single-label problems
(precision, recall, F1 and support per class; accuracy, macro and weighted
averages), so tutorial output compares line by line. A class that is never
predicted (or never present) gets precision (or recall) 0, as scikit-learn's
default ``zero_division`` does.
"""

import numpy as np

_HEADERS = ("precision", "recall", "f1-score", "support")


def _as_labels(y, name):
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class labels, got shape {y.shape}; "
                         f"for one-hot or probability rows pass {name}.argmax(axis=-1)")
    return y


def _inputs(y_true, y_pred, labels):
    y_true = _as_labels(y_true, "y_true")
    y_pred = _as_labels(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true and y_pred have different lengths: {len(y_true)} and {len(y_pred)}")
    if labels is None:
        labels = np.unique(np.concatenate([y_true, y_pred]))
    else:
        labels = np.asarray(labels)
        if labels.ndim != 1 or len(labels) == 0:
            raise ValueError(f"labels must be a non-empty 1-D list, got {labels!r}")
    return y_true, y_pred, labels


def confusion_matrix(y_true, y_pred, labels=None, normalize=None):
    """Counts C[i, j] of samples of class labels[i] predicted as labels[j].

    ``labels`` (default: every label seen in either array, sorted) orders the
    rows and columns; samples with other labels are left out. ``normalize``
    is None (int64 counts), "true" (rows sum to 1), "pred" (columns sum to
    1) or "all" (the matrix sums to 1).
    """
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"normalize must be None, 'true', 'pred' or 'all', got {normalize!r}")
    y_true, y_pred, labels = _inputs(y_true, y_pred, labels)
    n = len(labels)
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]

    def index(y):
        pos = np.clip(np.searchsorted(sorted_labels, y), 0, n - 1)
        return order[pos], sorted_labels[pos] == y

    t, t_ok = index(y_true)
    p, p_ok = index(y_pred)
    ok = t_ok & p_ok
    cm = np.bincount(t[ok] * n + p[ok], minlength=n * n).reshape(n, n).astype(np.int64)
    if normalize is None:
        return cm
    with np.errstate(invalid="ignore", divide="ignore"):
        if normalize == "true":
            out = cm / cm.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            out = cm / cm.sum(axis=0, keepdims=True)
        else:
            out = cm / cm.sum()
    return np.nan_to_num(out)


def _divide(num, den):
    return np.divide(num, den, out=np.zeros_like(num, dtype=np.float64), where=den != 0)


def precision_recall_f1_support(y_true, y_pred, labels=None):
    """Per-label arrays (precision, recall, f1, support) and the labels used."""
    y_true, y_pred, labels = _inputs(y_true, y_pred, labels)
    cm = confusion_matrix(y_true, y_pred, labels)
    tp = np.diag(cm).astype(np.float64)
    predicted = cm.sum(axis=0).astype(np.float64)
    support = np.array([np.sum(y_true == label) for label in labels], np.int64)
    precision = _divide(tp, predicted)
    recall = _divide(tp, support.astype(np.float64))
    f1 = _divide(2 * precision * recall, precision + recall)
    return precision, recall, f1, support, labels


def classification_report(y_true, y_pred, labels=None, target_names=None, digits=2,
                          output_dict=False):
    """The scikit-learn text report of per-class precision, recall, F1, support.

    Args:
        y_true, y_pred: 1-D arrays of class labels (a (N, 1) column is accepted).
        labels: the classes to report, in order (default: all seen, sorted).
        target_names: display names, one per reported class.
        digits: decimals of the floating-point columns.
        output_dict: return ``{name: {"precision": ..., ...}, "accuracy": ...,
            "macro avg": {...}, "weighted avg": {...}}`` instead of text.
    """
    labels_given = labels is not None
    y_true, y_pred, labels = _inputs(y_true, y_pred, labels)
    precision, recall, f1, support, labels = precision_recall_f1_support(y_true, y_pred, labels)
    if target_names is None:
        target_names = [str(label) for label in labels]
    elif len(target_names) != len(labels):
        raise ValueError(f"Number of classes, {len(labels)}, does not match size of "
                         f"target_names, {len(target_names)}. Try specifying the labels parameter")
    total = int(support.sum())
    seen = set(np.unique(np.concatenate([y_true, y_pred])).tolist())
    micro_is_accuracy = not labels_given or set(labels.tolist()) >= seen
    averages = {}
    if micro_is_accuracy:
        averages["accuracy"] = (float(np.mean(y_true == y_pred)) if len(y_true) else 0.0, total)
    else:
        tp = float(np.sum([np.sum((y_true == y_pred) & (y_true == lab)) for lab in labels]))
        predicted = float(np.sum(np.isin(y_pred, labels)))
        p = tp / predicted if predicted else 0.0
        r = tp / total if total else 0.0
        averages["micro avg"] = (p, r, 2 * p * r / (p + r) if p + r else 0.0, total)
    averages["macro avg"] = (precision.mean(), recall.mean(), f1.mean(), total)
    weights = support / total if total else np.zeros(len(labels))
    averages["weighted avg"] = (float(precision @ weights), float(recall @ weights),
                                float(f1 @ weights), total)
    rows = list(zip(target_names, precision, recall, f1, support))

    if output_dict:
        result = {str(name): dict(zip(_HEADERS, (float(p), float(r), float(f), int(s))))
                  for name, p, r, f, s in rows}
        for heading, value in averages.items():
            result[heading] = value[0] if heading == "accuracy" else dict(
                zip(_HEADERS, (float(value[0]), float(value[1]), float(value[2]), int(value[3]))))
        return result
    return _format(rows, averages, digits)


def _format(rows, averages, digits):
    width = max(max(len(str(row[0])) for row in rows), len("weighted avg"), digits)
    report = ("{:>{width}s} " + " {:>9}" * len(_HEADERS)).format("", *_HEADERS, width=width)
    report += "\n\n"
    row_fmt = "{:>{width}s} " + " {:>9.{digits}f}" * 3 + " {:>9}\n"
    for name, p, r, f, s in rows:
        report += row_fmt.format(str(name), p, r, f, s, width=width, digits=digits)
    report += "\n"
    for heading, value in averages.items():
        if heading == "accuracy":
            accuracy_fmt = "{:>{width}s} " + " {:>9.{digits}}" * 2 + " {:>9.{digits}f}" + " {:>9}\n"
            report += accuracy_fmt.format(heading, "", "", *value, width=width, digits=digits)
        else:
            report += row_fmt.format(heading, *value, width=width, digits=digits)
    return report
