"""Saves survive SIGKILL: the target is always a complete, loadable save.

A child process saves the face network (~22 MB of weights) in a loop,
changing one marker weight before each save, and is killed with SIGKILL at
random moments, several times over in the same folder. After every kill
the target must load (its checksum holds) and hold the base weights with a
marker value that was saved; temporary files of killed writers must not
pile up (the next save removes them).
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import pycnn
from pycnn import models

ROOT = Path(pycnn.__file__).resolve().parents[1]  # the pycnn these tests import, for the subprocess
pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")

CHILD = """
import sys
from pycnn.applications import faces_gender_cnn
from pycnn.utils import set_random_seed
set_random_seed(0)
model = faces_gender_cnn()
marker = model.layers[-1].bias.value
for k in range(1, 1000000):
    marker[0] = k
    model.save({target!r})
    print(k, flush=True)
"""


def temp_files(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_sigkill_during_saves_leaves_a_complete_file(tmp_path):
    from pycnn.applications import faces_gender_cnn
    from pycnn.utils import set_random_seed

    set_random_seed(0)
    base = faces_gender_cnn().get_weights()
    target = tmp_path / "faces.pycnn"
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    rng = np.random.default_rng(2024)
    for _ in range(3):
        child = subprocess.Popen([sys.executable, "-c", CHILD.format(target=str(target))], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=env,
                                 cwd=tmp_path)  # not the checkout: its pycnn/ would shadow ROOT
        try:
            assert child.stdout.readline().strip() == "1", child.stderr.read()
            time.sleep(rng.uniform(0.0, 0.4))
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=60)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        saved = [int(line) for line in child.stdout.read().split()]
        last = max(saved, default=1)
        left = temp_files(tmp_path)
        assert len(left) <= 1, f"temporary files pile up: {left}"
        weights = models.load_model(target, compile=False).get_weights()
        marker = weights[-1][0]
        assert marker in (last, last + 1), f"marker {marker}, last completed save {last}"
        weights[-1][0] = base[-1][0]
        for a, b in zip(weights, base):
            np.testing.assert_array_equal(a, b)
    model = models.load_model(target, compile=False)
    model.save(target)
    assert temp_files(tmp_path) == [], "the next save did not remove a killed writer's temporary file"


def test_concurrent_saves_from_threads_never_mix(tmp_path):
    """Two threads saving different models to one path: the file is always one of them, whole."""
    import threading

    from pycnn import layers

    nets = []
    for k in range(2):
        net = models.Sequential([layers.Input(shape=(64,)), layers.Dense(256), layers.Dense(4)])
        for v in net.weights:
            v.assign(np.full(v.shape, k, np.float32))
        nets.append(net)
    target = tmp_path / "shared.pycnn"
    start = threading.Barrier(2)

    def loop(k):
        start.wait()
        for _ in range(10):
            nets[k].save(target)

    threads = [threading.Thread(target=loop, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    values = {float(w.flat[0]) for w in models.load_model(target).get_weights()}
    assert values in ({0.0}, {1.0})
    assert temp_files(tmp_path) == []


def test_model_checkpoint_keeps_the_previous_file_when_a_save_fails(tmp_path, monkeypatch):
    from pycnn import callbacks, layers

    model = models.Sequential([layers.Input(shape=(4,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = np.ones((8, 4), np.float32), np.arange(8) % 3
    target = tmp_path / "ckpt.pycnn"
    checkpoint = callbacks.ModelCheckpoint(target, monitor="loss")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[checkpoint])
    before = target.read_bytes()

    def disk_full(fd):
        raise OSError("no space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="no space"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[checkpoint])
    assert target.read_bytes() == before
    assert temp_files(tmp_path) == []
