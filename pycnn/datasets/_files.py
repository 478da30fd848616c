"""Finding, downloading and verifying data set files.

A file is looked for, in order, under ``data_dir=`` (or ``PYCNN_DATA_DIR``
when no ``data_dir`` is given), then in the cache (``PYCNN_CACHE_DIR``,
default ``~/.pycnn/datasets``); only then is it downloaded into the cache.
Every file is checked against its SHA-256 before use, whichever place it
came from. Downloads go to a temporary file beside the target and are
renamed into place only after the checksum matched, so an interrupted or
corrupt download never becomes a cached file.

Setting ``PYCNN_OFFLINE=1`` turns downloads off (a missing file is then an
immediate error). Every failure raises ``DataFileError`` with one message that names the file
and says where to put a good copy.
"""

import gzip
import hashlib
import http.client
import os
import sys
import tempfile
import time
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

_CHUNK = 1 << 20
_TIMEOUT_S = 30


class DataFileError(OSError):
    """A data set file is missing, truncated, corrupt or could not be downloaded."""


@dataclass(frozen=True)
class DataFile:
    """One file of a data set.

    ``name`` is its path inside the data set's folder; ``sha256`` and
    ``size`` describe the bytes as stored (``payload=False``) or, for files
    that may be kept gzipped or plain (``payload=True``), the uncompressed
    content: then ``name + ".gz"`` is accepted as well.
    """

    name: str
    sha256: str
    size: int
    payload: bool = False

    def candidates(self):
        return (self.name, self.name + ".gz") if self.payload else (self.name,)


def cache_dir(dataset):
    root = os.environ.get("PYCNN_CACHE_DIR") or Path.home() / ".pycnn" / "datasets"
    return Path(root) / dataset


def search_dirs(dataset, data_dir=None):
    """Folders a data set's files are looked for in, in order."""
    root = data_dir if data_dir is not None else os.environ.get("PYCNN_DATA_DIR")
    dirs = []
    if root:
        root = Path(root).expanduser()
        dirs += [root / dataset, root]
    dirs.append(cache_dir(dataset))
    return dirs


def locate(dataset, spec, data_dir=None):
    """The first existing copy of ``spec`` (a Path), or None."""
    for folder in search_dirs(dataset, data_dir):
        for name in spec.candidates():
            path = folder / name
            if path.is_file():
                return path
    return None


def where_to_put(dataset, spec):
    kind = " (plain or gzipped)" if spec.payload else ""
    return (f"put the official {Path(spec.name).name}{kind} (SHA-256 {spec.sha256}) in "
            f"{cache_dir(dataset) / Path(spec.name).parent}, or point PYCNN_DATA_DIR "
            f"(or data_dir=) at a folder holding {dataset}/{spec.name}")


def missing_error(dataset, spec, data_dir, reason):
    looked = ", ".join(str(d) for d in search_dirs(dataset, data_dir))
    return DataFileError(f"[{dataset}] {spec.name} not found (looked in {looked}); "
                         f"{reason}. To fix it, {where_to_put(dataset, spec)}")


def read_verified(dataset, spec, path):
    """The verified, uncompressed content of ``path``.

    The checksum covers the file's bytes, or for payload specs its
    uncompressed content; ``.gz`` files are decompressed either way.
    """
    path = Path(path)
    advice = where_to_put(dataset, spec)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataFileError(f"[{dataset}] cannot read {path}: {e.strerror or e}") from None
    if spec.payload:
        data = _gunzip(dataset, path, raw, advice)
        _check(dataset, path, data, spec, "uncompressed content", advice)
        return data
    _check(dataset, path, raw, spec, "file", advice)
    return _gunzip(dataset, path, raw, advice)


def _gunzip(dataset, path, raw, advice):
    if path.suffix != ".gz":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise DataFileError(f"[{dataset}] {path} is truncated or not a valid gzip file ({e}); "
                            f"replace it: {advice}") from None


def _check(dataset, path, data, spec, what, advice):
    if len(data) != spec.size:
        state = "truncated" if len(data) < spec.size else "too long"
        raise DataFileError(f"[{dataset}] {path} is {state}: its {what} has {len(data)} bytes, "
                            f"expected {spec.size}; replace it: {advice}")
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec.sha256:
        raise DataFileError(f"[{dataset}] {path} is corrupt: SHA-256 {digest} differs from the "
                            f"official {spec.sha256}; replace it: {advice}")


class Progress:
    """A one-line progress bar on stderr, redrawn at most 10 times a second.

    Counts bytes (shown in MB) or, with ``unit``, items such as files.
    """

    def __init__(self, label, total, unit=None):
        self.label, self.total, self.unit = label, total, unit
        self.done, self._last = 0, 0.0

    def update(self, n):
        self.done += n
        now = time.monotonic()
        if now - self._last >= 0.1 or self.done == self.total:
            self._last = now
            self._draw()

    def _draw(self):
        if self.unit:
            amount = f"{self.done}/{self.total} {self.unit}"
        else:
            amount = f"{self.done / 1e6:.1f}/{self.total / 1e6:.1f} MB"
        frac = min(self.done / self.total, 1.0) if self.total else 1.0
        line = f"{self.label} [{'=' * int(30 * frac):<30}] {frac:4.0%} {amount}"
        sys.stderr.write("\r" + line)
        sys.stderr.flush()

    def close(self):
        sys.stderr.write("\n")
        sys.stderr.flush()


def download(urls, dest, sha256, size, label):
    """Download the first of ``urls`` that works into ``dest`` (atomically).

    ``label`` titles the progress bar (None: no bar).
    The bytes must have ``size`` and ``sha256``; a URL whose bytes do not is
    treated as failed. Raises OSError carrying every URL's failure.
    """
    if os.environ.get("PYCNN_OFFLINE", "") not in ("", "0"):
        raise OSError("downloads are disabled (PYCNN_OFFLINE is set)")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                digest = _stream(url, out, Progress(label, size) if label else None)
            got = os.path.getsize(tmp)
            if got != size or digest != sha256:
                raise OSError(f"got {got} bytes with SHA-256 {digest}, expected {size} bytes "
                              f"with SHA-256 {sha256}")
            os.replace(tmp, dest)
            return dest
        except (OSError, ValueError, http.client.HTTPException) as e:
            failures.append(f"{url}: {getattr(e, 'reason', None) or e}")
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    raise OSError("download failed (" + "; ".join(failures) + ")")


def _stream(url, out, bar):
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response:
        try:
            while True:
                chunk = response.read(_CHUNK)
                if not chunk:
                    break
                digest.update(chunk)
                out.write(chunk)
                if bar:
                    bar.update(len(chunk))
        finally:
            if bar:
                bar.close()
    return digest.hexdigest()


def fetch(dataset, spec, data_dir=None, urls=()):
    """The verified content of one data set file, downloading it if needed."""
    path = locate(dataset, spec, data_dir)
    if path is None:
        if not urls:
            raise missing_error(dataset, spec, data_dir, "it cannot be downloaded automatically")
        dest = cache_dir(dataset) / spec.name
        try:
            path = download(urls, dest, spec.sha256, spec.size, f"Downloading {spec.name}")
        except OSError as e:
            raise missing_error(dataset, spec, data_dir, str(e)) from None
    return read_verified(dataset, spec, path)
