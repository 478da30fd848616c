"""Data sets of the tutorials, loaded like ``keras.datasets``.

``mnist``, ``fashion_mnist`` and ``cifar10`` read the official files;
``faces`` reads the gender face BMPs. Each ``load_data`` looks for its files
under ``data_dir=`` (default: the ``PYCNN_DATA_DIR`` environment variable),
then in the cache ``~/.pycnn/datasets`` (``PYCNN_CACHE_DIR`` overrides it),
and otherwise downloads them into the cache with a progress bar (unless
``PYCNN_OFFLINE=1``). Every file's
SHA-256 is verified; a missing, truncated or corrupt file raises
``DataFileError`` (an ``OSError``) naming the file and where to put a copy.

A real MNIST subset ships with the package:
``mnist.load_data(subset="embedded")`` works offline.
"""

from pycnn.datasets import cifar10, faces, fashion_mnist, mnist
from pycnn.datasets._files import DataFileError

__all__ = ["mnist", "fashion_mnist", "cifar10", "faces", "DataFileError"]
