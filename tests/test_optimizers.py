"""Optimizers: multi-step trajectories vs float64 NumPy versions of the
Keras 3 formulas, every ISA, thread determinism and bad input."""

import numpy as np
import pytest

import pycnn
from pycnn import _core, ops
from reference import optimizers as ref

ISAS = _core.supported_isas()
VARIANTS = {
    "sgd": dict(momentum=0.0), "sgd_momentum": dict(momentum=0.9), "sgd_nesterov": dict(momentum=0.8, nesterov=True),
    "rmsprop": dict(), "rmsprop_momentum": dict(momentum=0.5), "rmsprop_centered": dict(centered=True),
    "rmsprop_centered_momentum": dict(centered=True, momentum=0.9),
    "adam": dict(), "adam_amsgrad": dict(amsgrad=True), "adamw": dict(weight_decay=0.05),
    "adamw_amsgrad": dict(weight_decay=0.004, amsgrad=True),
}
SIZES = [1, 2, 3, 13, 16, 17, 31, 33, 100]


@pytest.fixture(autouse=True)
def restore_runtime():
    threads = pycnn.get_num_threads()
    yield
    _core.set_isa(None)
    pycnn.set_num_threads(threads)


def random_shapes(rng):
    shapes = [tuple(int(d) for d in rng.choice(SIZES, rng.integers(1, 4))) for _ in range(rng.integers(1, 6))]
    if rng.random() < 0.3:
        shapes.append((int(rng.integers(20_000, 40_000)),))  # big enough to be split over threads
    return shapes


def slot_names(variant, h):
    if variant.startswith("sgd"):
        return ["velocities"] if h.get("momentum") else []
    if variant.startswith("rmsprop"):
        return ["velocities"] + (["momenta"] if h.get("momentum") else []) + (["average_grads"] if h.get("centered") else [])
    return ["m", "v"] + (["v_hat"] if h.get("amsgrad") else [])


def run_kernel(variant, params, grads, slots, h, step):
    lr = h["learning_rate"]
    if variant.startswith("sgd"):
        ops.sgd_update(params, grads, slots.get("velocities"), learning_rate=lr, momentum=h["momentum"],
                       nesterov=h.get("nesterov", False))
    elif variant.startswith("rmsprop"):
        ops.rmsprop_update(params, grads, slots["velocities"], learning_rate=lr, rho=h["rho"], epsilon=h["epsilon"],
                           momentum=h.get("momentum", 0.0), momenta=slots.get("momenta"),
                           centered=h.get("centered", False), average_grads=slots.get("average_grads"))
    else:
        ops.adam_update(params, grads, slots["m"], slots["v"], learning_rate=lr, step=step, beta_1=h["beta_1"],
                        beta_2=h["beta_2"], epsilon=h["epsilon"], amsgrad=h.get("amsgrad", False),
                        v_hat=slots.get("v_hat"), weight_decay=h.get("weight_decay", 0.0))


def run_reference(variant, params, grads, slots, h, step):
    for i, (p, g) in enumerate(zip(params, grads)):
        s = {k: v[i] for k, v in slots.items()}
        if variant.startswith("sgd"):
            ref.sgd_step(p, g, s.get("velocities"), h["learning_rate"], h["momentum"], h.get("nesterov", False))
        elif variant.startswith("rmsprop"):
            ref.rmsprop_step(p, g, s["velocities"], h["learning_rate"], h["rho"], h["epsilon"], h.get("momentum", 0.0),
                             s.get("momenta"), h.get("centered", False), s.get("average_grads"))
        else:
            ref.adam_step(p, g, s["m"], s["v"], h["learning_rate"], step, h["beta_1"], h["beta_2"], h["epsilon"],
                          h.get("amsgrad", False), s.get("v_hat"), h.get("weight_decay", 0.0))


def hyper(variant, rng):
    h = dict(VARIANTS[variant], learning_rate=float(rng.choice([0.001, 0.01, 0.1])))
    h.update(rho=float(rng.choice([0.9, 0.95])), epsilon=float(rng.choice([1e-7, 1e-3])),
             beta_1=float(rng.choice([0.9, 0.5])), beta_2=float(rng.choice([0.999, 0.9])))
    return h


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("seed", range(20))
def test_trajectory_matches_float64_keras_formula(variant, seed):
    rng = np.random.default_rng(seed)
    shapes = random_shapes(rng)
    h = hyper(variant, rng)
    names = slot_names(variant, h)
    p0 = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [[(rng.standard_normal(s) * rng.choice([0.01, 1.0, 10.0])).astype(np.float32) for s in shapes]
             for _ in range(4)]
    ref_params = [p.astype(np.float64) for p in p0]
    ref_slots = {k: [np.zeros(s) for s in shapes] for k in names}
    for step, g in enumerate(grads, start=1):
        run_reference(variant, ref_params, [x.astype(np.float64) for x in g], ref_slots, h, step)
    for isa in ISAS:
        _core.set_isa(isa)
        params = [p.copy() for p in p0]
        slots = {k: [np.zeros(s, np.float32) for s in shapes] for k in names}
        for step, g in enumerate(grads, start=1):
            # gradients may be any layout / dtype; float64 transposed copies here and there
            g_in = [x.astype(np.float64) if i % 2 else x for i, x in enumerate(g)]
            run_kernel(variant, params, g_in, slots, h, step)
        for got, want in zip(params, ref_params):
            np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6, err_msg=f"{variant} params on {isa}")
        for k in names:
            for got, want in zip(slots[k], ref_slots[k]):
                np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6 * max(1.0, np.abs(want).max()),
                                           err_msg=f"{variant} {k} on {isa}")


@pytest.mark.parametrize("variant", ["sgd_nesterov", "rmsprop_centered_momentum", "adamw_amsgrad"])
@pytest.mark.parametrize("isa", ISAS)
def test_threads_bitwise_identical(variant, isa, rng):
    _core.set_isa(isa)
    shapes = [(3, 3, 1, 32), (32,), (70_001,), (5,), (13, 17), (40_000,)]
    h = hyper(variant, rng)
    p0 = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    g = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    results = []
    for threads in (1, 2):
        pycnn.set_num_threads(threads)
        params = [p.copy() for p in p0]
        slots = {k: [np.full(s, 0.1, np.float32) for s in shapes] for k in slot_names(variant, h)}
        for step in (1, 2, 3):
            run_kernel(variant, params, g, slots, h, step)
        results.append(params + [a for k in sorted(slots) for a in slots[k]])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


FACTORED_SHAPES = [(1, 1, 1), (3, 5, 7), (16, 67, 128), (16, 300, 130), (33, 9, 515), (0, 4, 9), (2, 40, 600)]


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("isa", ISAS)
def test_factored_gradient_updates_like_the_stored_matrix(variant, isa, rng):
    # A dense kernel's gradient x^T dy given as its factors: the update
    # computes it piece by piece, summed as the GEMM sums it, so the result
    # is the stored matrix's bit for bit. Mixed with stored gradients and
    # big enough at (2, 40, 600) that the thread split falls inside a row.
    _core.set_isa(isa)
    h = hyper(variant, rng)
    names = slot_names(variant, h)
    shapes, grads_stored, grads_factored = [], [], []
    for rows, n_in, n_out in FACTORED_SHAPES:
        a = rng.standard_normal((rows, n_in)).astype(np.float32)
        b = (rng.standard_normal((rows, n_out)) * rng.choice([0.01, 1.0])).astype(np.float32)
        g = ops.FactoredGradient(a, b)
        want = a.astype(np.float64).T @ b.astype(np.float64)
        np.testing.assert_allclose(np.asarray(g), want, rtol=1e-5, atol=1e-5 * max(1.0, np.abs(want).max()))
        shapes.append((n_in, n_out))
        grads_stored.append(np.asarray(g))
        grads_factored.append(g)
        shapes.append((int(rng.integers(1, 50)),))
        grads_stored.append(rng.standard_normal(shapes[-1]).astype(np.float32))
        grads_factored.append(grads_stored[-1])
    p0 = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    results = []
    for grads, threads in ((grads_stored, 1), (grads_factored, 1), (grads_factored, 2)):
        pycnn.set_num_threads(threads)
        params = [p.copy() for p in p0]
        slots = {k: [np.full(s, 0.01, np.float32) for s in shapes] for k in names}
        for step in (1, 2):
            run_kernel(variant, params, grads, slots, h, step)
        results.append(params + [a for k in sorted(slots) for a in slots[k]])
    for stored, factored, factored_2 in zip(*results):
        np.testing.assert_array_equal(factored, stored)
        np.testing.assert_array_equal(factored_2, stored)


def test_factored_gradient_behaves_as_its_matrix(rng):
    a, b = rng.standard_normal((4, 6)), rng.standard_normal((4, 3))
    g = ops.FactoredGradient(a, b)  # float64 factors are converted once
    assert g.shape == (6, 3) and g.a.dtype == np.float32
    want = a.T @ b
    np.testing.assert_allclose(np.asarray(g), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g + np.ones((6, 3)), want + 1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.ones((6, 3)) + g, want + 1, rtol=1e-5, atol=1e-6)
    assert np.asarray(g, dtype=np.float64).dtype == np.float64


def test_empty_lists_and_arrays():
    ops.adam_update([], [], [], [], learning_rate=0.1, step=1)
    p = np.zeros((0, 3), np.float32)
    ops.sgd_update([p], [np.zeros((0, 3))], [np.zeros((0, 3), np.float32)], learning_rate=0.1, momentum=0.9)


def test_single_array_and_keras_example():
    # keras.optimizers.RMSprop docstring: lr 0.1, var 10, grad = var -> 9.683772
    var = np.array([10.0], np.float32)
    ops.rmsprop_update(var, var.copy(), np.zeros(1, np.float32), learning_rate=0.1)
    np.testing.assert_allclose(var, [9.683772], rtol=1e-6)


def f32(*shape):
    return np.zeros(shape, np.float32)


@pytest.mark.parametrize("call, match", [
    (lambda: ops.adam_update([np.zeros(3)], [f32(3)], [f32(3)], [f32(3)], learning_rate=0.1, step=1),
     r"\[adam_update\] params\[0\] must be a writeable float32 C-contiguous array .*float64"),
    (lambda: ops.adam_update([f32(3, 4).T], [f32(4, 3)], [f32(4, 3)], [f32(4, 3)], learning_rate=0.1, step=1),
     r"\[adam_update\] params\[0\] must be .*C-contiguous=False"),
    (lambda: ops.adam_update([f32(3)], [f32(4)], [f32(3)], [f32(3)], learning_rate=0.1, step=1),
     r"\[adam_update\] grads\[0\] has shape \(4,\) but params\[0\] has shape \(3,\)"),
    (lambda: ops.adam_update([f32(3)], [f32(3)], [f32(2)], [f32(3)], learning_rate=0.1, step=1),
     r"\[adam_update\] m\[0\] has shape \(2,\)"),
    (lambda: ops.adam_update([f32(3), f32(2)], [f32(3)], [f32(3)], [f32(3)], learning_rate=0.1, step=1),
     r"\[adam_update\] expected one gradient per parameter"),
    (lambda: ops.adam_update([f32(3)], [f32(3)], [f32(3)], [f32(3)], learning_rate=0.1, step=0),
     r"\[adam_update\] expected the 1-based iteration `step`"),
    (lambda: ops.adam_update([f32(3)], [f32(3)], [f32(3)], [f32(3)], learning_rate=0.1, step=1, amsgrad=True),
     r"\[adam_update\] amsgrad=True needs `v_hat`"),
    (lambda: ops.adam_update([f32(3)], [f32(3)], [f32(3)], [f32(3)], learning_rate=0.1, step=1, beta_1=1.0),
     r"\[adam_update\] expected `beta_1` in \[0.0, 1.0\)"),
    (lambda: ops.adam_update([f32(3)], [np.ones(3, complex)], [f32(3)], [f32(3)], learning_rate=0.1, step=1),
     r"\[adam_update\] expected `grads\[0\]` with a real numeric dtype"),
    (lambda: (lambda a: ops.adam_update([a], [f32(3)], [a], [f32(3)], learning_rate=0.1, step=1))(f32(3)),
     r"\[adam_update\] m\[0\] is the same array as params\[0\]"),
    (lambda: (lambda a: ops.adam_update([a[:4], f32(3)], [f32(4), f32(3)], [f32(4), f32(3)], [f32(4), a[3:6]],
                                        learning_rate=0.1, step=1))(f32(8)),
     r"\[adam_update\] v\[1\] overlaps params\[0\]; every array updated in place must be distinct"),
    (lambda: (lambda a: ops.rmsprop_update([f32(3), a], [f32(3), f32(3)], [a, f32(3)], learning_rate=0.1))(f32(3)),
     r"\[rmsprop_update\] params\[1\] is the same array as velocities\[0\]"),
    (lambda: (lambda a: (a.setflags(write=False), ops.sgd_update([a], [f32(3)], learning_rate=0.1)))(f32(3)),
     r"\[sgd_update\] params\[0\] must be a writeable"),
    (lambda: ops.sgd_update([f32(3)], [f32(3)], learning_rate=0.1, momentum=0.9),
     r"\[sgd_update\] momentum != 0 needs `velocities`"),
    (lambda: ops.sgd_update([f32(3)], [f32(3)], learning_rate=float("inf")), r"\[sgd_update\] expected `learning_rate`"),
    (lambda: ops.rmsprop_update([f32(3)], [f32(3)], [f32(3)], learning_rate=0.1, centered=True),
     r"\[rmsprop_update\] centered=True needs `average_grads`"),
    (lambda: ops.rmsprop_update([f32(3)], [f32(3)], [f32(3), f32(3)], learning_rate=0.1),
     r"\[rmsprop_update\] expected one `velocities` entry per parameter"),
    (lambda: _core.adam_update([f32(3)], [np.zeros(3)], [f32(3)], [f32(3)], None, 0.1, 1, 0.9, 0.999, 1e-7, False, 0.0),
     r"\[adam_update\] grads\[0\] must be float32 C-contiguous"),
    (lambda: _core.adam_update([f32(3)], [f32(3)], [f32(3).reshape(3, 1)], [f32(3)], None, 0.1, 1, 0.9, 0.999, 1e-7, False, 0.0),
     r"\[adam_update\] m\[0\] has shape \(3, 1\) but params\[0\] has shape \(3,\)"),
    (lambda: _core.sgd_update([f32(4)[::2]], [f32(2)], None, 0.1, 0.0, False),
     r"\[sgd_update\] params\[0\] must be a writeable float32 C-contiguous"),
    (lambda: ops.FactoredGradient(f32(3, 4), f32(2, 5)),
     r"\[factored_gradient\] expected factors with the same rows, got a.shape=\(3, 4\) and b.shape=\(2, 5\)"),
    (lambda: ops.FactoredGradient(f32(3), f32(3, 5)),
     r"\[factored_gradient\] expected `a` of rank 2 \(rows, in\), got shape \(3,\)"),
    (lambda: ops.adam_update([f32(4, 6)], [ops.FactoredGradient(f32(2, 4), f32(2, 5))], [f32(4, 6)], [f32(4, 6)],
                             learning_rate=0.1, step=1),
     r"\[adam_update\] grads\[0\] is a FactoredGradient of shape \(4, 5\) but params\[0\] has shape \(4, 6\)"),
    (lambda: (lambda p: ops.sgd_update([p], [ops.FactoredGradient(p.reshape(6, 4)[:2], f32(2, 6))],
                                       learning_rate=0.1))(f32(4, 6)),
     r"\[sgd_update\] grads \(factor a\)\[0\] overlaps params\[0\]"),
    (lambda: (lambda m: ops.adam_update([f32(4, 6), f32(4, 6)], [f32(4, 6), ops.FactoredGradient(f32(2, 4), m[:2])],
                                        [m, f32(4, 6)], [f32(4, 6), f32(4, 6)], learning_rate=0.1, step=1))(f32(4, 6)),
     r"\[adam_update\] grads \(factor b\)\[1\] overlaps m\[0\]"),
    (lambda: _core.sgd_update([f32(4, 6)], [("x", f32(2, 6))], None, 0.1, 0.0, False),
     r"\[sgd_update\] expected grads\[0\] factor a to be a numpy array, got str"),
    (lambda: _core.sgd_update([f32(3), 5], [f32(3), f32(1)], None, 0.1, 0.0, False),
     r"\[sgd_update\] expected params\[1\] to be a numpy array, got int"),
    (lambda: _core.sgd_update([f32(4, 6)], [(f32(2, 4),)], None, 0.1, 0.0, False),
     r"\[sgd_update\] grads\[0\] given as a tuple must be the factors \(a, b\), got 1 items"),
    (lambda: _core.sgd_update([f32(4, 6)], [(np.zeros((2, 4)), f32(2, 6))], None, 0.1, 0.0, False),
     r"\[sgd_update\] grads\[0\] factors must be float32 C-contiguous"),
    (lambda: _core.sgd_update([f32(4, 6)], [(f32(2, 4), f32(3, 6))], None, 0.1, 0.0, False),
     r"\[sgd_update\] grads\[0\] factors must be matrices a \(rows, in\) and b \(rows, out\) with the same rows"),
    (lambda: _core.sgd_update([f32(24)], [(f32(2, 4), f32(2, 6))], None, 0.1, 0.0, False),
     r"\[sgd_update\] grads\[0\] factors .* give a gradient of shape \(4, 6\) but params\[0\] has shape \(24,\)"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
