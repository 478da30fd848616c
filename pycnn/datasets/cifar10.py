"""CIFAR-10 (Krizhevsky, Nair, Hinton), as ``keras.datasets.cifar10``.

``load_data()`` returns ``((x_train, y_train), (x_test, y_test))``: uint8
images (50000, 32, 32, 3) and (10000, 32, 32, 3) in NHWC RGB order, uint8
labels of shape (50000, 1) and (10000, 1) (see CLASS_NAMES).

It reads the official *binary version*: ``cifar-10-batches-bin/*.bin``, plain
or gzipped one by one (``*.bin.gz``). Each file is 10000 records of one label
byte and 3072 pixel bytes (the 1024 R, then G, then B values of a 32x32
image, rows in order). The checksums are those of the uncompressed ``.bin``
files, so either form verifies. When files are missing, the official
``cifar-10-binary.tar.gz`` is downloaded and only its six batch files are
extracted into the cache (nothing is unpickled).
"""

import os
import tarfile
import tempfile

import numpy as np

from pycnn.datasets import _files
from pycnn.datasets._files import DataFile

NAME = "cifar10"
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer",
               "dog", "frog", "horse", "ship", "truck")

_RECORD = 1 + 3 * 32 * 32
_PER_FILE = 10000
_FOLDER = "cifar-10-batches-bin/"

ARCHIVE = DataFile("cifar-10-binary.tar.gz",
                   "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd", 170052171)
ARCHIVE_URLS = ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",)

TRAIN_FILES = tuple(
    DataFile(_FOLDER + f"data_batch_{i}.bin", sha, _RECORD * _PER_FILE, payload=True)
    for i, sha in enumerate((
        "cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5",
        "a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed",
        "bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67",
        "014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48",
        "755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add",
    ), start=1))
TEST_FILE = DataFile(_FOLDER + "test_batch.bin",
                     "8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b",
                     _RECORD * _PER_FILE, payload=True)
FILES = TRAIN_FILES + (TEST_FILE,)


def parse_batch(data, name="batch"):
    """Records (bytes) -> (x (N, 32, 32, 3) uint8, y (N, 1) uint8)."""
    if len(data) % _RECORD:
        raise _files.DataFileError(f"[{NAME}] {name}: {len(data)} bytes is not a whole number "
                                   f"of {_RECORD}-byte records")
    records = np.frombuffer(data, np.uint8).reshape(-1, _RECORD)
    labels = records[:, :1].copy()
    if labels.size and labels.max() > 9:
        raise _files.DataFileError(f"[{NAME}] {name}: label {labels.max()} is out of range 0-9")
    images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def load_data(data_dir=None):
    """((x_train, y_train), (x_test, y_test)) as uint8 numpy arrays.

    ``data_dir`` (default ``PYCNN_DATA_DIR``) may hold
    ``cifar10/cifar-10-batches-bin/`` or ``cifar-10-batches-bin/``; otherwise
    the cache (``~/.pycnn/datasets/cifar10``) is used and filled by downloading.
    """
    paths = [_files.locate(NAME, spec, data_dir) for spec in FILES]
    missing = [spec for spec, path in zip(FILES, paths) if path is None]
    if missing:
        _download(missing, data_dir)
        paths = [_files.locate(NAME, spec, data_dir) for spec in FILES]

    parts = [parse_batch(_files.read_verified(NAME, spec, path), spec.name)
             for spec, path in zip(FILES, paths)]
    x_train = np.concatenate([x for x, _ in parts[:-1]])
    y_train = np.concatenate([y for _, y in parts[:-1]])
    return (x_train, y_train), parts[-1]


def available(data_dir=None):
    """True when all six batch files are on disk (no download needed)."""
    return all(_files.locate(NAME, spec, data_dir) is not None for spec in FILES)


def _download(missing, data_dir):
    """Fetch the official archive and extract the missing batches into the cache."""
    cache = _files.cache_dir(NAME)
    archive = cache / ARCHIVE.name
    try:
        _files.download(ARCHIVE_URLS, archive, ARCHIVE.sha256, ARCHIVE.size,
                        f"Downloading {ARCHIVE.name}")
        with tarfile.open(archive, "r:gz") as tar:
            for spec in missing:
                _extract(tar, spec, cache)
    except (OSError, tarfile.TarError, KeyError) as e:
        raise _files.missing_error(NAME, missing[0], data_dir, f"{e}") from None
    finally:
        if archive.exists():
            archive.unlink()


def _extract(tar, spec, cache):
    """Write one member (looked up by its exact name) to the cache, verified, atomically."""
    member = tar.extractfile(spec.name)
    if member is None:
        raise OSError(f"{spec.name} in {ARCHIVE.name} is not a regular file")
    data = member.read()
    dest = cache / spec.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        _files.read_verified(NAME, spec, tmp)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
