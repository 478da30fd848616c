"""The IDX format of MNIST and Fashion-MNIST, and their shared loader.

An IDX file is a big-endian header -- two zero bytes, a type code (0x08 for
unsigned bytes), the number of dimensions, one uint32 per dimension -- then
the values in row-major order.
"""

import numpy as np

from pycnn.datasets import _files

_UBYTE = 0x08


def parse_idx(data, name, dataset):
    """An IDX file's content (bytes) as a uint8 array, header validated."""

    def bad(why):
        return _files.DataFileError(f"[{dataset}] {name} is not a valid IDX file: {why}")

    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise bad("it does not start with the IDX magic number")
    if data[2] != _UBYTE:
        raise bad(f"value type 0x{data[2]:02x}, expected 0x08 (unsigned byte)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise bad(f"header of {ndim} dimensions does not fit in {len(data)} bytes")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, 4))
    count = int(np.prod(shape, dtype=np.int64))
    if len(data) != header + count:
        raise bad(f"shape {shape} needs {header + count} bytes, the file has {len(data)}")
    return np.frombuffer(data, np.uint8, count, header).reshape(shape).copy()


def load_split(dataset, images, labels, read):
    """(x, y) from an images and a labels IDX file, checked to agree.

    ``read(spec)`` returns a file's verified content.
    """
    x = parse_idx(read(images), images.name, dataset)
    y = parse_idx(read(labels), labels.name, dataset)
    if x.ndim != 3 or y.ndim != 1 or x.shape[0] != y.shape[0]:
        raise _files.DataFileError(
            f"[{dataset}] {images.name} {x.shape} and {labels.name} {y.shape} do not pair up "
            f"as (N, rows, cols) images and (N,) labels")
    return x, y


def load_data(dataset, files, mirrors, data_dir=None):
    """((x_train, y_train), (x_test, y_test)) of an IDX data set.

    ``files`` maps x_train, y_train, x_test, y_test to DataFile specs;
    missing files are downloaded from the first working mirror.
    """

    def read(spec):
        return _files.fetch(dataset, spec, data_dir, tuple(m + spec.name for m in mirrors))

    train = load_split(dataset, files["x_train"], files["y_train"], read)
    test = load_split(dataset, files["x_test"], files["y_test"], read)
    return train, test
