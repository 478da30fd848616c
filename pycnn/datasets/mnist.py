"""MNIST handwritten digits (LeCun, Cortes, Burges), as ``keras.datasets.mnist``.

``load_data()`` returns ``((x_train, y_train), (x_test, y_test))``: uint8
images of shape (60000, 28, 28) and (10000, 28, 28), uint8 labels 0-9 of
shape (60000,) and (10000,). It reads the four official IDX ``.gz`` files
(see ``pycnn.datasets`` for where they are looked for and downloaded from).

``load_data(subset="embedded")`` needs no files and no network: it returns
the first 6000 training and the first 1000 test images of the official
files, which ship inside the package (made by tools/make_embedded_mnist.py).
"""

from pathlib import Path

from pycnn.datasets import _files, _idx
from pycnn.datasets._files import DataFile

NAME = "mnist"
CLASS_NAMES = tuple(str(d) for d in range(10))

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

FILES = {
    "x_train": DataFile("train-images-idx3-ubyte.gz",
                        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
    "y_train": DataFile("train-labels-idx1-ubyte.gz",
                        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
    "x_test": DataFile("t10k-images-idx3-ubyte.gz",
                       "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
    "y_test": DataFile("t10k-labels-idx1-ubyte.gz",
                       "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
}

# The embedded subset: first EMBEDDED_TRAIN / EMBEDDED_TEST images of the
# official files, gzip level 9 with no name and mtime 0. The checksums are
# those of the uncompressed IDX content, so a different zlib that compresses
# differently still reproduces a valid subset.
EMBEDDED_DIR = Path(__file__).parent / "data" / "mnist"
EMBEDDED_TRAIN = 6000
EMBEDDED_TEST = 1000
EMBEDDED_FILES = {
    "x_train": DataFile("train-images-idx3-ubyte",
                        "2782ff6f3467f3487a520503c34fe99b761aa97623af029969e59716ac3585c3", 16 + EMBEDDED_TRAIN * 784, payload=True),
    "y_train": DataFile("train-labels-idx1-ubyte",
                        "0d830540a6191e75a9f5cd63cd5b4bde38960b893784bbf456d560179296d7cd", 8 + EMBEDDED_TRAIN, payload=True),
    "x_test": DataFile("t10k-images-idx3-ubyte",
                       "de7c252b04f05e1f8309634180ccdf286dc6dbac8c579b74e76e02ae0331ca52", 16 + EMBEDDED_TEST * 784, payload=True),
    "y_test": DataFile("t10k-labels-idx1-ubyte",
                       "832c0d20f0dc42e575488c75a83a970787d4c8d4d05831b2ef03701b4a478a90", 8 + EMBEDDED_TEST, payload=True),
}

SUBSETS = ("full", "embedded")


def load_data(data_dir=None, subset="full"):
    """((x_train, y_train), (x_test, y_test)) as uint8 numpy arrays.

    Args:
        data_dir: folder holding ``mnist/<file>.gz`` or the files themselves;
            defaults to ``PYCNN_DATA_DIR``. Missing files are taken from the
            cache (``~/.pycnn/datasets/mnist``) or downloaded into it.
        subset: "full" (the official 60000 + 10000 images) or "embedded"
            (6000 + 1000 images shipped with pycnn; works offline).
    """
    if subset == "embedded":
        return load_embedded()
    if subset != "full":
        raise ValueError(f"[{NAME}] subset must be one of {SUBSETS}, got {subset!r}")
    return _idx.load_data(NAME, FILES, MIRRORS, data_dir)


def load_embedded():
    def read(spec):
        return _files.read_verified(NAME, spec, EMBEDDED_DIR / (spec.name + ".gz"))

    train = _idx.load_split(NAME, EMBEDDED_FILES["x_train"], EMBEDDED_FILES["y_train"], read)
    test = _idx.load_split(NAME, EMBEDDED_FILES["x_test"], EMBEDDED_FILES["y_test"], read)
    return train, test


def available(data_dir=None):
    """True when all four full-set files are on disk (no download needed)."""
    return all(_files.locate(NAME, spec, data_dir) is not None for spec in FILES.values())
