"""Plots of training runs and of what a network sees (matplotlib, optional).

Install the extra with ``pip install pycnn[plot]``. Every function returns a
``matplotlib.figure.Figure`` built without pyplot (no global state, no
window); pass ``path=`` to also save it (PNG by extension), or display the
figure in a notebook.
"""

import math

import numpy as np

_FEATURE_LAYERS = ("Conv2D", "DepthwiseConv2D", "MaxPooling2D", "AveragePooling2D")


def _figure(**kwargs):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("pycnn.viz needs matplotlib: install it with "
                          "`pip install pycnn[plot]` (or `pip install matplotlib`)") from None
    return Figure(**kwargs)


def _finish(fig, path):
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig


def plot_history(history, metrics=None, path=None):
    """Curves of each metric per epoch, training and validation side by side.

    Args:
        history: the ``History`` returned by ``fit`` (or its ``.history`` dict).
        metrics: names to plot (default: every key without a ``val_`` prefix,
            loss first).
        path: optional file to save the figure to.
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ValueError(f"plot_history expects a History or a non-empty dict of lists, got {history!r}")
    if metrics is None:
        metrics = sorted((k for k in logs if not k.startswith("val_")), key=lambda k: (k != "loss", k))
    missing = [m for m in metrics if m not in logs]
    if missing:
        raise ValueError(f"plot_history: {missing} not in the history (it has {sorted(logs)})")
    fig = _figure(figsize=(5 * len(metrics), 3.6), layout="constrained")
    from matplotlib.ticker import MaxNLocator

    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, name in zip(axes, metrics):
        epochs = np.arange(1, len(logs[name]) + 1)
        ax.plot(epochs, logs[name], "o-", label="train")
        if "val_" + name in logs:
            ax.plot(epochs, logs["val_" + name], "s--", label="validation")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend()
    return _finish(fig, path)


def feature_maps(model, image, layers=None):
    """[(layer name, activation (H, W, C))] of ``image`` through ``model``.

    ``image`` is one input as the model expects it, (H, W, C) or (1, H, W, C).
    ``layers`` (names or layers) defaults to every convolution and pooling layer.
    """
    from pycnn.models import Model

    image = np.asarray(image, np.float32)
    if image.ndim == 3:
        image = image[None]
    if image.ndim != 4 or image.shape[0] != 1:
        raise ValueError(f"feature_maps expects one image (H, W, C) or (1, H, W, C), got {image.shape}")
    if layers is None:
        layers = [l for l in model.layers if type(l).__name__ in _FEATURE_LAYERS]
    else:
        layers = [model.get_layer(l) if isinstance(l, str) else l for l in layers]
    if not layers:
        raise ValueError("feature_maps: the model has no convolution or pooling layer")
    probe = Model(inputs=model.inputs, outputs=[l.output for l in layers])
    outputs = probe.predict(image, verbose=0)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return [(l.name, np.asarray(o)[0]) for l, o in zip(layers, outputs)]


def plot_maps(maps, max_maps=16, cols=8, path=None):
    """Grids of activation maps, one block per layer, from ``feature_maps``."""
    if not maps:
        raise ValueError("plot_maps: nothing to plot")
    blocks = [(name, a, min(a.shape[-1], max_maps)) for name, a in maps]
    rows = [math.ceil(n / cols) for _, _, n in blocks]
    fig = _figure(figsize=(1.4 * cols, 1.5 * sum(rows) + 0.5 * len(blocks)), layout="constrained")
    subfigs = fig.subfigures(len(blocks), 1, height_ratios=[r + 0.4 for r in rows], squeeze=False)[:, 0]
    for sub, (name, a, n), r in zip(subfigs, blocks, rows):
        sub.suptitle(f"{name}: {a.shape[0]}x{a.shape[1]}, {n} of {a.shape[-1]} channels", fontsize=9)
        axes = sub.subplots(r, cols, squeeze=False).ravel()
        for k, ax in enumerate(axes):
            ax.set_axis_off()
            if k < n:
                ax.imshow(a[..., k], cmap="viridis")
    return _finish(fig, path)


def plot_feature_maps(model, image, layers=None, max_maps=16, cols=8, path=None):
    """Every convolution and pooling layer's activation maps of one image, in grids."""
    return plot_maps(feature_maps(model, image, layers), max_maps=max_maps, cols=cols, path=path)


def plot_confusion_matrix(cm, class_names=None, normalize=False, path=None, title="Confusion matrix"):
    """A confusion matrix (rows: true class, columns: predicted) as a labelled heat map.

    ``cm`` is a square matrix (``pycnn.metrics.report.confusion_matrix``);
    ``normalize=True`` shows each row as fractions of its true class.
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] == 0:
        raise ValueError(f"plot_confusion_matrix expects a square matrix, got shape {cm.shape}")
    n = cm.shape[0]
    names = [str(c) for c in (class_names if class_names is not None else range(n))]
    if len(names) != n:
        raise ValueError(f"plot_confusion_matrix: {len(names)} class names for a {n}x{n} matrix")
    values = cm.astype(np.float64)
    if normalize:
        sums = values.sum(axis=1, keepdims=True)
        values = np.divide(values, sums, out=np.zeros_like(values), where=sums != 0)
    side = max(3.5, 0.6 * n + 2)
    fig = _figure(figsize=(side + 1, side), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(values, cmap="Blues")
    fig.colorbar(image, ax=ax)
    ax.set_xticks(range(n), names, rotation=45, ha="right")
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    threshold = values.max() / 2 if values.size else 0
    for i in range(n):
        for j in range(n):
            text = f"{values[i, j]:.2f}" if normalize else f"{int(cm[i, j])}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if values[i, j] > threshold else "black")
    return _finish(fig, path)
