"""Fused paths vs the unfused ones they replace.

- ``max_pool2d_backward`` with the windows known (one-pass path for disjoint
  windows) and with a producer's activation fused in, vs the scatter path
  after ``activation_backward``;
- ``batch_norm_backward`` through a fused activation vs ``activation_backward``
  then the plain backward;
- the model-level pairing (Conv2D(activation) -> MaxPooling2D,
  BatchNormalization -> ReLU / LeakyReLU): which steps pair, and the same
  weight gradients and outputs as the unfused graph walk;
- a linear convolution -> BatchNormalization folded into one convolution in
  inference, vs the two layers run one after the other;
- a large Dense kernel's gradient handed to the optimizer as its factors vs
  the stored matrix: the same training, bit for bit.
"""

import numpy as np
import pytest

import pycnn
from pycnn import _core, layers, models, ops, optimizers
from pycnn.layers import core as core_layers
from pycnn.applications import cifar10_cnn, faces_gender_cnn, mnist_cnn
from test_pool2d import CONFIGS, TWO_BY_TWO, config_id, distinct_input

ACTIVATIONS = [("relu", None), ("leaky_relu", 0.3), ("elu", 1.0), ("sigmoid", None), ("tanh", None)]


def pooled_activation(x, name, alpha):
    """An activation's output, pooled afterwards (the fused layers' forward)."""
    return ops.activation(x, name, alpha=alpha) if name else x


@pytest.mark.parametrize("cfg", CONFIGS[:120] + TWO_BY_TWO, ids=config_id)
def test_max_pool_backward_windows_matches_scatter(cfg):
    rng = np.random.default_rng(cfg["seed"])
    shape = (cfg["n"], cfg["h"], cfg["w"], cfg["c"])
    pool, stride, padding = cfg["pool"], cfg["stride"], cfg["padding"]
    name, alpha = ACTIVATIONS[cfg["seed"] % len(ACTIVATIONS)]
    y_act = pooled_activation(distinct_input(shape, rng).astype(np.float32), name, alpha)
    y, argmax = ops.max_pool2d(y_act, pool, stride, padding)
    dy = rng.standard_normal(y.shape).astype(np.float32)

    plain = ops.max_pool2d_backward(dy, argmax, shape)
    windows = _core.max_pool2d_backward_windows(dy, argmax, list(shape), *pool, *stride, padding == "same",
                                                fill=np.nan)
    np.testing.assert_array_equal(windows, plain)

    unfused = ops.max_pool2d_backward(ops.activation_backward(dy, name, y=y, alpha=alpha), argmax, shape)
    code, a = {"relu": 1, "leaky_relu": 2, "elu": 3, "sigmoid": 4, "tanh": 5}[name], alpha or 0.0
    fused = _core.max_pool2d_backward_windows(dy, argmax, list(shape), *pool, *stride, padding == "same",
                                              y, code, a, fill=np.nan)
    np.testing.assert_array_equal(fused, unfused)
    np.testing.assert_array_equal(
        ops.max_pool2d_backward(dy, argmax, shape, pool, stride, padding, activation=name, alpha=alpha, y=y), unfused)


def test_max_pool_backward_windows_rejects_foreign_argmax(rng):
    x = distinct_input((2, 6, 6, 3), rng)
    y, argmax = ops.max_pool2d(x, 2, 2)
    shifted = argmax.copy()
    shifted[0, 0, 0, 0] = argmax[0, 1, 1, 0]  # a valid index, but in another window
    with pytest.raises(ValueError, match=r"\[max_pool2d_backward\] argmax holds indices outside the pooling windows"):
        ops.max_pool2d_backward(y, shifted, x.shape, 2, 2)
    with pytest.raises(ValueError, match=r"\[max_pool2d_backward\] argmax holds indices outside"):
        ops.max_pool2d_backward(y, argmax + 1000, x.shape, 4, 1)  # overlapping windows
    x = distinct_input((2, 7, 7, 16), rng)  # 16 channels: the 2x2 loop; the last row and column by pixel
    y, argmax = ops.max_pool2d(x, 2, 2, "same")
    for where in [(1, 1, 2, 5), (0, 3, 1, 0), (1, 2, 3, 15)]:  # a full window, the bottom and the right edge
        moved = argmax.copy()
        moved[where] = argmax[(where[0], 0, 0, where[3])]
        with pytest.raises(ValueError, match=r"\[max_pool2d_backward\] argmax holds indices outside the pooling"):
            ops.max_pool2d_backward(y, moved, x.shape, 2, 2, "same", activation="relu", y=y)


@pytest.mark.parametrize("call, match", [
    (lambda y, a: ops.max_pool2d_backward(y, a, (2, 6, 6, 3), activation="relu", y=y), "needs the forward's"),
    (lambda y, a: ops.max_pool2d_backward(y, a, (2, 6, 6, 3), 2, activation="relu"), "needs the pooled output"),
    (lambda y, a: ops.max_pool2d_backward(y, a, (2, 6, 6, 3), 2, activation="relu", y=y[:1]), "expected `y`"),
    (lambda y, a: ops.max_pool2d_backward(y, a, (2, 6, 6, 3), 3), "expected dy of shape"),
    (lambda y, a: ops.max_pool2d_backward(y, a, (2, 6, 6, 3), 2, activation="softmax", y=y), "expected activation"),
    (lambda y, a: ops.max_pool2d_backward(y, a, (2, 6, 6, 3), 2, activation="leaky_relu", alpha=0.0, y=y),
     "alpha <= 0"),
], ids=["no-windows", "no-y", "y-shape", "dy-shape", "softmax", "leaky-slope-0"])
def test_max_pool_backward_fused_bad_input(call, match, rng):
    x = distinct_input((2, 6, 6, 3), rng)
    y, argmax = ops.max_pool2d(x, 2, 2)
    with pytest.raises(ValueError, match=r"\[max_pool2d_backward\] .*" + match):
        call(y, argmax)


@pytest.mark.parametrize("shape", [(3, 5, 7, 13), (64, 33), (2, 0, 4, 8)], ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name, alpha", ACTIVATIONS, ids=[a for a, _ in ACTIVATIONS])
def test_batch_norm_backward_through_activation(shape, name, alpha, rng):
    c = shape[-1]
    x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
    gamma = rng.uniform(0.5, 1.5, c).astype(np.float32)
    beta = rng.standard_normal(c).astype(np.float32)
    stats = [np.zeros(c, np.float32), np.ones(c, np.float32)]
    y, mean, inv_std = ops.batch_norm_train(x, gamma, beta, *stats, activation=name, alpha=alpha)
    dy = rng.standard_normal(shape).astype(np.float32)
    unfused = ops.batch_norm_backward(ops.activation_backward(dy, name, y=y, alpha=alpha), x, gamma, mean, inv_std)
    fused = ops.batch_norm_backward(dy, x, gamma, mean, inv_std, activation=name, alpha=alpha, y=y)
    for got, want in zip(fused, unfused):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    raw = _core.batch_norm_backward(dy, x, gamma, mean, inv_std, y, ops.normalization.activation_code(name, alpha, "t")[0],
                                    alpha or 0.0, fill=np.nan)
    for got, want in zip(raw, fused):
        np.testing.assert_array_equal(got, want)


def test_batch_norm_backward_activation_bad_input(rng):
    x = rng.standard_normal((4, 3)).astype(np.float32)
    g, m, s = np.ones(3, np.float32), np.zeros(3, np.float32), np.ones(3, np.float32)
    with pytest.raises(ValueError, match=r"\[batch_norm_backward\] .*needs the activated output"):
        ops.batch_norm_backward(x, x, g, m, s, activation="relu")
    with pytest.raises(ValueError, match=r"\[batch_norm_backward\] expected `y`"):
        ops.batch_norm_backward(x, x, g, m, s, activation="relu", y=x[:2])
    with pytest.raises(ValueError, match=r"\[batch_norm_backward\] .*cannot be differentiated"):
        ops.batch_norm_backward(x, x, g, m, s, activation="leaky_relu", alpha=-0.1, y=x)


def test_batch_norm_backward_activation_thread_determinism(rng):
    x = rng.standard_normal((8, 16, 16, 32)).astype(np.float32)
    gamma = rng.uniform(0.5, 1.5, 32).astype(np.float32)
    y, mean, inv_std = ops.batch_norm_train(x, gamma, None, np.zeros(32, np.float32), np.ones(32, np.float32),
                                            activation="leaky_relu", alpha=0.3)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    results = []
    for threads in (1, 2):
        pycnn.set_num_threads(threads)
        results.append(ops.batch_norm_backward(dy, x, gamma, mean, inv_std, activation="leaky_relu", alpha=0.3, y=y))
    pycnn.set_num_threads(1)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


# ----- the model-level pairing ------------------------------------------------

def fusions(model):
    steps = model._graph.steps
    return {
        "pool": [s.layer.name for s in steps if s.through_activation is not None],
        "pre_activation": [s.layer.name for s in steps if s.pre_activation],
        "activated": [s.layer.name for s in steps if s.activation is not None],
        "alias": [s.layer.name for s in steps if s.alias],
        "conv_pool": [s.layer.name for s in steps if s.train_pool is not None],
        "conv_norm": [s.layer.name for s in steps if s.infer_norm is not None],
    }


def unfuse(model):
    for step in model._graph.steps:
        step.through_activation, step.pre_activation, step.activation, step.alias = None, False, None, False
        step.train_pool, step.train_alias = None, False
        step.infer_pool, step.infer_norm, step.infer_alias = None, None, False


def test_seed_networks_pair_their_layers():
    mnist = fusions(mnist_cnn())
    assert len(mnist["pool"]) == 2 and len(mnist["pre_activation"]) == 2 and not mnist["alias"]
    assert mnist["conv_pool"] == mnist["pre_activation"]
    faces = fusions(faces_gender_cnn())
    assert len(faces["pool"]) == 3 and len(faces["pre_activation"]) == 3
    assert faces["conv_pool"] == faces["pre_activation"]
    cifar = fusions(cifar10_cnn())
    assert len(cifar["activated"]) == 5 and len(cifar["alias"]) == 5 and not cifar["pool"]
    assert len(cifar["conv_norm"]) == 4  # the Dense -> BatchNormalization pair stays as it is


def test_no_pairing_where_the_tensor_has_other_consumers():
    inputs = layers.Input((8, 8, 2))
    conv = layers.Conv2D(3, 3, activation="relu", padding="same")(inputs)
    pooled = layers.MaxPooling2D()(conv)
    bn = layers.BatchNormalization()(conv)
    act = layers.LeakyReLU()(bn)
    side = layers.Flatten()(bn)
    model = models.Model(inputs, [pooled, act, side])
    assert fusions(model) == {"pool": [], "pre_activation": [], "activated": [], "alias": [], "conv_pool": [],
                              "conv_norm": []}
    out_conv = layers.Conv2D(3, 3, activation="relu")(inputs)
    model = models.Model(inputs, [out_conv, layers.MaxPooling2D()(out_conv)])  # conv output is a model output
    assert fusions(model)["pool"] == []


def weight_grads(model, x, y):
    """Weight gradients and loss of one training-mode forward/backward, weights untouched."""
    outputs, caches = model._graph.forward([x], training=True)
    loss, _, grads, logits = model.compiled_loss.compute([y], outputs, None, model._fused_logits(caches))
    model._graph.backward(caches, grads, logits)
    return outputs[0], [v.grad.copy() for v in model.trainable_weights]


def small_pool_net(activation):
    return models.Sequential([
        layers.Input((12, 11, 3)),
        layers.Conv2D(5, 3, activation=activation, padding="same"),
        layers.MaxPooling2D((2, 2), padding="same"),
        layers.Conv2D(4, 3, activation=activation),
        layers.MaxPooling2D((3, 2), strides=(2, 1)),  # overlapping windows: the scatter path
        layers.Flatten(),
        layers.Dense(3, activation="softmax"),
    ])


def small_bn_net():
    inputs = layers.Input((10, 9, 3))
    x = layers.Conv2D(6, 3, padding="same")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU()(x)
    x = layers.Conv2D(4, 3, strides=2)(x)
    x = layers.BatchNormalization(center=False)(x)
    x = layers.ReLU()(x)
    x = layers.Flatten()(x)
    x = layers.Dense(5)(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(negative_slope=0.1)(x)
    return models.Model(inputs, layers.Dense(3, activation="softmax")(x))


@pytest.mark.parametrize("build", [
    lambda: small_pool_net("relu"), lambda: small_pool_net("leaky_relu"), lambda: small_pool_net("tanh"),
    small_bn_net, mnist_cnn,
], ids=["pool-relu", "pool-leaky", "pool-tanh", "bn-leaky", "mnist"])
def test_fused_graph_matches_unfused(build, rng):
    pycnn.utils.set_random_seed(3)
    model = build()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model._require_compiled("test", None)
    x = rng.random((4,) + tuple(model.input_shape[1:]), dtype=np.float32)
    y = rng.integers(0, model.output_shape[-1], 4)
    assert any(fusions(model).values())
    state = [w.copy() for w in model.get_weights()]
    out_fused, fused = weight_grads(model, x, y)
    model.set_weights(state)  # the BN moving statistics moved
    unfuse(model)
    out_plain, plain = weight_grads(model, x, y)
    np.testing.assert_allclose(out_fused, out_plain, rtol=1e-6, atol=1e-7)
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)


def test_fused_bn_predict_and_frozen_backward(rng):
    pycnn.utils.set_random_seed(4)
    model = small_bn_net()
    x = rng.random((3, 10, 9, 3), dtype=np.float32)
    fused = model.predict(x, verbose=0)
    grads_fused = pycnn.gradients(model, x, 1)
    unfuse(model)
    np.testing.assert_allclose(fused, model.predict(x, verbose=0), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(grads_fused, pycnn.gradients(model, x, 1), rtol=1e-5, atol=1e-7)


def folded_net(kind, use_bias, center, scale, activation):
    inputs = layers.Input((9, 8, 4))
    if kind == "conv":
        x = layers.Conv2D(6, 3, strides=2, padding="same", use_bias=use_bias)(inputs)
    elif kind == "grouped":
        x = layers.Conv2D(6, 3, groups=2, use_bias=use_bias)(inputs)
    else:
        x = layers.DepthwiseConv2D(3, depth_multiplier=2, use_bias=use_bias)(inputs)
    x = layers.BatchNormalization(center=center, scale=scale, epsilon=0.01)(x)
    if activation:
        x = layers.LeakyReLU(negative_slope=0.2)(x) if activation == "leaky" else layers.Activation(activation)(x)
    return models.Model(inputs, layers.Flatten()(x))


@pytest.mark.parametrize("kind", ["conv", "grouped", "depthwise"])
@pytest.mark.parametrize("use_bias, center, scale", [(True, True, True), (False, True, False), (True, False, True)])
@pytest.mark.parametrize("activation", [None, "leaky", "tanh"])
def test_conv_batchnorm_folded_in_inference(kind, use_bias, center, scale, activation, rng, monkeypatch):
    model = folded_net(kind, use_bias, center, scale, activation)
    assert len(fusions(model)["conv_norm"]) == 1
    for w in model.weights:  # moving statistics, gamma, beta and bias away from their initial values
        w.assign(rng.uniform(0.5, 1.5, w.shape).astype(np.float32) if "variance" in w.name or "gamma" in w.name
                 else rng.standard_normal(w.shape).astype(np.float32))
    x = rng.standard_normal((3, 9, 8, 4)).astype(np.float32)
    calls = []
    batch_norm = ops.batch_norm_inference
    monkeypatch.setattr(ops, "batch_norm_inference", lambda *a, **k: calls.append(1) or batch_norm(*a, **k))
    folded = model.predict_on_batch(x)
    assert calls == []  # the normalisation ran inside the convolution
    unfuse(model)
    plain = model.predict_on_batch(x)
    assert calls == [1]
    np.testing.assert_allclose(folded, plain, rtol=1e-5, atol=1e-5)
    # A training-mode pass normalises with the batch statistics, unfolded.
    outputs, _ = model._graph.forward([x], training=True)
    assert calls == [1] and not np.allclose(outputs[0], plain, atol=1e-3)


def test_no_folding_where_the_conv_is_activated_or_its_output_read_elsewhere(rng):
    inputs = layers.Input((6, 6, 2))
    activated = layers.BatchNormalization()(layers.Conv2D(3, 3, activation="relu")(inputs))
    conv = layers.Conv2D(3, 3)(inputs)
    shared = layers.BatchNormalization()(conv)
    model = models.Model(inputs, [activated, shared, conv])
    assert fusions(model)["conv_norm"] == []
    dense = models.Sequential([layers.Input((4,)), layers.Dense(3), layers.BatchNormalization()])
    assert fusions(dense)["conv_norm"] == []


def test_pooled_activation_outputs_are_not_kept_for_backward():
    """A Conv2D whose pooling differentiates its activation keeps only its input for
    backward; backward releases every step's cache and the update the gradients."""
    model = faces_gender_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model._require_compiled("test", None)
    x = np.random.default_rng(0).random((2,) + tuple(model.input_shape[1:]), dtype=np.float32)
    y = np.array([0, 1])
    outputs, caches = model._graph.forward([x], training=True)
    paired = [k for k, step in enumerate(model._graph.steps) if step.pre_activation]
    assert len(paired) == 3
    for k in paired:
        assert caches[k][0] is not None and caches[k][1:] == (None, None)
    loss, _, grads, logits = model.compiled_loss.compute([y], outputs, None, model._fused_logits(caches))
    model._graph.backward(caches, grads, logits)
    assert all(cache is None for cache in caches)
    model.train_on_batch(x, y)
    assert all(var.grad is None for var in model.trainable_weights)


def big_dense_net(shared):
    """A Dense kernel of 1024 x 300 (above the factored-gradient threshold), used once or by two inputs."""
    first, second = layers.Input((8, 8, 16)), layers.Input((1024,))
    big = layers.Dense(300, activation="relu")
    x = big(layers.Flatten()(first))
    if shared:
        x = layers.Add()([x, big(second)])
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(4, activation="softmax")(x)
    return models.Model([first, second] if shared else first, outputs)


@pytest.mark.parametrize("shared", [False, True], ids=["single", "shared"])
@pytest.mark.parametrize("optimizer", [
    lambda: optimizers.Adam(1e-3), lambda: optimizers.RMSprop(momentum=0.5), lambda: optimizers.SGD(0.1, momentum=0.9),
    lambda: optimizers.AdamW(clipnorm=0.5),
], ids=["adam", "rmsprop", "sgd", "adamw-clipnorm"])
def test_factored_dense_gradient_trains_like_the_stored_one(optimizer, shared, rng, monkeypatch):
    x = rng.random((6, 8, 8, 16), dtype=np.float32)
    if shared:
        x = [x, rng.random((6, 1024), dtype=np.float32)]
    y = rng.integers(0, 4, 6)
    weights = []
    for threshold in (core_layers._FACTORED_MIN_WEIGHTS, np.inf):  # factored, then stored
        monkeypatch.setattr(core_layers, "_FACTORED_MIN_WEIGHTS", threshold)
        pycnn.utils.set_random_seed(5)
        model = big_dense_net(shared)
        model.compile(optimizer=optimizer(), loss="sparse_categorical_crossentropy")
        for _ in range(3):
            model.train_on_batch(x, y)
        weights.append(model.get_weights())
    for factored, stored in zip(*weights):
        np.testing.assert_array_equal(factored, stored)


def test_factored_dense_gradient_reads_as_its_matrix(rng):
    pycnn.utils.set_random_seed(6)
    model = big_dense_net(shared=False)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model._require_compiled("test", None)
    x, y = rng.random((5, 8, 8, 16), dtype=np.float32), rng.integers(0, 4, 5)
    kernel = next(layer for layer in model.layers if getattr(layer, "units", None) == 300).kernel
    outputs, caches = model._graph.forward([x], training=True)
    loss, _, dys, logits = model.compiled_loss.compute([y], outputs, None, model._fused_logits(caches))
    model._graph.backward(caches, dys, logits)
    factored = kernel.grad_for_update
    assert isinstance(factored, ops.FactoredGradient) and factored.a.shape == (5, 1024)
    _, stored, _ = ops.dense_backward(factored.b, factored.a, kernel.value, need_input_grad=False,
                                      need_bias_grad=False)
    np.testing.assert_array_equal(kernel.grad, stored)
    assert kernel.grad_for_update is kernel.grad  # materialised once, then kept
