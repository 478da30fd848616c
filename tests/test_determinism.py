"""Determinism of whole training steps: the seed networks give bitwise
identical weights at 1 and 2 threads, and ``set_random_seed`` makes a short
fit (dropout, shuffling, initialisation) repeat exactly in a fresh process
while another seed changes it. The per-op thread checks live in each
family's tests; these cover the model layer that strings the ops together."""

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import pycnn
from pycnn import applications
from pycnn.applications import recipes

# (network, batch): batches small enough to keep a step fast, large enough
# that batch norm and the reductions see more than one sample.
NETWORKS = [("mnist", 8), ("cifar10", 4), ("faces", 2)]


@pytest.fixture(autouse=True)
def restore_threads():
    threads = pycnn.get_num_threads()
    yield
    pycnn.set_num_threads(threads)


def train_step(name, batch, threads):
    """Weights after one train_on_batch from a seeded start at `threads` threads."""
    pycnn.set_num_threads(threads)
    pycnn.utils.set_random_seed(1234)
    model = applications.get(name)()
    model.compile(optimizer=recipes.get(name).make_optimizer(), loss="sparse_categorical_crossentropy")
    data = np.random.default_rng(99)
    x = data.random((batch,) + tuple(model.input_shape[1:]), dtype=np.float32)
    y = data.integers(0, model.output_shape[-1], batch)
    before = model.get_weights()
    loss = model.train_on_batch(x, y)
    assert np.isfinite(loss)
    after = model.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(before, after)), "the step changed no weight"
    return after


@pytest.mark.parametrize("name,batch", NETWORKS, ids=[f"{n}-b{b}" for n, b in NETWORKS])
def test_train_step_bitwise_equal_at_1_and_2_threads(name, batch):
    one = train_step(name, batch, 1)
    two = train_step(name, batch, 2)
    assert len(one) == len(two)
    for i, (a, b) in enumerate(zip(one, two)):
        np.testing.assert_array_equal(a, b, err_msg=f"{name}: weight {i} {a.shape} differs between 1 and 2 threads")


# A fit with dropout, shuffling, batch norm and Adam; prints nothing, saves
# the weights to the .npz named by argv[2].
FIT_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import pycnn
    from pycnn import layers, models

    pycnn.utils.set_random_seed(int(sys.argv[1]))
    data = np.random.default_rng(5)
    x = data.standard_normal((24, 8, 8, 2)).astype(np.float32)
    y = data.integers(0, 3, 24)
    model = models.Sequential([
        layers.Input((8, 8, 2)),
        layers.Conv2D(4, 3, activation="relu"),
        layers.BatchNormalization(),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(8, activation="relu"),
        layers.Dropout(0.3),
        layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=5, epochs=3, shuffle=True, verbose=0)
    np.savez(sys.argv[2], *model.get_weights())
""")


def fit_in_fresh_process(seed, out):
    root = Path(pycnn.__file__).resolve().parents[1]  # the checkout in a developer build
    done = subprocess.run([sys.executable, "-c", FIT_SCRIPT, str(seed), str(out)], cwd=root,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    with np.load(out) as f:
        return [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]


def test_seeded_fit_repeats_in_fresh_processes_and_seed_matters(tmp_path):
    first = fit_in_fresh_process(3, tmp_path / "a.npz")
    again = fit_in_fresh_process(3, tmp_path / "b.npz")
    other = fit_in_fresh_process(4, tmp_path / "c.npz")
    assert len(first) == len(again) == len(other) == 10
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert all(not np.array_equal(a, c) for a, c in zip(first, other) if a.size > 8)
