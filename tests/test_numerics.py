"""Numerics at the edges of float32: activations, softmax and the losses with
logits of ±1e4, ±1e30 and ±3e38, batch norm with constant (zero-variance)
channels and huge values, and the model-level losses and a training step on
such inputs. Results must stay finite wherever the exact value is, and match
the float64 references (a float64 value beyond float32's range must come out
as the matching infinity)."""

import numpy as np
import pytest

import pycnn
from pycnn import _core, layers, losses, models, ops, optimizers
from reference import activations as ref_act
from reference import losses as ref_loss
from reference import normalization as ref_bn

ISAS = _core.supported_isas()
SCALES = [1e4, 1e30, 3e38]
F32_MAX = float(np.finfo(np.float32).max)


@pytest.fixture(autouse=True)
def restore_isa():
    yield
    _core.set_isa(None)


def extreme_logits(scale, rng):
    """Rows mixing ±scale with zeros and small values; C = 5 and 17 (a SIMD tail)."""
    rows = []
    for c in (5, 17):
        for _ in range(6):
            row = rng.choice([scale, -scale, 0.0, 0.5, -2.0], c)
            row[rng.integers(c)] = rng.choice([scale, -scale])
            rows.append(row)
    return [np.array(rows[:6], np.float32), np.array(rows[6:], np.float32)]


def as_f32(v):
    """A float64 reference as float32 would hold it (beyond the range: ±inf)."""
    with np.errstate(over="ignore"):
        return np.asarray(v, np.float64).astype(np.float32)


def assert_close(actual, expected, rtol=1e-5, atol=1e-6, what=""):
    expected = as_f32(expected)
    finite = np.isfinite(expected)
    assert np.isfinite(actual[finite]).all(), f"{what}: non-finite where the exact value is finite"
    np.testing.assert_array_equal(actual[~finite], expected[~finite], err_msg=what)
    with np.errstate(invalid="ignore"):
        err = np.abs(actual.astype(np.float64) - expected)
    bad = finite & ~(err <= atol + rtol * np.abs(expected))  # atol may be per channel (broadcast)
    if bad.any():
        i = np.unravel_index(np.argmax(np.where(bad, err, -1)), bad.shape)
        raise AssertionError(f"{what}: {bad.sum()} of {bad.size} elements off; worst at {i}: "
                             f"{actual[i]!r}, expected {expected[i]!r}")


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("scale", SCALES)
def test_activations_forward_backward(isa, scale, rng):
    _core.set_isa(isa)
    for z in extreme_logits(scale, rng):
        z64 = z.astype(np.float64)
        dy = rng.standard_normal(z.shape).astype(np.float32)
        for name, alpha in (("sigmoid", None), ("tanh", None), ("elu", 1.0), ("elu", 0.7)):
            y = ops.activation(z, name, alpha)
            a = 1.0 if alpha is None else alpha
            assert_close(y, ref_act.FORWARD[name](z64, a), what=f"{name} forward")
            expected = ref_act.BACKWARD[name](dy.astype(np.float64), z64, a)
            assert_close(ops.activation_backward(dy, name, x=z, alpha=alpha), expected, what=f"{name} backward(x)")
            assert_close(ops.activation_backward(dy, name, y=y, alpha=alpha), expected, what=f"{name} backward(y)")
        y = ops.softmax(z)
        assert_close(y, ref_act.softmax(z64), what="softmax")
        assert_close(ops.softmax_backward(dy, y), ref_act.softmax_backward(dy.astype(np.float64), z64),
                     what="softmax backward")


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("scale", SCALES)
def test_softmax_cross_entropy(isa, scale, rng):
    _core.set_isa(isa)
    for z in extreme_logits(scale, rng):
        labels = rng.integers(0, z.shape[1], z.shape[0])
        onehot = np.eye(z.shape[1], dtype=np.float32)[labels]
        loss_ref, grad_ref = ref_loss.softmax_cross_entropy(z.astype(np.float64), onehot.astype(np.float64))
        for got in (ops.softmax_cross_entropy(z, onehot), ops.softmax_cross_entropy(z, labels, sparse=True)):
            assert_close(got[0], loss_ref, what="loss")
            assert_close(got[1], grad_ref, what="dlogits")


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("scale", SCALES)
def test_binary_cross_entropy(isa, scale, rng):
    _core.set_isa(isa)
    for z in extreme_logits(scale, rng):
        t = (rng.random(z.shape) < 0.5).astype(np.float32)
        t64 = t.astype(np.float64)
        loss, grad = ops.binary_cross_entropy(z, t, from_logits=True)
        loss_ref, grad_ref = ref_loss.binary_cross_entropy_logits(z.astype(np.float64), t64)
        assert_close(loss, loss_ref, what="from_logits loss")
        assert_close(grad, grad_ref, what="from_logits grad")
        # probabilities: saturated sigmoids (exact 0 and 1) and values far outside [0, 1]
        for p in (ops.sigmoid(z), z):
            loss, grad = ops.binary_cross_entropy(p, t)
            loss_ref, grad_ref = ref_loss.binary_cross_entropy(p.astype(np.float64), t64)
            assert_close(loss, loss_ref, what="probabilities loss")
            assert_close(grad, grad_ref, what="probabilities grad")


@pytest.mark.parametrize("scale", SCALES)
def test_categorical_cross_entropy(scale, rng):
    for z in extreme_logits(scale, rng):
        labels = rng.integers(0, z.shape[1], z.shape[0])
        onehot = np.eye(z.shape[1], dtype=np.float32)[labels]
        # saturated softmax outputs, and huge unnormalised scores (row sums beyond float32)
        for p in (ops.softmax(z), np.abs(z)):
            loss_ref, grad_ref = ref_loss.categorical_cross_entropy(p.astype(np.float64), onehot.astype(np.float64))
            for got in (ops.categorical_cross_entropy(p, onehot), ops.categorical_cross_entropy(p, labels, sparse=True)):
                assert_close(got[0], loss_ref, what="loss")
                # a_j and sum_j a_j q_j cancel where q_j is near 1: absolute tolerance on the row's scale
                assert_close(got[1], grad_ref, atol=1e-6 * np.abs(grad_ref).max() + 1e-45, what="dprobs")


def huge_channels(rng, m=600):
    """(m, 6): constant 3e38, constant -1e30, 1e20 ± 1e15, 1e19-scale noise,
    1e4 ± 1, N(0, 1). 600 rows span several reduction chunks."""
    n = lambda: rng.standard_normal(m)
    cols = [np.full(m, 3e38), np.full(m, -1e30), 1e20 + 1e15 * n(), 1e19 * n(), 1e4 + n(), n()]
    return np.stack(cols, axis=1).astype(np.float32)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("copies", [1, 4])  # 4 channels (width at run time) or 16 (a constant width)
def test_batch_norm_variance_beyond_float_range(isa, copies, rng):
    # Spreads of 1e21 and 1e25: the variances (1e42, 1e50) exceed float32,
    # their inv_std (1e-21, 1e-25) do not, and y is still normalised.
    _core.set_isa(isa)
    x = (rng.standard_normal((200, 4 * copies)) * np.tile([1e21, 1e25, 1e-3, 1.0], copies)).astype(np.float32)
    c = x.shape[1]
    y, mean, inv_std = ops.batch_norm_train(x, None, None, np.zeros(c, np.float32), np.ones(c, np.float32))
    _, mean_ref, is_ref, _, _ = ref_bn.batch_norm_train(x, None, None, np.zeros(c), np.ones(c), 0.99, 1e-3)
    assert_close(inv_std, is_ref, rtol=1e-5, atol=0, what="inv_std")
    assert_close(mean, mean_ref, rtol=1e-5, atol=1e-6 * np.abs(x).max(axis=0), what="mean")
    np.testing.assert_allclose(y[:, 0::4].std(axis=0), 1.0, rtol=1e-3)
    np.testing.assert_allclose(y[:, 1::4].std(axis=0), 1.0, rtol=1e-3)


@pytest.mark.parametrize("isa", ISAS)
def test_batch_norm_zero_variance_and_huge_values(isa, rng):
    _core.set_isa(isa)
    x = huge_channels(rng)
    c = x.shape[1]
    gamma = rng.uniform(0.5, 2, c).astype(np.float32)
    beta = rng.standard_normal(c).astype(np.float32)
    mm, mv = np.zeros(c, np.float32), np.ones(c, np.float32)
    y, mean, inv_std = ops.batch_norm_train(x, gamma, beta, mm, mv, momentum=0.9, epsilon=1e-3)
    y_ref, mean_ref, is_ref, mm_ref, mv_ref = ref_bn.batch_norm_train(x, gamma, beta, np.zeros(c), np.ones(c),
                                                                      0.9, 1e-3)
    assert_close(mean, mean_ref, rtol=1e-6, atol=0, what="mean")
    assert_close(inv_std, is_ref, rtol=1e-5, atol=0, what="inv_std")
    assert_close(mm, mm_ref, rtol=1e-6, atol=0, what="moving mean")
    assert_close(mv, mv_ref, rtol=1e-5, atol=0, what="moving variance")
    assert_close(y, y_ref, rtol=1e-4, atol=1e-4, what="y")
    np.testing.assert_array_equal(y[:, :2], np.broadcast_to(beta[:2], (x.shape[0], 2)))  # x == mean exactly

    mv_in = as_f32(mv_ref)
    y_inf = ops.batch_norm_inference(x, gamma, beta, as_f32(mm_ref), mv_in, epsilon=1e-3)
    assert_close(y_inf, ref_bn.batch_norm_inference(x, gamma, beta, as_f32(mm_ref), mv_in, 1e-3),
                 rtol=1e-4, atol=1e-4, what="inference y")

    dy = rng.standard_normal(x.shape).astype(np.float32)
    dx, dgamma, dbeta = ops.batch_norm_backward(dy, x, gamma, mean, inv_std)
    # the exact batch statistics: the kernel re-centres on the exact mean, not on its float32 rounding
    dx_ref, dg_ref, db_ref = ref_bn.batch_norm_backward(dy, x, gamma, mean_ref, is_ref)
    # float accumulators within a chunk: error ~ chunk rows · eps · sum |term|
    xhat = (x - mean_ref) * is_ref
    assert_close(dbeta, db_ref, rtol=0, atol=1e-5 * np.abs(dy).sum(axis=0), what="dbeta")
    assert_close(dgamma, dg_ref, rtol=0, atol=1e-5 * np.abs(dy * xhat).sum(axis=0), what="dgamma")
    # dx per channel scales with inv_std (1e-19 for the widest channel)
    assert_close(dx, dx_ref, rtol=0, atol=1e-4 * np.abs(dx_ref).max(axis=0), what="dx")


def test_batch_norm_layer_on_constant_input_trains():
    """A BatchNormalization layer fed a constant (zero-variance) batch of huge values."""
    x = np.full((4, 3, 3, 2), 3e38, np.float32)
    x[..., 1] = -1e30
    model = models.Sequential([layers.Input((3, 3, 2)), layers.BatchNormalization(), layers.Flatten(),
                               layers.Dense(2)])
    model.compile(optimizer=optimizers.SGD(0.01), loss="mse")
    loss = model.train_on_batch(x, np.zeros((4, 2), np.float32))
    assert np.isfinite(loss)
    assert all(np.isfinite(w).all() for w in model.get_weights())


def logit_model(scale, activation, classes=3):
    """Dense without bias whose kernel is scale·I, so logits are x·scale."""
    model = models.Sequential([layers.Input((classes,)), layers.Dense(classes, activation=activation, use_bias=False)])
    model.layers[-1].set_weights([np.eye(classes, dtype=np.float32) * np.float32(scale)])
    return model


# Inputs in {-1, 0, 1}: logits are 0 or ±scale; each label sits on the row's
# maximum or on a 0 next to a +scale, so every exact loss is finite.
X3 = np.array([[1, -1, 0], [0, 0, 1], [1, 1, -1], [-1, 0, 1], [0, -1, -1]], np.float32)
LABELS3 = np.array([0, 1, 0, 2, 0])


@pytest.mark.parametrize("scale", SCALES)
def test_loss_objects(scale):
    z = X3 * np.float32(scale)
    onehot = np.eye(3, dtype=np.float32)[LABELS3]
    per_sample = ref_loss.softmax_cross_entropy(z.astype(np.float64), onehot.astype(np.float64))[0]
    expected = per_sample.mean()
    for loss, y in ((losses.CategoricalCrossentropy(from_logits=True), onehot),
                    (losses.SparseCategoricalCrossentropy(from_logits=True), LABELS3)):
        got = float(loss(y, z))
        assert np.isfinite(got) and got == pytest.approx(expected, rel=1e-5, abs=1e-6)
    t = (X3 > 0).astype(np.float32)
    expected = ref_loss.binary_cross_entropy_logits(z.astype(np.float64), t.astype(np.float64))[0].mean()
    got = float(losses.BinaryCrossentropy(from_logits=True)(t, z))
    assert np.isfinite(got) and got == pytest.approx(expected, rel=1e-5, abs=1e-6)
    got = float(losses.CategoricalCrossentropy()(onehot, ops.softmax(z)))
    assert np.isfinite(got)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("head", ["softmax+categorical", "logits+sparse", "sigmoid+binary", "logits+binary"])
def test_fit_step_on_extreme_logits(head, scale):
    activation, loss = {
        "softmax+categorical": ("softmax", "categorical_crossentropy"),
        "logits+sparse": (None, losses.SparseCategoricalCrossentropy(from_logits=True)),
        "sigmoid+binary": ("sigmoid", "binary_crossentropy"),
        "logits+binary": (None, losses.BinaryCrossentropy(from_logits=True)),
    }[head]
    model = logit_model(scale, activation)
    model.compile(optimizer=optimizers.SGD(0.1), loss=loss)
    if head.endswith("binary"):
        y = (X3 > 0).astype(np.float32)
    elif head.endswith("sparse"):
        y = LABELS3
    else:
        y = np.eye(3, dtype=np.float32)[LABELS3]
    hist = model.fit(X3, y, batch_size=len(X3), epochs=1, shuffle=False, verbose=0)
    assert np.isfinite(hist.history["loss"][0])
    (kernel,) = model.get_weights()
    assert np.isfinite(kernel).all()
    assert np.isfinite(model.evaluate(X3, y, verbose=0))
    if head == "softmax+categorical":
        z = (X3 * np.float32(scale)).astype(np.float64)
        expected = ref_loss.softmax_cross_entropy(z, np.eye(3)[LABELS3])[0].mean()
        assert hist.history["loss"][0] == pytest.approx(expected, rel=1e-5, abs=1e-6)
