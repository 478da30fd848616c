"""model.summary() and parameter counts of the seed networks."""

import pytest

import pycnn
from pycnn import layers, models


def capture(model):
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def mnist_cnn(head=True):
    model = models.Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    if head:
        model.add(layers.Flatten())
        model.add(layers.Dense(64, activation="relu"))
        model.add(layers.Dense(10, activation="softmax"))
    return model


def small_two_conv():
    # Seed 000's functional two-conv model, reconstructed from its parameter count (206,910):
    # 280 + 1,820 + 204,810 = 206,910.
    inp = layers.Input((32, 32, 3))
    x = layers.Conv2D(10, 3, padding="same", activation="relu")(inp)
    x = layers.Conv2D(20, 3, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    out = layers.Dense(10, activation="softmax")(x)
    return models.Model(inp, out)


def cifar_bn():
    model = models.Sequential([layers.Input((32, 32, 3))])
    for filters, stride in ((32, 1), (32, 2), (64, 1), (64, 2)):
        model.add(layers.Conv2D(filters, 3, strides=stride, padding="same"))
        model.add(layers.BatchNormalization())
        model.add(layers.LeakyReLU())
    model.add(layers.Flatten())
    model.add(layers.Dense(128))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(10, activation="softmax"))
    return model


def face_net():
    model = models.Sequential([layers.Input((112, 92, 3))])
    for filters in (16, 32, 64):
        model.add(layers.Conv2D(filters, 3, padding="same", activation="relu"))
        model.add(layers.MaxPooling2D(2, padding="same"))
    model.add(layers.Flatten())
    model.add(layers.Dense(512, activation="relu"))
    model.add(layers.Dense(128, activation="relu"))
    model.add(layers.Dense(2, activation="softmax"))
    return model


@pytest.fixture(autouse=True)
def fresh_names():
    pycnn.utils.clear_session()


def test_mnist_cnn_table():
    text = capture(mnist_cnn(head=False))
    assert "Total params: 55,744" in text
    text = capture(mnist_cnn())
    assert 'Model: "sequential_1"' in text
    for header in ("Layer (type)", "Output Shape", "Param #"):
        assert header in text.splitlines()[2]
    rows = [l.split() for l in text.splitlines() if "(" in l and ")" in l and "params" not in l]
    assert ["conv2d_3", "(Conv2D)", "(None,", "26,", "26,", "32)", "320"] in rows
    assert ["dense_1", "(Dense)", "(None,", "10)", "650"] in rows
    assert "InputLayer" not in text
    assert "Total params: 93,322" in text and "Trainable params: 93,322" in text
    assert "Non-trainable params: 0" in text
    assert all(ord(c) < 128 for c in text), "plain text only"


def test_functional_two_conv_shows_input_layer():
    model = small_two_conv()
    text = capture(model)
    assert "input_layer (InputLayer)" in text and "(None, 32, 32, 3)" in text
    assert "flatten (Flatten)" in text and "(None, 20480)" in text
    assert model.count_params() == 206_910
    assert "Total params: 206,910" in text
    assert [l.name for l in model.layers] == ["conv2d", "conv2d_1", "flatten", "dense"]


def test_cifar_bn_counts():
    model = cifar_bn()
    text = capture(model)
    assert "Total params: 592,554" in text
    assert "Trainable params: 591,914" in text
    assert "Non-trainable params: 640" in text
    assert "leaky_re_lu_4 (LeakyReLU)" in text and "batch_normalization_4" in text
    assert model.get_layer("flatten").output_shape == (None, 4096)


def test_face_net_counts():
    model = face_net()
    assert model.count_params() == 5_595_042
    assert model.get_layer("flatten").output_shape == (None, 10752)
    assert "Total params: 5,595,042" in capture(model)


def test_branching_graph_has_connected_to_column():
    a, b = layers.Input((4,), name="a"), layers.Input((4,), name="b")
    shared = layers.Dense(3, name="shared")
    out = layers.Add()([shared(a), shared(b)])
    text = capture(models.Model([a, b], out))
    assert "Connected to" in text
    assert "shared[0][0], shared[1][0]" in text
    assert "Total params: 15" in text
