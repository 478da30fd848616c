"""The pieces `pycnn bench` and benchmarks/nets.py time: the pycnn workloads and
the PyTorch twins of the tutorials' networks (skipped without torch)."""

import numpy as np
import pytest

pytest.importorskip("pycnn.models")
from pycnn.applications import bench, get  # noqa: E402

NETS = {"mnist": ((93_322, 93_322), 64, 10), "cifar10": ((591_914, 592_554), 32, 10),
        "faces": ((5_595_042, 5_595_042), 16, 2)}


@pytest.mark.parametrize("name", list(NETS))
def test_training_config_is_the_recipe(name):
    batch, optimizer, learning_rate = bench.training_config(name)
    assert batch == NETS[name][1] and optimizer in ("RMSprop", "Adam") and learning_rate > 0


def test_pycnn_training_step_updates_weights():
    step, model = bench.pycnn_training_step("mnist", batch=8)
    before = [w.numpy().copy() for w in model.trainable_weights]
    loss = step()
    assert np.isfinite(loss)
    assert all(not np.array_equal(b, w.numpy()) for b, w in zip(before, model.trainable_weights))


def test_pycnn_inference_gives_probabilities():
    predict, _ = bench.pycnn_inference("cifar10", batch=3)
    probs = predict()
    assert probs.shape == (3, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", list(NETS))
def test_torch_twin_matches_pycnn(name):
    torch = pytest.importorskip("torch")
    from pycnn.applications import torch_reference as ref

    model = get(name)()
    pycnn_counts = (sum(w.numpy().size for w in model.trainable_weights), model.count_params())
    net = ref.build(torch, name)
    assert ref.parameter_counts(net) == pycnn_counts == NETS[name][0]
    x = torch.rand((2,) + ref.SHAPES[name])
    assert tuple(net.eval()(x).shape) == (2, NETS[name][2])
    # Keras' layout NHWC is the PyTorch layout NCHW transposed.
    assert tuple(model.input_shape[1:]) == ref.SHAPES[name][1:] + ref.SHAPES[name][:1]


@pytest.mark.parametrize("tuned", [False, True], ids=["default", "tuned"])
def test_torch_step_and_inference_run(tuned):
    torch = pytest.importorskip("torch")
    from pycnn.applications import torch_reference as ref

    step, net = ref.training_step(torch, "cifar10", 4, "Adam", 1e-3, tuned=tuned)
    before = [p.detach().clone() for p in net.parameters()]
    assert torch.isfinite(step())
    assert all(not torch.equal(b, p) for b, p in zip(before, net.parameters()))
    predict, _ = ref.inference(torch, "cifar10", 5, tuned=tuned)
    assert tuple(predict().shape) == (5, 10)


def test_torch_optimizers_carry_keras_hyperparameters():
    torch = pytest.importorskip("torch")
    from pycnn.applications import torch_reference as ref

    params = [torch.nn.Parameter(torch.zeros(3))]
    rms = ref.make_optimizer(torch, params, "RMSprop", 1e-3).defaults
    assert (rms["alpha"], rms["eps"], rms["lr"]) == (0.9, 1e-7, 1e-3)
    adam = ref.make_optimizer(torch, params, "Adam", 5e-4, tuned=True).defaults
    assert (adam["betas"], adam["eps"], adam["fused"]) == ((0.9, 0.999), 1e-7, True)
    with pytest.raises(ValueError, match="unsupported optimizer"):
        ref.make_optimizer(torch, params, "Adagrad", 1e-3)
