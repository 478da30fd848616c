"""Each layer against float64 Keras semantics; shapes, names, configs, weights."""

import numpy as np
import pytest

import pycnn
from pycnn import layers
from reference import keras_semantics as ks


@pytest.fixture(autouse=True)
def fresh_names():
    pycnn.utils.clear_session()


@pytest.mark.parametrize("strides,padding,groups", [(1, "valid", 1), (2, "same", 1), (1, "same", 2)])
def test_conv2d_forward_backward(rng, strides, padding, groups):
    conv = layers.Conv2D(4, 3, strides=strides, padding=padding, groups=groups, activation="relu")
    x = rng.standard_normal((2, 7, 6, 4)).astype(np.float32)
    y = conv(x, training=True)
    k, b = (w.astype(np.float64) for w in conv.get_weights())
    assert k.shape == (3, 3, 4 // groups, 4)
    cin = kout = 4 // groups
    z = np.concatenate([ks.conv2d(x[..., g * cin:(g + 1) * cin].astype(np.float64), k[..., g * kout:(g + 1) * kout],
                                  b[g * kout:(g + 1) * kout], (strides, strides), padding) for g in range(groups)], -1)
    np.testing.assert_allclose(y, ks.relu(z), rtol=1e-4, atol=1e-5)
    assert tuple(conv.compute_output_shape((None, 7, 6, 4))[1:]) == y.shape[1:]
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx = conv.backward(dy)
    if groups == 1:
        rdx, rdk, rdb = ks.conv2d_backward(dy * (z > 0), x.astype(np.float64), k, (strides, strides), padding)
        np.testing.assert_allclose(dx, rdx, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(conv.kernel.grad, rdk, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(conv.bias.grad, rdb, rtol=1e-4, atol=1e-4)


def test_depthwise_conv_matches_per_channel_conv(rng):
    dw = layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same")
    x = rng.standard_normal((2, 5, 5, 3)).astype(np.float32)
    y = dw(x)
    k, b = dw.get_weights()
    assert k.shape == (3, 3, 3, 2) and y.shape == (2, 5, 5, 6)
    for c in range(3):
        for m in range(2):
            ref = ks.conv2d(x[..., c:c + 1].astype(np.float64), k[:, :, c:c + 1, m:m + 1].astype(np.float64),
                            b[c * 2 + m], padding="same")
            np.testing.assert_allclose(y[..., c * 2 + m], ref[..., 0], rtol=1e-4, atol=1e-5)


def test_dense_pooling_activation_layers(rng):
    x = rng.standard_normal((3, 4, 6, 2)).astype(np.float32)
    np.testing.assert_allclose(layers.MaxPooling2D()(x), ks.max_pool(x))
    np.testing.assert_allclose(layers.AveragePooling2D()(x), x.reshape(3, 2, 2, 3, 2, 2).mean((2, 4)), rtol=1e-6)
    np.testing.assert_allclose(layers.GlobalAveragePooling2D()(x), x.mean((1, 2)), rtol=1e-5)
    np.testing.assert_allclose(layers.GlobalMaxPooling2D()(x), x.max((1, 2)))
    np.testing.assert_allclose(layers.LeakyReLU()(x), ks.leaky_relu(x, 0.3), rtol=1e-6)
    np.testing.assert_allclose(layers.ReLU()(x), ks.relu(x))
    np.testing.assert_allclose(layers.Softmax()(x), ks.softmax(x.astype(np.float64)), rtol=1e-5)
    np.testing.assert_allclose(layers.Activation("tanh")(x), np.tanh(x), rtol=1e-5, atol=1e-6)
    zp = layers.ZeroPadding2D(((1, 0), (2, 1)))
    y = zp(x)
    assert y.shape == (3, 5, 9, 2) and np.array_equal(y[:, 1:, 2:8], x)
    np.testing.assert_array_equal(zp.backward(y), x)
    d = layers.Dense(5, activation="sigmoid")
    h = rng.standard_normal((2, 3, 4)).astype(np.float32)
    out = d(h)
    k, b = d.get_weights()
    np.testing.assert_allclose(out, 1 / (1 + np.exp(-(h @ k + b))), rtol=1e-5, atol=1e-6)
    assert layers.Reshape((-1, 2))(x).shape == (3, 24, 2)


def test_names_weights_and_configs():
    assert [layers.Conv2D(1, 1).name, layers.Conv2D(1, 1).name, layers.MaxPooling2D().name,
            layers.LeakyReLU().name, layers.BatchNormalization().name] == [
        "conv2d", "conv2d_1", "max_pooling2d", "leaky_re_lu", "batch_normalization"]
    bn = layers.BatchNormalization()
    bn.build((None, 5))
    assert [w.shape for w in bn.get_weights()] == [(5,)] * 4
    assert len(bn.trainable_weights) == 2 and len(bn.non_trainable_weights) == 2
    d = layers.Dense(3)
    d.build((None, 4))
    with pytest.raises(ValueError, match=r"dense.*\(4, 3\).*\(3, 4\)"):
        d.set_weights([np.zeros((3, 4)), np.zeros(3)])
    with pytest.raises(ValueError, match="expecting 2 weights"):
        d.set_weights([np.zeros((4, 3))])
    conv = layers.Conv2D(8, (3, 5), strides=2, padding="SAME", activation="relu", name="c")
    clone = layers.Conv2D.from_config(conv.get_config())
    assert (clone.kernel_size, clone.strides, clone.padding, clone.activation) == ((3, 5), (2, 2), "same", "relu")
    assert d.count_params() == 15


@pytest.mark.parametrize("make,match", [
    (lambda: layers.Conv2D(-1, 3), "filters"),
    (lambda: layers.Conv2D(4, 3, strides=0), "strides"),
    (lambda: layers.Conv2D(4, 0), "kernel_size"),
    (lambda: layers.Dropout(1.0), "rate"),
    (lambda: layers.Dense(0), "units"),
    (lambda: layers.MaxPooling2D(padding="full"), "padding"),
    (lambda: layers.Conv2D(4, 3, activation="swishy"), "activation"),
])
def test_bad_layer_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_unknown_keyword_is_type_error():
    with pytest.raises(TypeError, match="kernal_size"):
        layers.Conv2D(4, 3, kernal_size=3)


def test_wrong_input_shape_names_layer(rng):
    conv = layers.Conv2D(4, 3, input_shape=(8, 8, 3))
    conv.build((None, 8, 8, 3))
    with pytest.raises(ValueError, match=r'layer "conv2d".*expected shape=\(None, None, None, 3\)'):
        conv(np.zeros((1, 8, 8, 2), np.float32))
