"""Functional graphs: several inputs/outputs, shared layers and branches (gradients summed),
feature-map models, and pycnn.gradients."""

import numpy as np
import pytest

import pycnn
from pycnn import layers, models, optimizers


@pytest.fixture(autouse=True)
def fresh_names():
    pycnn.utils.clear_session()


def test_shared_layer_and_two_outputs_gradients(rng):
    a, b = layers.Input((3,), name="a"), layers.Input((3,), name="b")
    shared = layers.Dense(2, name="shared")
    ha, hb = shared(a), shared(b)
    merged = layers.Concatenate()([ha, hb])
    out1 = layers.Dense(1, name="o1")(merged)
    out2 = layers.Add(name="o2")([ha, hb])
    model = models.Model({"a": a, "b": b}, [out1, out2])
    assert model.output_names == ["o1", "o2"]
    model.compile(optimizer=optimizers.SGD(1.0), loss=["mse", "mse"], loss_weights=[1.0, 0.5])
    xa, xb = (rng.standard_normal((4, 3)).astype(np.float32) for _ in range(2))
    t1, t2 = rng.standard_normal((4, 1)), rng.standard_normal((4, 2))
    k, c, k1, c1 = [w.astype(np.float64) for w in model.get_weights()]
    loss = model.train_on_batch({"a": xa, "b": xb}, [t1, t2])
    ha_, hb_ = xa @ k + c, xb @ k + c
    m = np.concatenate([ha_, hb_], 1)
    o1, o2 = m @ k1 + c1, ha_ + hb_
    ref = ((o1 - t1) ** 2).mean() + 0.5 * ((o2 - t2) ** 2).mean()
    assert loss == pytest.approx(ref, rel=1e-5)
    d1, d2 = 2 * (o1 - t1) / o1.size, 0.5 * 2 * (o2 - t2) / o2.size
    dm = d1 @ k1.T
    dha, dhb = dm[:, :2] + d2, dm[:, 2:] + d2
    grads = [xa.T @ dha + xb.T @ dhb, dha.sum(0) + dhb.sum(0), m.T @ d1, d1.sum(0)]
    for old, new, g in zip([k, c, k1, c1], model.get_weights(), grads):
        np.testing.assert_allclose(old - new, g, rtol=1e-4, atol=1e-6)


def test_tensor_feeding_two_branches_sums_gradients(rng):
    inp = layers.Input((4,))
    h = layers.Dense(3, name="trunk")(inp)
    out = layers.Add()([layers.Dense(2, name="left")(h), layers.Dense(2, name="right")(h)])
    model = models.Model(inp, out)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    r = rng.standard_normal((5, 2)).astype(np.float32)
    k, c, kl, cl, kr, cr = [w.astype(np.float64) for w in model.get_weights()]
    dx = pycnn.gradients(model, x, r)
    np.testing.assert_allclose(dx, r @ (kl + kr).T @ k.T, rtol=1e-4, atol=1e-6)


def test_feature_map_model_shares_weights(rng):
    model = models.Sequential([layers.Input((8, 8, 1)), layers.Conv2D(2, 3, activation="relu"),
                               layers.MaxPooling2D(), layers.Flatten(), layers.Dense(3)])
    features = models.Model(model.input, [l.output for l in model.layers])
    x = rng.standard_normal((2, 8, 8, 1)).astype(np.float32)
    maps = features.predict(x, verbose=0)
    assert [m.shape for m in maps] == [(2, 6, 6, 2), (2, 3, 3, 2), (2, 18), (2, 3)]
    np.testing.assert_allclose(maps[-1], model.predict(x, verbose=0), rtol=1e-6)


def test_saliency_gradient_matches_finite_differences(rng):
    model = models.Sequential([layers.Input((5, 5, 1)), layers.Conv2D(2, 3, activation="tanh"), layers.Flatten(),
                               layers.Dense(3, activation="softmax")])
    x = rng.standard_normal((1, 5, 5, 1))
    g = pycnn.gradients(model, x.astype(np.float32), 1)
    score = lambda v: float(model.predict(v.astype(np.float32), verbose=0)[0, 1])
    for idx in [(0, 0, 0, 0), (0, 2, 3, 0), (0, 4, 4, 0)]:
        e = np.zeros_like(x)
        e[idx] = 1e-2
        fd = (score(x + e) - score(x - e)) / 2e-2
        assert g[idx] == pytest.approx(fd, rel=2e-2, abs=2e-4)


def test_loss_gradient_wrt_input(rng):
    model = models.Sequential([layers.Input((4,)), layers.Dense(3, activation="softmax")])
    x = rng.standard_normal((2, 4)).astype(np.float32)
    y = np.eye(3)[[0, 2]]
    g = pycnn.gradients(model, x, "categorical_crossentropy", y_true=y)
    k = model.get_weights()[0].astype(np.float64)
    p = model.predict(x, verbose=0).astype(np.float64)
    np.testing.assert_allclose(g, (p - y) / 2 @ k.T, rtol=1e-4, atol=1e-6)


def test_graph_disconnected_and_bad_inputs():
    a, b = layers.Input((3,)), layers.Input((3,))
    out = layers.Add()([a, b])
    with pytest.raises(ValueError, match="Graph disconnected"):
        models.Model(a, out)
    with pytest.raises(TypeError):
        models.Model([1], out)


def test_output_without_loss_leaves_its_branch_unchanged(rng):
    inp = layers.Input((3,))
    out1 = layers.Dense(2, name="used")(inp)
    out2 = layers.Dense(2, name="unused")(inp)
    model = models.Model(inp, [out1, out2])
    model.compile(optimizer=optimizers.SGD(0.1), loss={"used": "mse"})
    before = model.get_layer("unused").get_weights()
    x = rng.standard_normal((4, 3)).astype(np.float32)
    for _ in range(2):
        model.train_on_batch(x, [rng.standard_normal((4, 2)), np.zeros((4, 2))])
    for a, b in zip(before, model.get_layer("unused").get_weights()):
        np.testing.assert_array_equal(a, b)
