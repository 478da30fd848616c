"""Data set loaders: tiny files written here in the real formats (IDX .gz,
CIFAR binary plain and .gz, BMP), every error path, downloads through
file:// URLs, and the real copies when PYCNN_DATA_DIR points at them."""

import gzip
import hashlib
import io
import os
import tarfile

import numpy as np
import pytest

from pycnn.datasets import DataFileError, _bmp, _files, _idx, cifar10, faces, fashion_mnist, mnist
from pycnn.datasets._files import DataFile


REAL_DATA = os.environ.get("PYCNN_DATA_DIR")


@pytest.fixture
def real_data():
    """The real data sets; read before ``isolated`` hides PYCNN_DATA_DIR."""
    if not REAL_DATA or not os.path.isdir(REAL_DATA):
        pytest.skip("PYCNN_DATA_DIR is not set to the data folder")
    return REAL_DATA


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No test sees the user's data folder or cache."""
    monkeypatch.delenv("PYCNN_DATA_DIR", raising=False)
    monkeypatch.delenv("PYCNN_OFFLINE", raising=False)
    monkeypatch.setenv("PYCNN_CACHE_DIR", str(tmp_path / "cache"))


def idx(array):
    array = np.asarray(array, np.uint8)
    return bytes([0, 0, 8, array.ndim]) + np.asarray(array.shape, ">u4").tobytes() + array.tobytes()


def spec_for(name, content, payload=False):
    return DataFile(name, hashlib.sha256(content).hexdigest(), len(content), payload)


def write_tiny_mnist(folder, rng, n_train=5, n_test=3):
    """Official-style .gz files in ``folder``; returns (arrays, specs)."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28)), "y_train": rng.integers(0, 10, n_train),
        "x_test": rng.integers(0, 256, (n_test, 28, 28)), "y_test": rng.integers(0, 10, n_test),
    }
    specs = {}
    for key, spec in mnist.FILES.items():
        data = gzip.compress(idx(arrays[key]))
        (folder / spec.name).write_bytes(data)
        specs[key] = spec_for(spec.name, data)
    return arrays, specs


def check_split(loaded, arrays):
    (x_train, y_train), (x_test, y_test) = loaded
    for got, key in ((x_train, "x_train"), (y_train, "y_train"), (x_test, "x_test"), (y_test, "y_test")):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[key])


# --- IDX ------------------------------------------------------------------

def test_idx_roundtrip_and_header_errors():
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(_idx.parse_idx(idx(a), "f", "t"), a)
    with pytest.raises(DataFileError, match=r"\[t\] f is not a valid IDX file: it does not start"):
        _idx.parse_idx(b"\x01\x00\x08\x01" + bytes(8), "f", "t")
    with pytest.raises(DataFileError, match="value type 0x0d"):
        _idx.parse_idx(b"\x00\x00\x0d\x01\x00\x00\x00\x01" + bytes(4), "f", "t")
    with pytest.raises(DataFileError, match=r"shape \(2, 3, 4\) needs 40 bytes, the file has 39"):
        _idx.parse_idx(idx(a)[:-1], "f", "t")


# --- MNIST / Fashion-MNIST --------------------------------------------------

@pytest.mark.parametrize("nested", [True, False], ids=["data_dir/mnist", "data_dir"])
def test_mnist_reads_data_dir(tmp_path, rng, monkeypatch, nested):
    folder = tmp_path / "data" / "mnist" if nested else tmp_path / "data"
    arrays, specs = write_tiny_mnist(folder, rng)
    monkeypatch.setattr(mnist, "FILES", specs)
    check_split(mnist.load_data(data_dir=tmp_path / "data"), arrays)


def test_fashion_mnist_reads_env_data_dir(tmp_path, rng, monkeypatch):
    arrays, specs = write_tiny_mnist(tmp_path / "data" / "fashion_mnist", rng)
    monkeypatch.setattr(fashion_mnist, "FILES", specs)
    monkeypatch.setenv("PYCNN_DATA_DIR", str(tmp_path / "data"))
    check_split(fashion_mnist.load_data(), arrays)


def test_checksum_mismatch_names_file_and_fix(tmp_path, rng, monkeypatch):
    _, specs = write_tiny_mnist(tmp_path / "mnist", rng)
    path = tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(path.read_bytes())
    data[-9] ^= 0xFF
    path.write_bytes(bytes(data))
    monkeypatch.setattr(mnist, "FILES", specs)
    with pytest.raises(DataFileError) as e:
        mnist.load_data(data_dir=tmp_path)
    msg = str(e.value)
    assert f"{path} is corrupt: SHA-256" in msg and specs["y_test"].sha256 in msg
    assert "put the official t10k-labels-idx1-ubyte.gz" in msg and "PYCNN_DATA_DIR" in msg
    assert "\n" not in msg


def test_truncated_file(tmp_path, rng, monkeypatch):
    _, specs = write_tiny_mnist(tmp_path / "mnist", rng)
    path = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:100])
    monkeypatch.setattr(mnist, "FILES", specs)
    with pytest.raises(DataFileError, match=rf"{path} is truncated: its file has 100 bytes, expected"):
        mnist.load_data(data_dir=tmp_path)


def test_missing_file_without_network(tmp_path, rng, monkeypatch):
    _, specs = write_tiny_mnist(tmp_path / "mnist", rng)
    (tmp_path / "mnist" / "train-labels-idx1-ubyte.gz").unlink()
    monkeypatch.setattr(mnist, "FILES", specs)
    monkeypatch.setattr(mnist, "MIRRORS", ((tmp_path / "offline").as_uri() + "/",))
    with pytest.raises(DataFileError) as e:
        mnist.load_data(data_dir=tmp_path)
    msg = str(e.value)
    assert msg.startswith("[mnist] train-labels-idx1-ubyte.gz not found (looked in ")
    assert "download failed" in msg and "offline/train-labels-idx1-ubyte.gz" in msg
    assert str(tmp_path / "cache" / "mnist") in msg
    assert not (tmp_path / "cache" / "mnist" / "train-labels-idx1-ubyte.gz").exists()


def test_download_into_cache_then_reuse(tmp_path, rng, monkeypatch, capsys):
    arrays, specs = write_tiny_mnist(tmp_path / "mirror", rng)
    monkeypatch.setattr(mnist, "FILES", specs)
    monkeypatch.setattr(mnist, "MIRRORS", ((tmp_path / "gone").as_uri() + "/",
                                           (tmp_path / "mirror").as_uri() + "/"))
    check_split(mnist.load_data(), arrays)
    assert "Downloading train-images-idx3-ubyte.gz [" in capsys.readouterr().err
    cache = tmp_path / "cache" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(s.name for s in specs.values())
    for p in (tmp_path / "mirror").iterdir():
        p.unlink()
    check_split(mnist.load_data(), arrays)


def test_offline_switch(tmp_path, rng, monkeypatch):
    _, specs = write_tiny_mnist(tmp_path / "mirror", rng)
    monkeypatch.setattr(mnist, "FILES", specs)
    monkeypatch.setattr(mnist, "MIRRORS", ((tmp_path / "mirror").as_uri() + "/",))
    monkeypatch.setenv("PYCNN_OFFLINE", "1")
    with pytest.raises(DataFileError, match=r"not found .*downloads are disabled \(PYCNN_OFFLINE is set\)"):
        mnist.load_data()


def test_corrupt_download_never_becomes_cached(tmp_path, rng, monkeypatch):
    _, specs = write_tiny_mnist(tmp_path / "mirror", rng)
    bad = tmp_path / "mirror" / "t10k-images-idx3-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:-5])
    monkeypatch.setattr(mnist, "FILES", specs)
    monkeypatch.setattr(mnist, "MIRRORS", ((tmp_path / "mirror").as_uri() + "/",))
    with pytest.raises(DataFileError, match=r"t10k-images-idx3-ubyte.gz not found .*expected \d+ bytes"):
        mnist.load_data()
    cache = tmp_path / "cache" / "mnist"
    assert not (cache / "t10k-images-idx3-ubyte.gz").exists()
    assert not list(cache.glob("*.part"))


def test_embedded_subset():
    (x_train, y_train), (x_test, y_test) = mnist.load_data(subset="embedded")
    assert x_train.shape == (6000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert y_train.shape == (6000,) and y_test.shape == (1000,)
    assert x_train.dtype == y_train.dtype == np.uint8
    assert y_train[:5].tolist() == [5, 0, 4, 1, 9] and y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert np.bincount(y_train, minlength=10).min() > 500


def test_bad_subset():
    with pytest.raises(ValueError, match=r"\[mnist\] subset must be one of"):
        mnist.load_data(subset="tiny")


# --- CIFAR-10 ---------------------------------------------------------------

def cifar_records(images, labels):
    planes = images.transpose(0, 3, 1, 2).reshape(len(images), 3072)
    return np.concatenate([labels.reshape(-1, 1), planes], axis=1).astype(np.uint8).tobytes()


def tiny_cifar(rng, n=3):
    batches, specs = [], []
    for spec in cifar10.FILES:
        x = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
        y = rng.integers(0, 10, n, dtype=np.uint8)
        data = cifar_records(x, y)
        batches.append((x, y, data))
        specs.append(spec_for(spec.name, data, payload=True))
    return batches, tuple(specs)


def test_cifar_plain_and_gz_records_to_nhwc(tmp_path, rng, monkeypatch):
    batches, specs = tiny_cifar(rng)
    folder = tmp_path / "cifar10" / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    for i, (spec, (_, _, data)) in enumerate(zip(specs, batches)):
        name = folder / spec.name.split("/")[1]
        if i % 2:
            name.with_suffix(".bin.gz").write_bytes(gzip.compress(data))
        else:
            name.write_bytes(data)
    monkeypatch.setattr(cifar10, "FILES", specs)
    (x_train, y_train), (x_test, y_test) = cifar10.load_data(data_dir=tmp_path)
    assert x_train.shape == (15, 32, 32, 3) and y_train.shape == (15, 1) and y_test.shape == (3, 1)
    np.testing.assert_array_equal(x_train, np.concatenate([b[0] for b in batches[:5]]))
    np.testing.assert_array_equal(y_train[:, 0], np.concatenate([b[1] for b in batches[:5]]))
    np.testing.assert_array_equal(x_test, batches[5][0])
    # The first pixel byte after the label is the top-left red value.
    assert x_test[0, 0, 0, 0] == batches[5][2][1] and x_test[0, 0, 1, 0] == batches[5][2][2]


def test_cifar_bad_records(tmp_path):
    with pytest.raises(DataFileError, match="not a whole number of 3073-byte records"):
        cifar10.parse_batch(bytes(3074), "b.bin")
    with pytest.raises(DataFileError, match="label 10 is out of range"):
        cifar10.parse_batch(bytes([10]) + bytes(3072), "b.bin")


def test_cifar_truncated_gz(tmp_path, rng, monkeypatch):
    batches, specs = tiny_cifar(rng)
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    for spec, (_, _, data) in zip(specs, batches):
        (folder / (spec.name.split("/")[1] + ".gz")).write_bytes(gzip.compress(data)[:-20])
    monkeypatch.setattr(cifar10, "FILES", specs)
    with pytest.raises(DataFileError, match=r"data_batch_1.bin.gz is truncated or not a valid gzip"):
        cifar10.load_data(data_dir=tmp_path)


def test_cifar_download_extracts_only_the_batches(tmp_path, rng, monkeypatch):
    batches, specs = tiny_cifar(rng)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for spec, (_, _, data) in zip(specs, batches):
            info = tarfile.TarInfo(spec.name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    archive = tmp_path / "cifar-10-binary.tar.gz"
    archive.write_bytes(buffer.getvalue())
    monkeypatch.setattr(cifar10, "FILES", specs)
    monkeypatch.setattr(cifar10, "ARCHIVE", spec_for(archive.name, archive.read_bytes()))
    monkeypatch.setattr(cifar10, "ARCHIVE_URLS", (archive.as_uri(),))
    (x_train, _), (x_test, _) = cifar10.load_data()
    np.testing.assert_array_equal(x_test, batches[5][0])
    cache = tmp_path / "cache" / "cifar10"
    assert sorted(p.name for p in cache.rglob("*") if p.is_file()) == sorted(
        s.name.split("/")[1] for s in specs)


def test_cifar_missing_without_network(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar10, "ARCHIVE_URLS", ((tmp_path / "none.tar.gz").as_uri(),))
    with pytest.raises(DataFileError, match=r"\[cifar10\] cifar-10-batches-bin/data_batch_1.bin not found"
                                            r".*plain or gzipped"):
        cifar10.load_data(data_dir=tmp_path)


# --- BMP and faces ----------------------------------------------------------

def test_bmp_layout_bottom_up_bgr_padded():
    # A 2-wide, 2-high image: rows of 6 bytes padded to 8, stored bottom row first, B,G,R.
    bottom = bytes([1, 2, 3, 4, 5, 6, 0, 0])
    top = bytes([7, 8, 9, 10, 11, 12, 0, 0])
    header = b"BM" + (70).to_bytes(4, "little") + bytes(4) + (54).to_bytes(4, "little")
    info = np.array([40, 2, 2], "<i4").tobytes() + np.array([1, 24], "<u2").tobytes() + bytes(24)
    image = _bmp.read_bmp(header + info + bottom + top)
    assert image.tolist() == [[[9, 8, 7], [12, 11, 10]], [[3, 2, 1], [6, 5, 4]]]
    top_down = header + info[:8] + (-2).to_bytes(4, "little", signed=True) + info[12:] + bottom + top
    assert _bmp.read_bmp(top_down).tolist() == [[[3, 2, 1], [6, 5, 4]], [[9, 8, 7], [12, 11, 10]]]


def test_bmp_roundtrip_and_errors(rng):
    image = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    data = _bmp.write_bmp(image)
    np.testing.assert_array_equal(_bmp.read_bmp(data), image)
    with pytest.raises(_bmp.BMPError, match="not a BMP file"):
        _bmp.read_bmp(b"PK" + data[2:], "x.bmp")
    with pytest.raises(_bmp.BMPError, match="x.bmp is truncated"):
        _bmp.read_bmp(data[:-1], "x.bmp")
    eight_bit = data[:28] + (8).to_bytes(2, "little") + data[30:]
    with pytest.raises(_bmp.BMPError, match="only uncompressed 24-bit"):
        _bmp.read_bmp(eight_bit, "x.bmp")


def write_tiny_faces(root, rng):
    """6 male and 5 female images, with duplicates inside each class."""
    base = rng.integers(0, 256, (8,) + faces.IMAGE_SHAPE, dtype=np.uint8)
    plan = {"male/face1.bmp": 0, "male/face2.bmp": 1, "male/face3.bmp": 1, "male/face4.bmp": 2,
            "male/face5.bmp": 3, "male/face6.bmp": 1, "female/face201.bmp": 4,
            "female/face202.bmp": 5, "female/face203.bmp": 5, "female/face204.bmp": 6,
            "female/face205.bmp": 7}
    lines = []
    for name, which in plan.items():
        data = _bmp.write_bmp(base[which])
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
        lines.append(f"{hashlib.sha256(data).hexdigest()}  {name}")
    manifest = root.parent / "manifest.sha256"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest, base, plan


def test_faces_dedup_and_split(tmp_path, rng, monkeypatch):
    manifest, base, _ = write_tiny_faces(tmp_path / "data" / "faces_gender", rng)
    monkeypatch.setattr(faces, "MANIFEST", manifest)
    (x_train, y_train), (x_test, y_test), info = faces.load_data(
        test_split=0.25, seed=3, data_dir=tmp_path / "data", return_info=True)
    assert (info.files, info.unique, info.dropped) == (11, 8, 3)
    assert info.duplicate_groups == (("male/face2.bmp", "male/face3.bmp", "male/face6.bmp"),
                                     ("female/face202.bmp", "female/face203.bmp"))
    assert len(x_train) + len(x_test) == 8 and y_test.tolist().count(0) == 1
    both = {x.tobytes() for x in x_train} | {x.tobytes() for x in x_test}
    assert len(both) == 8 and both == {b.tobytes() for b in base}
    for x, y in zip(np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])):
        which = next(i for i, b in enumerate(base) if np.array_equal(b, x))
        assert y == (0 if which < 4 else 1)
    again = faces.load_data(test_split=0.25, seed=3, data_dir=tmp_path / "data")
    np.testing.assert_array_equal(again[1][0], x_test)


def test_faces_errors(tmp_path, rng, monkeypatch):
    manifest, _, _ = write_tiny_faces(tmp_path / "faces_gender", rng)
    monkeypatch.setattr(faces, "MANIFEST", manifest)
    monkeypatch.setattr(faces, "SOURCE_URL", (tmp_path / "nowhere").as_uri() + "/")
    with pytest.raises(ValueError, match=r"test_split must be a number in \[0, 1\)"):
        faces.load_data(test_split=1.0, data_dir=tmp_path)
    (tmp_path / "faces_gender" / "female" / "face204.bmp").unlink()
    with pytest.raises(DataFileError, match=r"\[faces_gender\] female/face204.bmp not found"):
        faces.load_data(data_dir=tmp_path)


# --- the real data sets (PYCNN_DATA_DIR) -------------------------------------

def test_real_mnist_and_fashion(real_data):
    for module in (mnist, fashion_mnist):
        (x_train, y_train), (x_test, y_test) = module.load_data(data_dir=real_data)
        assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
        assert y_train.shape == (60000,) and y_test.shape == (10000,)
        assert x_train.dtype == y_train.dtype == np.uint8
        assert y_train.max() == 9
    (x_small, y_small), _ = mnist.load_data(subset="embedded")
    np.testing.assert_array_equal(x_small, mnist.load_data(data_dir=real_data)[0][0][:6000])


def test_real_cifar10(real_data):
    (x_train, y_train), (x_test, y_test) = cifar10.load_data(data_dir=real_data)
    assert x_train.shape == (50000, 32, 32, 3) and x_test.shape == (10000, 32, 32, 3)
    assert y_train.shape == (50000, 1) and y_test.shape == (10000, 1)
    assert x_train.dtype == y_train.dtype == np.uint8
    assert np.bincount(y_train[:, 0]).tolist() == [5000] * 10
    assert y_train[:5, 0].tolist() == [6, 9, 9, 4, 1]


def test_real_faces(real_data):
    (x_train, y_train), (x_test, y_test), info = faces.load_data(data_dir=real_data, return_info=True)
    assert (info.files, info.unique, info.dropped, len(info.duplicate_groups)) == (399, 354, 45, 28)
    assert x_train.shape[1:] == (112, 92, 3) and x_train.dtype == np.uint8
    assert len(x_train) + len(x_test) == 354
    assert np.bincount(np.concatenate([y_train, y_test])).tolist() == [192, 162]
    train = {x.tobytes() for x in x_train}
    assert len(train) == len(x_train) and not train & {x.tobytes() for x in x_test}
