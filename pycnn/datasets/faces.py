"""Gender face images (chenlinzhong/gender-recognition): 112x92 greyscale
faces stored as 24-bit colour BMPs in ``faces_gender/male/`` (199 files) and
``faces_gender/female/`` (200 files).

``load_data(test_split=0.2, seed=0)`` returns ``((x_train, y_train),
(x_test, y_test))``: uint8 RGB images of shape (N, 112, 92, 3) and uint8
labels of shape (N,), **0 = male, 1 = female** (CLASS_NAMES).

The original folders hold 45 exact copies of other images (28 groups). The
loader keeps the first image of each group of pixel-identical images (by
file number) before splitting, so no image is in both train and test; it
logs how many it dropped (logger ``pycnn.datasets``) and, with
``return_info=True``, also returns a FacesInfo with the counts and groups.
The split is stratified: each class gives ``round(test_split * n)`` of its
unique images to the test set, chosen by ``seed``.

Every file is checked against its SHA-256 (``data/faces_gender.sha256``);
missing files are downloaded from the original repository.
"""

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pycnn.datasets import _bmp, _files
from pycnn.datasets._files import DataFile

NAME = "faces_gender"
CLASS_NAMES = ("male", "female")
IMAGE_SHAPE = (112, 92, 3)
FILE_SIZE = 30966
SOURCE_URL = "https://raw.githubusercontent.com/chenlinzhong/gender-recognition/master/data/"
MANIFEST = Path(__file__).parent / "data" / "faces_gender.sha256"

_log = logging.getLogger("pycnn.datasets")


@dataclass(frozen=True)
class FacesInfo:
    """What the loader found: file counts and the duplicate groups it merged."""

    files: int
    unique: int
    dropped: int
    duplicate_groups: tuple  # tuples of file names; the first of each was kept


def manifest():
    """DataFile specs of the 399 images, males then females, by file number."""
    specs = []
    for line in MANIFEST.read_text().splitlines():
        sha, name = line.split()
        specs.append(DataFile(name, sha, FILE_SIZE))
    return tuple(specs)


def label_of(name):
    return CLASS_NAMES.index(name.split("/")[0])


def load_images(data_dir=None):
    """(images (399, 112, 92, 3) uint8, labels (399,) uint8, names), manifest order."""
    specs = manifest()
    _download_missing(specs, data_dir)
    images = np.empty((len(specs),) + IMAGE_SHAPE, np.uint8)
    for i, spec in enumerate(specs):
        path = _files.locate(NAME, spec, data_dir)
        data = _files.read_verified(NAME, spec, path)
        try:
            image = _bmp.read_bmp(data, str(path))
        except _bmp.BMPError as e:
            raise _files.DataFileError(f"[{NAME}] {e}") from None
        if image.shape != IMAGE_SHAPE:
            raise _files.DataFileError(f"[{NAME}] {path} has shape {image.shape}, "
                                       f"expected {IMAGE_SHAPE}")
        images[i] = image
    labels = np.array([label_of(s.name) for s in specs], np.uint8)
    return images, labels, tuple(s.name for s in specs)


def deduplicate(images):
    """(indices of the first image of each content group, groups of >1 index)."""
    first, groups = {}, {}
    for i, image in enumerate(images):
        key = hashlib.sha256(image.tobytes()).digest()
        first.setdefault(key, i)
        groups.setdefault(key, []).append(i)
    keep = np.array(sorted(first.values()), np.int64)
    duplicates = tuple(tuple(g) for g in groups.values() if len(g) > 1)
    return keep, duplicates


def stratified_split(labels, test_split, seed):
    """(train indices, test indices), both shuffled, into ``labels``."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        n_test = int(round(test_split * len(members)))
        test.append(members[:n_test])
        train.append(members[n_test:])
    train = rng.permutation(np.concatenate(train)) if train else np.empty(0, np.int64)
    test = rng.permutation(np.concatenate(test)) if test else np.empty(0, np.int64)
    return train, test


def load_data(test_split=0.2, seed=0, data_dir=None, return_info=False):
    """((x_train, y_train), (x_test, y_test)) of unique faces, split by class.

    Args:
        test_split: fraction of each class's unique images held out, in [0, 1).
        seed: seed of the split (same seed, same split).
        data_dir: folder holding ``faces_gender/{male,female}/*.bmp`` or
            ``{male,female}/*.bmp``; defaults to ``PYCNN_DATA_DIR``.
        return_info: also return a FacesInfo (duplicates dropped, groups).
    """
    if isinstance(test_split, bool) or not isinstance(test_split, (int, float)) \
            or not 0 <= test_split < 1:
        raise ValueError(f"[{NAME}] test_split must be a number in [0, 1), got {test_split!r}")
    images, labels, names = load_images(data_dir)
    keep, groups = deduplicate(images)
    info = FacesInfo(files=len(names), unique=len(keep), dropped=len(names) - len(keep),
                     duplicate_groups=tuple(tuple(names[i] for i in g) for g in groups))
    _log.info("%s: %d files, %d exact duplicates dropped, %d unique images",
              NAME, info.files, info.dropped, info.unique)
    train, test = stratified_split(labels[keep], test_split, seed)
    train, test = keep[train], keep[test]
    result = (images[train], labels[train]), (images[test], labels[test])
    return result + (info,) if return_info else result


def _download_missing(specs, data_dir):
    missing = [s for s in specs if _files.locate(NAME, s, data_dir) is None]
    if not missing:
        return
    bar = _files.Progress(f"Downloading {NAME}", len(missing), unit="files")
    try:
        for spec in missing:
            try:
                _files.download((SOURCE_URL + spec.name,), _files.cache_dir(NAME) / spec.name,
                                spec.sha256, spec.size, label=None)
            except OSError as e:
                raise _files.missing_error(NAME, spec, data_dir, str(e)) from None
            bar.update(1)
    finally:
        bar.close()
