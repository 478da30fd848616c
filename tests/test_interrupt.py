"""Ctrl-C during ``fit``: the running batch finishes, fit returns, the model is whole.

"Whole" is checked exactly: the interrupted model's weights and optimizer
state equal, bit for bit, those of a model trained without interruption for
the same number of steps, and the model predicts, saves, loads and trains on.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import pycnn
from pycnn import callbacks, layers, models
from pycnn.utils import set_random_seed

ROOT = Path(pycnn.__file__).resolve().parents[1]  # the pycnn these tests import, for the subprocess
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGINT") or sys.platform == "win32",
                                reason="needs POSIX signals")


@pytest.fixture(autouse=True)
def one_thread():
    before = pycnn.get_num_threads()
    pycnn.set_num_threads(1)
    yield
    pycnn.set_num_threads(before)


@pytest.fixture
def python_sigint():
    """Python's own Ctrl-C handler, as in a terminal (a shell running pytest in the background ignores SIGINT)."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals are delivered to the main thread")
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def small_net(seed=0):
    set_random_seed(seed)
    model = models.Sequential([
        layers.Input(shape=(12, 12, 1)),
        layers.Conv2D(4, 3, activation="relu"), layers.BatchNormalization(), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dropout(0.3), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def data():
    rng = np.random.default_rng(7)
    return rng.random((64, 12, 12, 1), dtype=np.float32), rng.integers(0, 10, 64)


class StopAfter(callbacks.Callback):
    """Counts finished batches; stops fit after ``limit`` of them (None: never)."""

    def __init__(self, limit=None):
        super().__init__()
        self.limit, self.done = limit, 0

    def on_train_batch_end(self, batch, logs=None):
        self.done += 1
        if self.limit is not None and self.done >= self.limit:
            self.model.stop_training = True


def reference(steps):
    """The same network trained without interruption for ``steps`` batches."""
    model = small_net()
    x, y = data()
    model.fit(x, y, batch_size=16, epochs=steps, shuffle=False, verbose=0, callbacks=[StopAfter(steps)])
    assert model.optimizer.iterations == steps
    return model


def assert_same_state(model, ref):
    for a, b in zip(model.weights, ref.weights):
        np.testing.assert_array_equal(a.value, b.value, err_msg=a.path)
    assert model.optimizer.iterations == ref.optimizer.iterations
    slots, ref_slots = model.optimizer.slot_arrays(), ref.optimizer.slot_arrays()
    assert slots.keys() == ref_slots.keys()
    for name in slots:
        for a, b in zip(slots[name], ref_slots[name]):
            np.testing.assert_array_equal(a, b, err_msg=name)


def assert_usable(model, tmp_path):
    x, y = data()
    assert all(np.isfinite(v.value).all() for v in model.weights)
    pred = model.predict(x, verbose=0)
    assert np.isfinite(pred).all()
    model.save(tmp_path / "after.pycnn")
    np.testing.assert_array_equal(models.load_model(tmp_path / "after.pycnn").predict(x, verbose=0), pred)
    before = model.optimizer.iterations
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert model.optimizer.iterations == before + 4


def test_sigint_inside_optimizer_step_finishes_the_step(tmp_path, capsys, python_sigint):
    """The signal lands between the step counter and the slot update: the step still completes."""
    model = small_net()
    x, y = data()
    update = model.optimizer._update
    calls = [0]

    def interrupted_update(params, grads, lr):
        calls[0] += 1
        if calls[0] == 3:
            os.kill(os.getpid(), signal.SIGINT)  # its handler runs at the next bytecode, inside this step
        update(params, grads, lr)

    model.optimizer._update = interrupted_update
    counter = StopAfter()
    model.fit(x, y, batch_size=16, epochs=50, shuffle=False, verbose=0, callbacks=[counter])
    del model.optimizer._update
    assert "Training interrupted" in capsys.readouterr().out
    assert counter.done == model.optimizer.iterations == 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler, "fit did not restore the handler"
    assert_same_state(model, reference(3))
    assert_usable(model, tmp_path)


def test_keyboard_interrupt_from_a_callback_stops_fit(tmp_path):
    model = small_net()
    x, y = data()

    class Interrupt(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                raise KeyboardInterrupt

    model.fit(x, y, batch_size=16, epochs=5, shuffle=False, verbose=0, callbacks=[Interrupt()])
    assert_same_state(model, reference(2))
    assert_usable(model, tmp_path)


CHILD = """
import json, signal, sys
import numpy as np
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, even if started from a background job
sys.path.insert(0, {tests!r})
import pycnn
from test_interrupt import StopAfter, data, small_net
pycnn.set_num_threads(1)
model = small_net()
x, y = data()

class Marker(StopAfter):
    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch, logs)
        if self.done == 3:
            open({marker!r}, "w").close()

counter = Marker()
model.fit(x, y, batch_size=16, epochs=100000, shuffle=False, verbose=0, callbacks=[counter])
model.save({saved!r})
print(json.dumps({{"batches": counter.done, "iterations": model.optimizer.iterations}}))
"""


@pytest.mark.parametrize("delay", [0.0, 0.013, 0.05])
def test_sigint_from_outside_during_fit(tmp_path, delay):
    """A real Ctrl-C (SIGINT from another process) at some moment of a running fit."""
    marker, saved = tmp_path / "started", tmp_path / "interrupted.pycnn"
    code = CHILD.format(tests=str(Path(__file__).parent), marker=str(marker), saved=str(saved))
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env, cwd=tmp_path)  # not the checkout: its pycnn/ would shadow ROOT
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, child.communicate()[1]
            assert time.monotonic() < deadline, "the child never started training"
            time.sleep(0.005)
        time.sleep(delay)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    assert "Training interrupted" in out
    result = json.loads(out.strip().splitlines()[-1])
    assert result["batches"] == result["iterations"] >= 3
    model = models.load_model(saved)
    assert_same_state(model, reference(result["iterations"]))
    assert_usable(model, tmp_path)
