"""Uncompressed 24-bit Windows BMP files, read without an imaging library.

Layout: a 14-byte file header ("BM", file size, reserved, pixel offset), an
info header of at least 40 bytes (width, signed height -- positive means
rows are stored bottom-up --, planes = 1, 24 bits per pixel, compression 0),
then rows of B, G, R bytes, each row padded to a multiple of 4 bytes.
"""

import struct

import numpy as np


class BMPError(ValueError):
    """The bytes are not an uncompressed 24-bit BMP image."""


def read_bmp(data, name="image"):
    """The image in ``data`` (bytes) as a (height, width, 3) uint8 RGB array."""
    if len(data) < 54 or data[:2] != b"BM":
        raise BMPError(f"{name} is not a BMP file (no 'BM' signature or shorter than 54 bytes)")
    (offset,) = struct.unpack_from("<I", data, 10)
    info_size, width, height, planes, bits, compression = struct.unpack_from("<IiiHHI", data, 14)
    if info_size < 40:
        raise BMPError(f"{name}: info header of {info_size} bytes is not supported (need >= 40)")
    if planes != 1 or bits != 24 or compression != 0:
        raise BMPError(f"{name}: {bits}-bit, compression {compression}, {planes} planes; "
                       f"only uncompressed 24-bit images are supported")
    if width <= 0 or height == 0:
        raise BMPError(f"{name}: invalid size {width}x{height}")
    rows = abs(height)
    stride = (width * 3 + 3) // 4 * 4
    if offset < 14 + info_size or offset + stride * rows > len(data):
        raise BMPError(f"{name} is truncated: {rows} rows of {stride} bytes from offset {offset} "
                       f"need {offset + stride * rows} bytes, the file has {len(data)}")
    pixels = np.frombuffer(data, np.uint8, stride * rows, offset).reshape(rows, stride)
    image = pixels[:, :width * 3].reshape(rows, width, 3)
    if height > 0:
        image = image[::-1]
    return np.ascontiguousarray(image[..., ::-1])


def write_bmp(image):
    """``image`` ((height, width, 3) uint8 RGB) as the bytes of a bottom-up 24-bit BMP."""
    image = np.asarray(image, np.uint8)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"write_bmp expects a (height, width, 3) image, got shape {image.shape}")
    rows, width = image.shape[:2]
    stride = (width * 3 + 3) // 4 * 4
    body = np.zeros((rows, stride), np.uint8)
    body[:, :width * 3] = image[::-1, :, ::-1].reshape(rows, width * 3)
    header = struct.pack("<2sIHHI", b"BM", 54 + body.size, 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, rows, 1, 24, 0, body.size, 2835, 2835, 0, 0)
    return header + info + body.tobytes()
