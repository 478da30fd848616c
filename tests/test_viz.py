"""pycnn.viz renders real PNGs (skipped without matplotlib)."""

import sys

import numpy as np
import pytest

from pycnn import viz

mpl_image = pytest.importorskip("matplotlib.image")


def read_png(path):
    image = mpl_image.imread(path)
    assert image.ndim == 3 and image[..., :3].std() > 0.01, "blank image"
    return image


def test_plot_history(tmp_path):
    history = {"loss": [1.0, 0.5, 0.3], "accuracy": [0.6, 0.8, 0.9],
               "val_loss": [1.1, 0.7, 0.6], "val_accuracy": [0.5, 0.7, 0.8]}
    fig = viz.plot_history(history, path=tmp_path / "history.png")
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    assert len(fig.axes[0].lines) == 2
    width = read_png(tmp_path / "history.png").shape[1]
    assert width == 1000  # two 5-inch panels at 100 dpi

    class History:
        pass

    h = History()
    h.history = {"loss": [0.2, 0.1]}
    assert len(viz.plot_history(h).axes) == 1
    with pytest.raises(ValueError, match=r"\['acc'\] not in the history"):
        viz.plot_history(history, metrics=["acc"])


def test_plot_confusion_matrix(tmp_path):
    cm = np.array([[5, 1], [2, 7]])
    fig = viz.plot_confusion_matrix(cm, ["male", "female"], path=tmp_path / "cm.png")
    texts = sorted(t.get_text() for t in fig.axes[0].texts)
    assert texts == ["1", "2", "5", "7"]
    read_png(tmp_path / "cm.png")
    fig = viz.plot_confusion_matrix(cm, normalize=True)
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["0.17", "0.22", "0.78", "0.83"]
    with pytest.raises(ValueError, match="square matrix"):
        viz.plot_confusion_matrix(np.ones((2, 3)))
    with pytest.raises(ValueError, match="3 class names for a 2x2 matrix"):
        viz.plot_confusion_matrix(cm, ["a", "b", "c"])


def test_plot_maps_grid(tmp_path, rng):
    maps = [("conv2d", rng.random((26, 26, 20))), ("max_pooling2d", rng.random((13, 13, 3)))]
    fig = viz.plot_maps(maps, max_maps=16, cols=8, path=tmp_path / "maps.png")
    images = [ax for ax in fig.get_axes() if ax.images]
    assert len(images) == 16 + 3
    read_png(tmp_path / "maps.png")


def test_feature_maps_of_a_model(tmp_path, rng):
    layers = pytest.importorskip("pycnn.layers")
    models = pytest.importorskip("pycnn.models")
    model = models.Sequential([
        layers.Input((12, 10, 1)),
        layers.Conv2D(4, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(2, activation="softmax"),
    ])
    image = rng.random((12, 10, 1)).astype(np.float32)
    maps = viz.feature_maps(model, image)
    assert [(name.split("_")[0], a.shape) for name, a in maps] == [("conv2d", (10, 8, 4)),
                                                                   ("max", (5, 4, 4))]
    viz.plot_feature_maps(model, image, path=tmp_path / "fm.png")
    read_png(tmp_path / "fm.png")


def test_missing_matplotlib_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install pycnn\[plot\]"):
        viz.plot_confusion_matrix(np.eye(2))
