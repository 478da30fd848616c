"""Whole small models against NumPy float64 Keras semantics: one SGD(lr=1) step recovers every
weight gradient; optimizer trajectories; BN statistics; dropout; losses and reductions."""

import numpy as np
import pytest

import pycnn
from pycnn import layers, losses, models, optimizers
from reference import keras_semantics as ks


def small_cnn(softmax_layer=False, padding="valid"):
    pycnn.utils.clear_session()
    model = models.Sequential([
        layers.Input((6, 6, 2)),
        layers.Conv2D(3, 3, activation="relu", padding=padding),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(4) if softmax_layer else layers.Dense(4, activation="softmax"),
    ] + ([layers.Softmax()] if softmax_layer else []))
    return model


def reference_step(ws, x, y, sw=None, padding="valid"):
    k, b, dk_, db_ = ws
    z1 = ks.conv2d(x, k, b, padding=padding)
    a1 = ks.relu(z1)
    p = ks.max_pool(a1)
    f = p.reshape(len(x), -1)
    z2 = f @ dk_ + db_
    loss = ks.categorical_crossentropy(ks.softmax(z2), y, sw)
    dz2 = ks.softmax_crossentropy_grad(z2, y, sw)
    ddk = f.T @ dz2
    ddb = dz2.sum(0)
    dp = (dz2 @ dk_.T).reshape(p.shape)
    da1 = ks.max_pool_backward(dp, a1)
    dz1 = da1 * (z1 > 0)
    _, dk, db = ks.conv2d_backward(dz1, x, k, padding=padding)
    return loss, [dk, db, ddk, ddb]


@pytest.mark.parametrize("softmax_layer", [False, True], ids=["dense-softmax", "softmax-layer"])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample-weight"])
def test_one_sgd_step_gives_every_weight_gradient(rng, softmax_layer, padding, weighted):
    model = small_cnn(softmax_layer, padding)
    model.compile(optimizer=optimizers.SGD(learning_rate=1.0), loss="categorical_crossentropy", metrics=["accuracy"])
    x = rng.standard_normal((5, 6, 6, 2)).astype(np.float32)
    y = np.eye(4)[rng.integers(0, 4, 5)]
    sw = rng.uniform(0.5, 2, 5) if weighted else None
    before = [w.astype(np.float64) for w in model.get_weights()]
    loss, acc = model.train_on_batch(x, y, sample_weight=sw)
    after = model.get_weights()
    ref_loss, ref_grads = reference_step(before, x.astype(np.float64), y, sw, padding)
    assert loss == pytest.approx(ref_loss, rel=1e-4)
    for w0, w1, g in zip(before, after, ref_grads):
        np.testing.assert_allclose(w0 - w1, g, rtol=2e-3, atol=2e-5)


def test_bn_moving_statistics_and_inference(rng):
    pycnn.utils.clear_session()
    bn = layers.BatchNormalization(momentum=0.9)
    model = models.Sequential([layers.Input((3, 3, 4)), bn, layers.Flatten(), layers.Dense(2)])
    model.compile(optimizer=optimizers.SGD(0.0), loss="mse")
    mm, mv = np.zeros(4), np.ones(4)
    for _ in range(4):
        x = (rng.standard_normal((8, 3, 3, 4)) * 3 + 1).astype(np.float32)
        model.train_on_batch(x, np.zeros((8, 2), np.float32))
        xf = x.astype(np.float64)
        mm = mm * 0.9 + xf.mean((0, 1, 2)) * 0.1
        mv = mv * 0.9 + xf.var((0, 1, 2)) * 0.1
    gamma, beta, got_mm, got_mv = bn.get_weights()
    np.testing.assert_allclose(got_mm, mm, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_mv, mv, rtol=1e-5)
    x = rng.standard_normal((2, 3, 3, 4)).astype(np.float32)
    expected = (x - mm) / np.sqrt(mv + 1e-3) * gamma + beta
    np.testing.assert_allclose(bn(x, training=False), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.predict(x, verbose=0), model(x), rtol=1e-6)


def test_bn_gradients_one_step(rng):
    pycnn.utils.clear_session()
    model = models.Sequential([layers.Input((5,)), layers.Dense(3, use_bias=False), layers.BatchNormalization(),
                               layers.Dense(2, activation="softmax")])
    model.compile(optimizer=optimizers.SGD(1.0), loss="categorical_crossentropy")
    x = rng.standard_normal((6, 5)).astype(np.float32)
    y = np.eye(2)[rng.integers(0, 2, 6)]
    k1, g, b, _, _, k2, b2 = [w.astype(np.float64) for w in model.get_weights()]
    model.train_on_batch(x, y)
    h = x @ k1
    o, cache = ks.batch_norm_train(h, g, b)
    z = o @ k2 + b2
    dz = ks.softmax_crossentropy_grad(z, y)
    do = dz @ k2.T
    dh, dg, db = ks.batch_norm_backward(do, cache, g)
    new = model.get_weights()
    for old, now, grad in zip([k1, g, b, k2, b2], [new[0], new[1], new[2], new[5], new[6]],
                              [x.T @ dh, dg, db, o.T @ dz, dz.sum(0)]):
        np.testing.assert_allclose(old - now, grad, rtol=2e-3, atol=2e-5)


def test_dropout_only_in_training(rng):
    pycnn.utils.clear_session()
    drop = layers.Dropout(0.5, seed=3)
    x = np.ones((4, 100), np.float32)
    np.testing.assert_array_equal(drop(x, training=False), x)
    y = drop(x, training=True)
    assert set(np.unique(y)) <= {0.0, 2.0} and 0 < (y == 0).mean() < 1
    model = models.Sequential([layers.Input((100,)), drop, layers.Dense(1, use_bias=False, kernel_initializer="ones")])
    np.testing.assert_allclose(model.predict(x, verbose=0), np.full((4, 1), 100.0), rtol=1e-6)


OPTIMIZER_CASES = [
    (optimizers.SGD(0.1), lambda w, g: ks.sgd_steps(w, g, 0.1)),
    (optimizers.SGD(0.1, momentum=0.9), lambda w, g: ks.sgd_steps(w, g, 0.1, 0.9)),
    (optimizers.SGD(0.1, momentum=0.9, nesterov=True), lambda w, g: ks.sgd_steps(w, g, 0.1, 0.9, True)),
    (optimizers.RMSprop(), lambda w, g: ks.rmsprop_steps(w, g, 0.001)),
    (optimizers.RMSprop(0.01, momentum=0.5, centered=True), lambda w, g: ks.rmsprop_steps(w, g, 0.01, momentum=0.5, centered=True)),
    (optimizers.Adam(), lambda w, g: ks.adam_steps(w, g, 0.001)),
    (optimizers.Adam(0.01, amsgrad=True), lambda w, g: ks.adam_steps(w, g, 0.01, amsgrad=True)),
    (optimizers.AdamW(0.01), lambda w, g: ks.adam_steps(w, g, 0.01, weight_decay=0.004)),
]


@pytest.mark.parametrize("case", range(len(OPTIMIZER_CASES)),
                         ids=["sgd", "sgd-mom", "sgd-nesterov", "rmsprop", "rmsprop-centered-mom", "adam",
                              "adam-amsgrad", "adamw"])
def test_optimizer_trajectory(rng, case):
    opt, reference = OPTIMIZER_CASES[case]
    opt = type(opt).from_config(opt.get_config())
    w0 = rng.standard_normal((3, 5)).astype(np.float32)
    grads = [rng.standard_normal((3, 5)).astype(np.float32) for _ in range(5)]
    w = w0.copy()
    for g in grads:
        opt.apply([g], [w])
    np.testing.assert_allclose(w, reference(w0.astype(np.float64), [g.astype(np.float64) for g in grads]),
                               rtol=1e-5, atol=1e-6)
    assert opt.iterations == 5


def test_keras_defaults():
    assert optimizers.SGD().learning_rate == pytest.approx(0.01)
    r = optimizers.RMSprop()
    assert (r.learning_rate, r.rho, r.epsilon, r.momentum) == (pytest.approx(0.001), 0.9, 1e-7, 0.0)
    a = optimizers.Adam()
    assert (a.beta_1, a.beta_2, a.epsilon, a.amsgrad) == (0.9, 0.999, 1e-7, False)
    assert optimizers.AdamW().weight_decay == 0.004
    assert layers.LeakyReLU().negative_slope == 0.3
    bn = layers.BatchNormalization()
    assert (bn.momentum, bn.epsilon) == (0.99, 1e-3)


@pytest.mark.parametrize("name,ref", [
    ("categorical_crossentropy", lambda p, y: ks.categorical_crossentropy(p, y)),
    ("binary_crossentropy", lambda p, y: ks.binary_crossentropy(p, y)),
    ("mse", lambda p, y: ((p - y) ** 2).mean()),
    ("mae", lambda p, y: np.abs(p - y).mean()),
    ("huber", lambda p, y: np.where(np.abs(p - y) <= 1, 0.5 * (p - y) ** 2, np.abs(p - y) - 0.5).mean()),
])
def test_loss_values(rng, name, ref):
    p = rng.uniform(0.05, 0.95, (6, 3))
    p = p / p.sum(1, keepdims=True) if name == "categorical_crossentropy" else p
    y = np.eye(3)[rng.integers(0, 3, 6)] if "entropy" in name else rng.standard_normal((6, 3)) * 2
    assert float(losses.get(name)(y, p.astype(np.float32))) == pytest.approx(ref(p, y), rel=1e-5)


def test_sparse_and_logit_losses(rng):
    z = rng.standard_normal((5, 4)).astype(np.float32)
    labels = rng.integers(0, 4, 5)
    ref = ks.categorical_crossentropy(ks.softmax(z.astype(np.float64)), np.eye(4)[labels])
    assert float(losses.SparseCategoricalCrossentropy(from_logits=True)(labels, z)) == pytest.approx(ref, rel=1e-5)
    assert float(losses.CategoricalCrossentropy(from_logits=True)(np.eye(4)[labels], z)) == pytest.approx(ref, rel=1e-5)
    w = rng.uniform(0, 2, 5)
    got = float(losses.SparseCategoricalCrossentropy(from_logits=True)(labels, z, sample_weight=w))
    per = -np.log(ks.softmax(z.astype(np.float64))[np.arange(5), labels])
    assert got == pytest.approx((per * w).sum() / 5, rel=1e-5)


def test_class_weight_equals_sample_weight(rng):
    x = rng.standard_normal((8, 6, 6, 2)).astype(np.float32)
    labels = rng.integers(0, 4, 8)
    y = np.eye(4)[labels]
    cw = {0: 1.0, 1: 2.0, 2: 0.5, 3: 3.0}
    results = []
    for kwargs in ({"class_weight": cw}, {"sample_weight": np.array([cw[c] for c in labels])}):
        pycnn.utils.set_random_seed(1)
        model = small_cnn()
        model.compile(optimizer=optimizers.SGD(0.1), loss="categorical_crossentropy")
        model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0, **kwargs)
        results.append(model.get_weights())
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_fit_logs_are_batch_size_weighted_means(rng):
    model = small_cnn()
    model.compile(optimizer=optimizers.SGD(0.0), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = rng.standard_normal((10, 6, 6, 2)).astype(np.float32)
    y = rng.integers(0, 4, 10)
    hist = model.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False)
    loss, acc = model.evaluate(x, y, verbose=0)
    assert hist.history["loss"][-1] == pytest.approx(loss, rel=1e-5)
    assert hist.history["accuracy"][-1] == pytest.approx(acc)
    probs = model.predict(x, verbose=0)
    assert acc == pytest.approx((probs.argmax(1) == y).mean())
    assert sorted(hist.history) == ["accuracy", "loss"]


def test_reproducible_with_seed(rng):
    x = rng.standard_normal((16, 6, 6, 2)).astype(np.float32)
    y = rng.integers(0, 4, 16)
    runs = []
    for _ in range(2):
        pycnn.utils.set_random_seed(7)
        model = small_cnn()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=4, epochs=2, verbose=0)
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_regularizer_adds_penalty_and_gradient(rng):
    pycnn.utils.clear_session()
    dense = layers.Dense(2, use_bias=False, kernel_regularizer=pycnn.regularizers.L2(0.1))
    model = models.Sequential([layers.Input((3,)), dense])
    model.compile(optimizer=optimizers.SGD(1.0), loss="mse")
    x = rng.standard_normal((4, 3)).astype(np.float32)
    y = rng.standard_normal((4, 2)).astype(np.float32)
    k = dense.get_weights()[0].astype(np.float64)
    loss = model.train_on_batch(x, y)
    err = x @ k - y
    assert loss == pytest.approx((err ** 2).mean() + 0.1 * (k ** 2).sum(), rel=1e-5)
    grad = x.T @ (2 * err / err.size) + 0.2 * k
    np.testing.assert_allclose(k - dense.get_weights()[0], grad, rtol=1e-4, atol=1e-6)
