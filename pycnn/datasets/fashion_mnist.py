"""Fashion-MNIST (Zalando Research), as ``keras.datasets.fashion_mnist``.

``load_data()`` returns ``((x_train, y_train), (x_test, y_test))``: uint8
images (60000, 28, 28) and (10000, 28, 28), uint8 labels 0-9 (see
CLASS_NAMES), read from the four official IDX ``.gz`` files.
"""

from pycnn.datasets import _files, _idx
from pycnn.datasets._files import DataFile

NAME = "fashion_mnist"
CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
)

FILES = {
    "x_train": DataFile("train-images-idx3-ubyte.gz",
                        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880),
    "y_train": DataFile("train-labels-idx1-ubyte.gz",
                        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515),
    "x_test": DataFile("t10k-images-idx3-ubyte.gz",
                       "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102),
    "y_test": DataFile("t10k-labels-idx1-ubyte.gz",
                       "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148),
}


def load_data(data_dir=None):
    """((x_train, y_train), (x_test, y_test)) as uint8 numpy arrays.

    ``data_dir`` (default ``PYCNN_DATA_DIR``) may hold ``fashion_mnist/<file>.gz``
    or the files themselves; otherwise the cache
    (``~/.pycnn/datasets/fashion_mnist``) is used and filled by downloading.
    """
    return _idx.load_data(NAME, FILES, MIRRORS, data_dir)


def available(data_dir=None):
    """True when all four files are on disk (no download needed)."""
    return all(_files.locate(NAME, spec, data_dir) is not None for spec in FILES.values())
