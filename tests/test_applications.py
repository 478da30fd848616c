"""The tutorials' networks: exact parameter counts, shapes, and a training step."""

import numpy as np
import pytest

pytest.importorskip("pycnn.models")
from pycnn import applications  # noqa: E402
from pycnn.applications import recipes  # noqa: E402

# (total, trainable, input shape, output shape) as Keras reports them.
EXPECTED = {
    "mnist": (93_322, 93_322, (28, 28, 1), (10,)),
    "cifar10": (592_554, 591_914, (32, 32, 3), (10,)),
    "cifar10-mlp": (646_260, 646_260, (32, 32, 3), (10,)),
    "two-conv": (206_910, 206_910, (32, 32, 3), (10,)),
    "faces": (5_595_042, 5_595_042, (112, 92, 3), (2,)),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_parameter_counts_and_shapes(name):
    model = applications.get(name)()
    total, trainable, in_shape, out_shape = EXPECTED[name]
    assert model.count_params() == total
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == trainable
    assert tuple(model.input_shape[1:]) == in_shape
    assert tuple(model.output_shape[1:]) == out_shape


def test_faces_feature_map_sizes():
    model = applications.faces_gender_cnn()
    pools = [l for l in model.layers if type(l).__name__ == "MaxPooling2D"]
    assert [tuple(l.output.shape[1:]) for l in pools] == [(56, 46, 16), (28, 23, 32), (14, 12, 64)]


def test_unknown_network():
    with pytest.raises(ValueError, match="unknown network 'resnet'; choose one of: mnist"):
        applications.get("resnet")


@pytest.mark.parametrize("name", ["mnist", "cifar10"])
def test_recipe_trains_a_step(name, rng):
    recipe = recipes.get(name)
    model = recipe.build()
    model.compile(optimizer=recipe.make_optimizer(), loss="sparse_categorical_crossentropy")
    x = rng.random((4,) + tuple(model.input_shape[1:]), dtype=np.float32)
    y = rng.integers(0, 10, 4)
    before = [w.copy() for w in model.get_weights()]
    loss = model.train_on_batch(x, y)
    assert np.isfinite(loss)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_recipe_data_embedded_mnist():
    (x, y), (xt, yt), description, names = recipes.load("mnist", subset="embedded")
    assert x.shape == (6000, 28, 28, 1) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert xt.shape == (1000, 28, 28, 1) and y.dtype == np.int64
    assert "embedded subset" in description and len(names) == 10
