"""Fused, in-place optimizer updates over many parameter arrays in one call.

Formulas and defaults are Keras 3's (``keras.optimizers.SGD``, ``RMSprop``,
``Adam``/``AdamW``). Parameters and optimizer slots are updated IN PLACE and
must be float32, C-contiguous, writeable and share no memory with one another
(``ValueError`` otherwise); each gradient must have its parameter's shape
(any real dtype or layout, converted once to float32), or be a
``FactoredGradient`` of a matrix parameter's shape (computed piece by piece
during the update, never stored). Pass lists with one entry per parameter; a
single array is taken as a list of one. One call runs one parallel pass over
all elements.
"""

import numpy as np

from pycnn import _core
from pycnn.ops._validate import as_float32, finite_real, is_int, op_error
from pycnn.ops.factored import FactoredGradient

__all__ = ["sgd_update", "rmsprop_update", "adam_update"]


def _list(arrays, op, name):
    if isinstance(arrays, np.ndarray):
        return [arrays]
    if isinstance(arrays, (str, bytes)) or not hasattr(arrays, "__len__"):
        raise op_error(op, f"expected `{name}` as a list of arrays, got {type(arrays).__name__}")
    return list(arrays)


def _in_place(arrays, op, name, params=None):
    arrays = _list(arrays, op, name)
    if params is not None and len(arrays) != len(params):
        raise op_error(op, f"expected one `{name}` entry per parameter: {len(params)} params, {len(arrays)} {name}")
    for i, a in enumerate(arrays):
        if not isinstance(a, np.ndarray):
            raise op_error(op, f"expected {name}[{i}] to be a numpy array (updated in place), got {type(a).__name__}")
        if a.dtype != np.float32 or not a.flags.c_contiguous or not a.flags.writeable or not a.flags.aligned:
            raise op_error(op, f"{name}[{i}] must be a writeable float32 C-contiguous array (updated in place), "
                               f"got dtype {a.dtype}, C-contiguous={a.flags.c_contiguous}, writeable={a.flags.writeable}")
        if params is not None and a.shape != params[i].shape:
            raise op_error(op, f"{name}[{i}] has shape {a.shape} but params[{i}] has shape {params[i].shape}")
    return arrays


def _grads(grads, params, op):
    grads = _list(grads, op, "grads")
    if len(grads) != len(params):
        raise op_error(op, f"expected one gradient per parameter: {len(params)} params, {len(grads)} grads")
    out = []
    for i, (g, p) in enumerate(zip(grads, params)):
        if isinstance(g, FactoredGradient):
            if g.shape != p.shape:
                raise op_error(op, f"grads[{i}] is a FactoredGradient of shape {g.shape} but params[{i}] has shape "
                                   f"{p.shape}")
            out.append((g.a, g.b))
            continue
        g = as_float32(g, op, f"grads[{i}]")
        if g.shape != p.shape:
            raise op_error(op, f"grads[{i}] has shape {g.shape} but params[{i}] has shape {p.shape}")
        out.append(g)
    return out


def _number(value, op, name, lo=None, hi=None, lo_open=False, hi_open=False):
    value = finite_real(value, op, name)
    bad_lo = lo is not None and (value <= lo if lo_open else value < lo)
    bad_hi = hi is not None and (value >= hi if hi_open else value > hi)
    if bad_lo or bad_hi:
        rng = f"{'(' if lo_open else '['}{lo if lo is not None else '-inf'}, {hi if hi is not None else 'inf'}{')' if hi_open else ']'}"
        raise op_error(op, f"expected `{name}` in {rng}, got {value}")
    return value


def sgd_update(params, grads, velocities=None, *, learning_rate, momentum=0.0, nesterov=False):
    """SGD with optional (Nesterov) momentum, in place.

    ``v = momentum*v - lr*g; p += v`` (Nesterov: ``p += momentum*v - lr*g``);
    without momentum ``p -= lr*g`` and ``velocities`` may be None.
    """
    op = "sgd_update"
    params = _in_place(params, op, "params")
    grads = _grads(grads, params, op)
    lr = _number(learning_rate, op, "learning_rate")
    momentum = _number(momentum, op, "momentum", 0.0, 1.0)
    if momentum != 0.0:
        if velocities is None:
            raise op_error(op, "momentum != 0 needs `velocities` (one zero-initialised array per parameter)")
        velocities = _in_place(velocities, op, "velocities", params)
    else:
        velocities = None
    _core.sgd_update(params, grads, velocities, lr, momentum, bool(nesterov))


def rmsprop_update(params, grads, velocities, *, learning_rate, rho=0.9, epsilon=1e-7, momentum=0.0,
                   momenta=None, centered=False, average_grads=None):
    """RMSprop, in place (Keras 3 formula, epsilon inside the square root).

    ``v = rho*v + (1-rho)*g**2``; centered: ``a = rho*a + (1-rho)*g`` and
    ``denom = v - a**2 + eps``, else ``denom = v + eps``;
    ``inc = lr*g/sqrt(denom)``; with momentum ``m = momentum*m + inc; p -= m``,
    else ``p -= inc``.
    """
    op = "rmsprop_update"
    params = _in_place(params, op, "params")
    grads = _grads(grads, params, op)
    velocities = _in_place(velocities, op, "velocities", params)
    lr = _number(learning_rate, op, "learning_rate")
    rho = _number(rho, op, "rho", 0.0, 1.0)
    epsilon = _number(epsilon, op, "epsilon", 0.0)
    momentum = _number(momentum, op, "momentum", 0.0, 1.0)
    if momentum > 0:
        if momenta is None:
            raise op_error(op, "momentum > 0 needs `momenta` (one zero-initialised array per parameter)")
        momenta = _in_place(momenta, op, "momenta", params)
    else:
        momenta = None
    if centered:
        if average_grads is None:
            raise op_error(op, "centered=True needs `average_grads` (one zero-initialised array per parameter)")
        average_grads = _in_place(average_grads, op, "average_grads", params)
    else:
        average_grads = None
    _core.rmsprop_update(params, grads, velocities, momenta, average_grads, lr, rho, epsilon, momentum,
                         bool(centered))


def adam_update(params, grads, m, v, *, learning_rate, step, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                amsgrad=False, v_hat=None, weight_decay=0.0):
    """Adam / AdamW, in place (Keras 3 formula).

    ``step`` is the 1-based iteration t. With ``weight_decay > 0`` first
    ``p -= p*weight_decay*lr`` (AdamW's decoupled decay); then
    ``alpha = lr*sqrt(1-beta_2**t)/(1-beta_1**t)``, ``m += (g-m)*(1-beta_1)``,
    ``v += (g**2-v)*(1-beta_2)``, with amsgrad ``v_hat = max(v_hat, v)``
    replacing v, and ``p -= m*alpha/(sqrt(v)+epsilon)``.
    """
    op = "adam_update"
    params = _in_place(params, op, "params")
    grads = _grads(grads, params, op)
    m = _in_place(m, op, "m", params)
    v = _in_place(v, op, "v", params)
    if not is_int(step) or not 1 <= step < 2**63:
        raise op_error(op, f"expected the 1-based iteration `step` to be an int in [1, 2**63), got {step!r}")
    lr = _number(learning_rate, op, "learning_rate")
    beta_1 = _number(beta_1, op, "beta_1", 0.0, 1.0, hi_open=True)
    beta_2 = _number(beta_2, op, "beta_2", 0.0, 1.0, hi_open=True)
    epsilon = _number(epsilon, op, "epsilon", 0.0)
    weight_decay = _number(weight_decay, op, "weight_decay", 0.0)
    if amsgrad:
        if v_hat is None:
            raise op_error(op, "amsgrad=True needs `v_hat` (one zero-initialised array per parameter)")
        v_hat = _in_place(v_hat, op, "v_hat", params)
    else:
        v_hat = None
    _core.adam_update(params, grads, m, v, v_hat, lr, int(step), beta_1, beta_2, epsilon, bool(amsgrad),
                      weight_decay)
