#!/usr/bin/env python3
"""Regenerate the MNIST subset that ships inside pycnn.

Takes the first EMBEDDED_TRAIN training and EMBEDDED_TEST test images (and
their labels) of the official IDX files, in their original order, and writes
them as IDX files gzipped at level 9 with no stored name and mtime 0 into
pycnn/datasets/data/mnist/. The official files are verified first.

    python tools/make_embedded_mnist.py FOLDER_WITH_OFFICIAL_MNIST_GZ

Prints the SHA-256 of each subset file's uncompressed content (what
pycnn.datasets.mnist.EMBEDDED_FILES checks) and of each .gz as written.
"""

import argparse
import gzip
import hashlib
import io
import sys
from pathlib import Path

import numpy as np

from pycnn.datasets import _files, _idx, mnist


def idx_bytes(array):
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    return header + np.ascontiguousarray(array, np.uint8).tobytes()


def write_gz(path, content):
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=buffer, mtime=0) as gz:
        gz.write(content)
    path.write_bytes(buffer.getvalue())
    return hashlib.sha256(buffer.getvalue()).hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="folder holding the four official MNIST .gz files")
    args = parser.parse_args()
    try:
        def read(spec):
            return _files.read_verified(mnist.NAME, spec, Path(args.source) / spec.name)

        x_train, y_train = _idx.load_split(mnist.NAME, mnist.FILES["x_train"], mnist.FILES["y_train"], read)
        x_test, y_test = _idx.load_split(mnist.NAME, mnist.FILES["x_test"], mnist.FILES["y_test"], read)
    except _files.DataFileError as e:
        sys.exit(f"error: {e}")
    subset = {
        "x_train": x_train[:mnist.EMBEDDED_TRAIN], "y_train": y_train[:mnist.EMBEDDED_TRAIN],
        "x_test": x_test[:mnist.EMBEDDED_TEST], "y_test": y_test[:mnist.EMBEDDED_TEST],
    }
    out = mnist.EMBEDDED_DIR
    out.mkdir(parents=True, exist_ok=True)
    for key, spec in mnist.EMBEDDED_FILES.items():
        content = idx_bytes(subset[key])
        gz_sha = write_gz(out / (spec.name + ".gz"), content)
        print(f"{key}: {spec.name}.gz content sha256 {hashlib.sha256(content).hexdigest()} "
              f"({len(content)} bytes), gz sha256 {gz_sha}")
    for key in ("y_train", "y_test"):
        print(f"{key} class counts: {np.bincount(subset[key], minlength=10).tolist()}")


if __name__ == "__main__":
    main()
