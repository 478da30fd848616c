"""Bad input raises Keras-style errors; callbacks; interruption; progress output."""

import io
import math

import numpy as np
import pytest

import pycnn
from pycnn import callbacks, layers, models, optimizers


def model_(compile=True, loss="categorical_crossentropy"):
    pycnn.utils.clear_session()
    m = models.Sequential([layers.Conv2D(2, 3, activation="relu", input_shape=(6, 6, 1)), layers.Flatten(),
                           layers.Dense(3, activation="softmax")])
    if compile:
        m.compile(optimizer="sgd", loss=loss, metrics=["accuracy"])
    return m


@pytest.fixture
def xy(rng):
    return rng.standard_normal((10, 6, 6, 1)).astype(np.float32), np.eye(3)[rng.integers(0, 3, 10)]


def test_wrong_input_shape_with_hint(xy):
    x, y = xy
    with pytest.raises(ValueError, match=r"expected shape \(None, 6, 6, 1\), got \(10, 6, 6\).*x\[\.\.\., None\]"):
        model_().fit(x[..., 0], y, verbose=0)


def test_label_errors(xy):
    x, y = xy
    m = model_()
    with pytest.raises(ValueError, match="Target array"):
        m.fit(x, y[:, :2].reshape(10, 1, 2), verbose=0)
    with pytest.raises(ValueError, match="same shape"):
        m.fit(x, np.eye(4)[np.zeros(10, int)][:, :3].argmax(1), verbose=0)
    with pytest.raises(ValueError, match="cardinality"):
        m.fit(x, y[:7], verbose=0)
    sparse = model_(loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"valid range of \[0, 2\]"):
        sparse.fit(x, np.full(10, 5), verbose=0)


def test_compile_and_name_errors(xy):
    x, y = xy
    with pytest.raises(ValueError, match="compile"):
        model_(compile=False).fit(x, y, verbose=0)
    m = model_(compile=False)
    with pytest.raises(ValueError, match="optimizer"):
        m.compile(optimizer="adamax2", loss="mse")
    with pytest.raises(ValueError, match="loss"):
        m.compile(optimizer="sgd", loss="crossentropy_of_doom")
    with pytest.raises(ValueError, match="metric"):
        m.compile(optimizer="sgd", loss="mse", metrics=["acuracy"])
    with pytest.raises(ValueError, match="No such layer"):
        m.get_layer("nope")


def test_nan_input_does_not_crash_and_terminate_on_nan(xy):
    x, y = xy
    x = x.copy()
    x[0, 0, 0, 0] = np.nan
    m = model_()
    hist = m.fit(x, y, batch_size=5, epochs=3, verbose=0, shuffle=False, callbacks=[callbacks.TerminateOnNaN()])
    assert len(hist.history["loss"]) == 1 and math.isnan(hist.history["loss"][0])


def test_early_stopping_restores_best_weights(xy):
    x, y = xy
    m = model_()
    m.compile(optimizer=optimizers.SGD(0.5), loss="categorical_crossentropy")
    seen = []

    class Spy(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append((logs["loss"], m.get_weights()))

    scores = [3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    inject = callbacks.LambdaCallback(on_epoch_end=lambda e, logs: logs.__setitem__("score", scores[e]))
    es = callbacks.EarlyStopping(monitor="score", patience=1, restore_best_weights=True)
    m.fit(x, y, epochs=10, verbose=0, callbacks=[inject, Spy(), es], shuffle=False)
    assert len(seen) == 4 and es.stopped_epoch == 3
    for a, b in zip(m.get_weights(), seen[2][1]):
        np.testing.assert_array_equal(a, b)


def test_checkpoint_scheduler_csv_reduce_lr(tmp_path, xy):
    x, y = xy
    m = model_()
    path = tmp_path / "best.pycnn"
    cbs = [callbacks.ModelCheckpoint(path, monitor="loss", save_best_only=True),
           callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1)),
           callbacks.CSVLogger(tmp_path / "log.csv"),
           callbacks.ReduceLROnPlateau(monitor="loss", patience=0, factor=0.5, min_delta=10.0)]
    hist = m.fit(x, y, epochs=3, verbose=0, callbacks=cbs)
    assert path.exists()
    assert models.load_model(path).count_params() == m.count_params()
    lines = (tmp_path / "log.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,") and len(lines) == 4
    assert m.optimizer.learning_rate == pytest.approx(0.1 / 3 * 0.5)
    assert hist.history["learning_rate"][0] == pytest.approx(0.1)


def test_keyboard_interrupt_leaves_usable_model(xy):
    x, y = xy
    m = model_()

    class Interrupt(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                raise KeyboardInterrupt

    m.fit(x, y, batch_size=2, epochs=2, verbose=0, callbacks=[Interrupt()])
    assert m.optimizer.iterations == 2
    assert np.isfinite(m.predict(x, verbose=0)).all()
    m.fit(x, y, batch_size=5, epochs=1, verbose=0)


def test_progress_output_modes(xy, capsys):
    x, y = xy
    m = model_()
    m.fit(x, y, batch_size=5, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""
    m.fit(x, y, batch_size=5, epochs=2)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Epoch 1/2" and len(out) == 4
    assert out[1].startswith("2/2 ━━━━━━━━━━━━━━━━━━━━ ") and "/step - accuracy: " in out[1] and " - loss: " in out[1]
    m.fit(x, y, batch_size=5, epochs=1, verbose=2)
    assert capsys.readouterr().out.splitlines()[1].startswith("2/2 - ")


def test_tty_progress_bar_redraws():
    from pycnn.utils.progbar import Progbar

    class Tty(io.StringIO):
        def isatty(self):
            return True

    stream = Tty()
    bar = Progbar(4, stream=stream, interval=0)
    for i in range(1, 5):
        bar.update(i, {"loss": 0.5})
    text = stream.getvalue()
    assert text.count("\r") == 4 and text.endswith("\n") and "4/4" in text and "loss: 0.5000" in text
