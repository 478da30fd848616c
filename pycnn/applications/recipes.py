"""Training recipes: which data, preprocessing, optimizer and budget each
tutorial uses. The ``pycnn`` command and the examples share them.

Images become float32 in [0, 1] (pixels / 255) with a channel axis; labels
stay integer class indices (sparse categorical cross-entropy, the same
loss as the tutorials' one-hot categorical cross-entropy).
"""

from dataclasses import dataclass, field

import numpy as np

from pycnn import optimizers
from pycnn.applications import NETWORKS
from pycnn.datasets import cifar10, faces, fashion_mnist, mnist

SUBSETS = ("auto", "full", "embedded")


@dataclass(frozen=True)
class Recipe:
    name: str
    network: str
    dataset: str
    epochs: int
    batch_size: int
    optimizer: dict = field(default_factory=dict)  # class name and arguments
    note: str = ""

    def build(self):
        return NETWORKS[self.network]()

    def make_optimizer(self):
        args = dict(self.optimizer)
        return getattr(optimizers, args.pop("class_name"))(**args)


RECIPES = {
    "mnist": Recipe("mnist", "mnist", "mnist", epochs=5, batch_size=64,
                    optimizer={"class_name": "RMSprop", "learning_rate": 1e-3},
                    note="tutorial 001: rmsprop, 5 epochs, batch 64"),
    "fashion_mnist": Recipe("fashion_mnist", "mnist", "fashion_mnist", epochs=5, batch_size=64,
                            optimizer={"class_name": "RMSprop", "learning_rate": 1e-3},
                            note="the tutorial 001 network on Fashion-MNIST"),
    "cifar10": Recipe("cifar10", "cifar10", "cifar10", epochs=10, batch_size=32,
                      optimizer={"class_name": "Adam", "learning_rate": 5e-4},
                      note="tutorial 000: Adam 5e-4, batch 32, 10 epochs"),
    "cifar10-mlp": Recipe("cifar10-mlp", "cifar10-mlp", "cifar10", epochs=10, batch_size=32,
                          optimizer={"class_name": "Adam", "learning_rate": 5e-4},
                          note="tutorial 000's MLP baseline, same budget as the CNN"),
    "faces": Recipe("faces", "faces", "faces", epochs=30, batch_size=16,
                    optimizer={"class_name": "Adam", "learning_rate": 1e-4},
                    note="tutorial 002's network; Adam 1e-4 (the original's 1e-5 needs ~10x the epochs)"),
}

DATASETS = ("mnist", "fashion_mnist", "cifar10", "faces")


def get(name):
    try:
        return RECIPES[name]
    except KeyError:
        raise ValueError(f"unknown network {name!r}; choose one of: {', '.join(RECIPES)}") from None


def _images(x):
    x = np.asarray(x, np.float32) / 255.0
    return x[..., None] if x.ndim == 3 else x


def load(dataset, data_dir=None, subset="auto", seed=0):
    """((x_train, y_train), (x_test, y_test), description, class_names), preprocessed."""
    if dataset == "mnist":
        if subset not in SUBSETS:
            raise ValueError(f"subset must be one of {SUBSETS}, got {subset!r}")
        if subset == "auto":
            subset = "full" if mnist.available(data_dir) else "embedded"
        (x, y), (xt, yt) = mnist.load_data(data_dir=data_dir, subset=subset)
        what = "MNIST" + (" (embedded subset; pass --data-dir for the full set)" if subset == "embedded" else "")
        names = mnist.CLASS_NAMES
    elif dataset == "fashion_mnist":
        (x, y), (xt, yt) = fashion_mnist.load_data(data_dir=data_dir)
        what, names = "Fashion-MNIST", fashion_mnist.CLASS_NAMES
    elif dataset == "cifar10":
        (x, y), (xt, yt) = cifar10.load_data(data_dir=data_dir)
        y, yt = y[:, 0], yt[:, 0]
        what, names = "CIFAR-10", cifar10.CLASS_NAMES
    elif dataset == "faces":
        (x, y), (xt, yt), info = faces.load_data(seed=seed, data_dir=data_dir, return_info=True)
        what = (f"gender faces ({info.files} files, {info.dropped} exact duplicates dropped, "
                f"stratified 80/20 split)")
        names = faces.CLASS_NAMES
    else:
        raise ValueError(f"unknown data set {dataset!r}; choose one of: {', '.join(DATASETS)}")
    train = (_images(x), y.astype(np.int64))
    test = (_images(xt), yt.astype(np.int64))
    description = f"{what}: {len(train[0])} training / {len(test[0])} test images"
    return train, test, description, names
