"""Threads sharing models: predict, gradients and training side by side.

The kernels release the GIL, so these threads really overlap. Inference
must be side-effect free (nothing written on layers or weights; what a call
keeps for backward is per thread), so every threaded result is compared
bitwise with the same computation run alone.
"""

import threading

import numpy as np
import pytest

import pycnn
from pycnn import applications, models
from pycnn.utils import set_random_seed

NETS = {  # name: (builder, input shape, images per predict call, predict calls per thread)
    "mnist": (applications.mnist_cnn, (28, 28, 1), 8, 24),
    "cifar10": (applications.cifar10_cnn, (32, 32, 3), 8, 16),
    "faces": (applications.faces_gender_cnn, (112, 92, 3), 2, 4),
}
THREADS = 4


@pytest.fixture(autouse=True)
def kernel_threads(request):
    """One kernel thread per Python thread unless a test asks for more (2 cores in CI: 4 x 2 threads would
    mostly wait on each other)."""
    before = pycnn.get_num_threads()
    pycnn.set_num_threads(getattr(request, "param", 1))
    yield
    pycnn.set_num_threads(before)


def run_threads(fn, n=THREADS):
    """fn(i) in n threads started together; their results in order. Re-raises the first error."""
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def body(i):
        try:
            barrier.wait()
            results[i] = fn(i)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    if errors:
        raise errors[0]
    return results


def seeded_net(name, seed=0):
    """A seed network with every weight away from its initial value (BN statistics included)."""
    set_random_seed(seed)
    model = NETS[name][0]()
    rng = np.random.default_rng(seed)
    for var in model.weights:
        if var.path.endswith("moving_variance"):
            var.assign(rng.uniform(0.5, 2.0, var.shape))
        elif var.path.endswith(("moving_mean", "beta", "bias")):
            var.assign(rng.normal(0.0, 0.1, var.shape))
        elif var.path.endswith("gamma"):
            var.assign(rng.uniform(0.5, 1.5, var.shape))
    return model


def layer_state(model):
    """Everything a layer object refers to, by identity, and every weight's bytes."""
    attrs = [(layer.name, k, id(v)) for layer in model.layers for k, v in vars(layer).items()
             if k != "_thread_local"]
    return attrs, [(v.value.tobytes(), id(v.grad), v._grad_pass) for v in model.weights]


@pytest.mark.parametrize("name, kernel_threads", [(n, 1) for n in NETS] + [("mnist", 2)],
                         ids=[f"{n}-1thread" for n in NETS] + ["mnist-2threads"], indirect=["kernel_threads"])
def test_predict_from_threads_matches_sequential(name, kernel_threads, rng):
    """Each Python thread runs its own kernel thread team; results are bitwise those of a lone call."""
    model = seeded_net(name)
    _, shape, batch, calls = NETS[name]
    if pycnn.get_num_threads() > 1:
        calls //= 3
    xs = [rng.random((batch,) + shape, dtype=np.float32) for _ in range(3)]
    expected = [model.predict(x, verbose=0) for x in xs]
    before = layer_state(model)

    def work(i):
        wrong = 0
        for j in range(calls):
            k = (i + j) % len(xs)
            y = model.predict(xs[k], verbose=0) if j % 2 else model.predict_on_batch(xs[k])
            wrong += not np.array_equal(y, expected[k])
        return wrong

    assert run_threads(work) == [0] * THREADS
    assert layer_state(model) == before, "an inference call wrote state on a layer or a weight"


def test_inference_calls_write_nothing(rng):
    """predict, __call__(training=False), evaluate's forward and gradients leave layers untouched."""
    model = seeded_net("cifar10")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = rng.random((4, 32, 32, 3), dtype=np.float32), np.arange(4)
    model.predict(x, verbose=0)
    before = layer_state(model)
    model.predict(x, verbose=0)
    model(x)
    model.predict_on_batch(x)
    pycnn.gradients(model, x, 1)
    assert layer_state(model) == before
    assert all(layer._cache is None for layer in model.layers), "a layer keeps a reference to a batch"
    model.evaluate(x, y, verbose=0)
    assert layer_state(model)[1] == before[1]


@pytest.mark.parametrize("name", ["mnist", "cifar10"])
def test_input_gradients_from_threads_match_sequential(name, rng):
    """Backward in inference mode reads what each forward kept: that must be the calling thread's."""
    model = seeded_net(name)
    _, shape, batch, calls = NETS[name]
    xs = [rng.random((batch,) + shape, dtype=np.float32) for _ in range(3)]
    expected = [pycnn.gradients(model, x, 3) for x in xs]

    def work(i):
        wrong = 0
        for j in range(calls // 2):
            k = (i + j) % len(xs)
            wrong += not np.array_equal(pycnn.gradients(model, xs[k], 3), expected[k])
        return wrong

    assert run_threads(work) == [0] * THREADS


def fit_cifar(seed):
    model = seeded_net("cifar10", seed)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_fit_beside_predict_on_another_model(rng):
    x = rng.random((48, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, 48)
    xp = rng.random((8, 28, 28, 1), dtype=np.float32)
    alone = fit_cifar(1)
    hist = alone.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0).history
    other = seeded_net("mnist", 2)
    expected_pred = other.predict(xp, verbose=0)

    trained = fit_cifar(1)
    out = {}

    def work(i):
        if i == 0:
            out["history"] = trained.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0).history
            return 0
        return sum(not np.array_equal(other.predict(xp, verbose=0), expected_pred) for _ in range(12))

    assert run_threads(work, 2) == [0, 0]
    assert out["history"] == hist
    for a, b in zip(trained.weights, alone.weights):
        np.testing.assert_array_equal(a.value, b.value, err_msg=a.path)
    assert trained.optimizer.iterations == alone.optimizer.iterations == 6


def test_fit_beside_predict_on_the_same_model(rng):
    """A monitoring thread may predict on the model being trained; training is unaffected."""
    x = rng.random((48, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, 48)
    alone = fit_cifar(3)
    alone.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    model = fit_cifar(3)
    done = threading.Event()

    def work(i):
        if i == 0:
            try:
                model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
            finally:
                done.set()
            return True
        ok = True
        while not done.is_set():
            ok &= bool(np.isfinite(model.predict(x[:4], verbose=0)).all())
            pycnn.gradients(model, x[:2], 0)
        return ok

    assert run_threads(work, 2) == [True, True]
    for a, b in zip(model.weights, alone.weights):
        np.testing.assert_array_equal(a.value, b.value, err_msg=a.path)


def test_two_fits_in_two_threads_match_sequential(rng):
    """Backward passes of two models in two threads do not mix (each pass has its own number)."""
    x = rng.random((32, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, 32)
    alone = [fit_cifar(s) for s in (4, 5)]
    for m in alone:
        m.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    pair = [fit_cifar(s) for s in (4, 5)]
    run_threads(lambda i: pair[i].fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0), 2)
    for m, ref in zip(pair, alone):
        for a, b in zip(m.weights, ref.weights):
            np.testing.assert_array_equal(a.value, b.value, err_msg=a.path)


def test_lazy_sequential_builds_once_under_threads(rng):
    model = models.Sequential([pycnn.layers.Conv2D(4, 3, activation="relu"), pycnn.layers.Flatten(),
                               pycnn.layers.Dense(3)])
    x = rng.random((2, 9, 9, 2), dtype=np.float32)
    outs = run_threads(lambda i: model.predict(x, verbose=0))
    assert len(model.weights) == 4 and len(model.layers[0]._inbound_nodes) == 1
    for y in outs:
        np.testing.assert_array_equal(y, model.predict(x, verbose=0))


def test_thread_count_setting_reaches_every_thread():
    before = pycnn.get_num_threads()
    try:
        pycnn.set_num_threads(1)
        assert run_threads(lambda i: pycnn.get_num_threads(), 2) == [1, 1]
    finally:
        pycnn.set_num_threads(before)
