"""Files written by earlier formats still load and predict the same.

``tests/fixtures`` holds files saved by each released format version with the
predictions they gave when saved; they are never regenerated (see the README
there). A file claiming a newer format than this pycnn reads is refused with
a clear error.
"""

import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

from pycnn import models
from pycnn.models import saving

FIXTURES = Path(__file__).parent / "fixtures"


def test_format1_fixture_loads_and_predicts():
    path = FIXTURES / "format1_small.pycnn"
    assert struct.unpack_from("<I", path.read_bytes(), 8)[0] == 1, "the fixture must stay a version-1 file"
    model = models.load_model(path)
    x = np.load(FIXTURES / "format1_small_input.npy", allow_pickle=False)
    expected = np.load(FIXTURES / "format1_small_expected.npy", allow_pickle=False)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    assert [type(layer).__name__ for layer in model.layers] == [
        "Conv2D", "BatchNormalization", "MaxPooling2D", "Flatten", "Dropout", "Dense"]
    assert model.count_params() == 203
    opt = model.optimizer
    assert type(opt).__name__ == "Adam" and opt.iterations == 2
    assert all(np.abs(a).sum() > 0 for arrays in opt.slot_arrays().values() for a in arrays)
    bn = model.layers[1]
    assert not np.array_equal(bn.moving_mean.value, np.zeros(4, np.float32))
    model.fit(x, np.arange(4) % 3, batch_size=4, epochs=1, verbose=0)
    assert opt.iterations == 3


def test_fixture_round_trips_through_the_current_writer(tmp_path):
    model = models.load_model(FIXTURES / "format1_small.pycnn")
    model.save(tmp_path / "again.pycnn")
    again = models.load_model(tmp_path / "again.pycnn")
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)


def with_version(blob, version):
    """The file with another format version and a checksum that matches again."""
    body = bytearray(blob[:-32])
    struct.pack_into("<I", body, 8, version)
    return bytes(body) + hashlib.sha256(body).digest()


def test_newer_format_is_refused_clearly(tmp_path):
    blob = (FIXTURES / "format1_small.pycnn").read_bytes()
    newer = tmp_path / "newer.pycnn"
    newer.write_bytes(with_version(blob, saving.VERSION + 1))
    with pytest.raises(ValueError, match=r"written by a newer pycnn .*format %d" % (saving.VERSION + 1)):
        models.load_model(newer)
    with pytest.raises(ValueError, match="written by a newer pycnn"):
        models.Sequential().load_weights(newer)
    same = tmp_path / "same.pycnn"
    same.write_bytes(with_version(blob, saving.VERSION))
    assert models.load_model(same).count_params() == 203
