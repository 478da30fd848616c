"""Save/load round trips (bit-identical), resumed training, and files that must be refused."""

import os

import numpy as np
import pytest

import pycnn
from pycnn import layers, models, optimizers


def make_model():
    pycnn.utils.clear_session()
    inp = layers.Input((6, 6, 2), name="image")
    x = layers.Conv2D(3, 3, padding="same", activation="relu")(inp)
    x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D()(x)
    y = layers.Flatten()(x)
    out = layers.Dense(4, activation="softmax")(layers.Dropout(0.2)(y))
    return models.Model(inp, out)


@pytest.fixture
def data(rng):
    return rng.standard_normal((12, 6, 6, 2)).astype(np.float32), rng.integers(0, 4, 12)


def test_model_round_trip_and_resume(tmp_path, data):
    x, y = data
    model = make_model()
    model.compile(optimizer=optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    path = tmp_path / "m.pycnn"
    model.save(path)
    loaded = models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert loaded.optimizer.iterations == model.optimizer.iterations == 3
    assert [l.name for l in loaded.layers] == [l.name for l in model.layers]
    # Same next step from the same state (dropout off: rate applies to both equally only with same seed).
    for m in (model, loaded):
        m.get_layer("dropout").rate = 0.0
        m.train_on_batch(x[:4], y[:4])
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_sequential_round_trip_and_weights_file(tmp_path, rng):
    pycnn.utils.clear_session()
    model = models.Sequential([layers.Conv2D(2, 3, input_shape=(5, 5, 1)), layers.Flatten(), layers.Dense(3)])
    x = rng.standard_normal((2, 5, 5, 1)).astype(np.float32)
    model.save(tmp_path / "s.pycnn")
    loaded = models.load_model(tmp_path / "s.pycnn")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    model.save_weights(tmp_path / "w.pycnn")
    clone = models.clone_model(model)
    assert not np.array_equal(clone.get_weights()[0], model.get_weights()[0])
    clone.load_weights(tmp_path / "w.pycnn")
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    other = models.Sequential([layers.Conv2D(2, 3, input_shape=(5, 5, 2)), layers.Flatten(), layers.Dense(3)])
    with pytest.raises(ValueError, match="shape"):
        other.load_weights(tmp_path / "w.pycnn")


def test_bad_files_raise_value_error(tmp_path):
    model = make_model()
    path = tmp_path / "m.pycnn"
    model.save(path)
    blob = path.read_bytes()
    cases = {"truncated": blob[: len(blob) // 2], "flipped": bytearray(blob), "foreign": b"PK\x03\x04" + blob[4:],
             "empty": b""}
    cases["flipped"][len(blob) // 2] ^= 0xFF
    for name, content in cases.items():
        bad = tmp_path / f"{name}.pycnn"
        bad.write_bytes(bytes(content))
        with pytest.raises(ValueError, match="pycnn|corrupted"):
            models.load_model(bad)
    model.save_weights(tmp_path / "w.pycnn")
    with pytest.raises(ValueError, match="not a model"):
        models.load_model(tmp_path / "w.pycnn")


def test_save_is_atomic(tmp_path, monkeypatch):
    model = make_model()
    path = tmp_path / "m.pycnn"
    model.save(path)
    before = path.read_bytes()

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError):
        model.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pycnn"]


def test_file_holds_no_pickle(tmp_path):
    model = make_model()
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    model.save(tmp_path / "m.pycnn")
    blob = (tmp_path / "m.pycnn").read_bytes()
    assert blob[:8] == b"PYCNN\x00MF" and b"\x80\x04\x95" not in blob
