"""Inference slices a large batch (models/graph.py INFER_CHUNK_BYTES): the
outputs must be those of one unsliced pass, for one and several outputs."""

import math

import numpy as np
import pytest

from pycnn import layers, models
from pycnn.models import graph


def _two_output_model():
    x = layers.Input((9, 7, 3))
    h = layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    h = layers.BatchNormalization()(h)
    p = layers.MaxPooling2D(2)(h)
    f = layers.Flatten()(p)
    a = layers.Dense(5, activation="softmax")(f)
    b = layers.Dense(2)(f)
    return models.Model(x, [a, b])


@pytest.mark.parametrize("n", [1, 7, 23])
def test_sliced_inference_equals_one_pass(monkeypatch, rng, n):
    model = _two_output_model()
    x = rng.standard_normal((n, 9, 7, 3)).astype(np.float32)
    whole, _ = model._graph.forward([x], training=False)
    monkeypatch.setattr(graph, "INFER_CHUNK_BYTES", 3 * model._graph.infer_sample_bytes)  # slices of ~3 rows
    monkeypatch.setattr(model._graph, "weight_bytes", lambda: 0)
    passes = []
    forward = model._graph.forward
    monkeypatch.setattr(model._graph, "forward", lambda *a, **k: passes.append(1) or forward(*a, **k))
    for got in (model.predict_on_batch(x), model(x), model.predict(x, batch_size=10, verbose=0)):
        assert len(got) == 2
        for g, w in zip(got, whole):
            assert g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    assert len(passes) > 3 or n <= 3  # sliced indeed


def test_slices_are_never_smaller_than_the_weights(monkeypatch, rng):
    model = _two_output_model()
    weights = model._graph.weight_bytes()
    assert weights == sum(w.nbytes for w in model.get_weights())
    monkeypatch.setattr(graph, "INFER_CHUNK_BYTES", 1)
    passes = []
    forward = model._graph.forward
    monkeypatch.setattr(model._graph, "forward", lambda *a, **k: passes.append(1) or forward(*a, **k))
    model.predict_on_batch(rng.standard_normal((40, 9, 7, 3)).astype(np.float32))
    assert len(passes) == math.ceil(40 * model._graph.infer_sample_bytes / weights) < 40


def test_sample_bytes_is_the_largest_activation():
    model = _two_output_model()
    assert model._graph.infer_sample_bytes == 4 * 9 * 7 * 4  # the conv / BN output


def test_empty_batch(monkeypatch):
    model = _two_output_model()
    monkeypatch.setattr(graph, "INFER_CHUNK_BYTES", 1)
    a, b = model.predict_on_batch(np.zeros((0, 9, 7, 3), np.float32))
    assert a.shape == (0, 5) and b.shape == (0, 2)


def test_inference_pools_without_argmax_and_keeps_the_outputs(monkeypatch, rng):
    """predict runs MaxPooling2D.infer (no argmax); outputs equal the pass that keeps caches."""
    model = _two_output_model()
    x = rng.standard_normal((6, 9, 7, 3)).astype(np.float32)
    with_caches, caches = model._graph.forward([x], training=False)
    pool_step = next(k for k, step in enumerate(model._graph.steps) if isinstance(step.layer, layers.MaxPooling2D))
    assert caches[pool_step][0].dtype == np.int32  # the pass that keeps caches has an argmax
    calls = []
    infer = layers.MaxPooling2D.infer
    monkeypatch.setattr(layers.MaxPooling2D, "infer", lambda self, v: calls.append(1) or infer(self, v))
    for got, want in zip(model.predict_on_batch(x), with_caches):
        np.testing.assert_array_equal(got, want)
    assert calls == [1]
