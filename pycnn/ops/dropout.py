"""Inverted dropout with a counter-based random mask (Philox4x32-10).

Element ``i`` of the flattened (C-order) tensor is kept iff its uniform
number ``u(seed, step, i) >= rate``, and kept elements are scaled by
``1 / (1 - rate)``. ``u`` has 32 bits, ``u = (h * 2**16 + t) * 2**-32``,
both halves taken from Philox4x32-10 under the key ``seed``:

- ``h`` is half ``i % 2`` (0: the low 16 bits) of word ``(i // 32) % 4`` of
  the counter ``(16 * (i // 128) + (i // 2) % 16, step)``;
- ``t`` is the low half of word 0 of the counter ``(i + 2**63, step)``. It
  can only matter when ``h == (ceil(rate * 2**32) - 1) >> 16``, so it is
  drawn for about one element in 65,536.

The mask is therefore a function of (seed, step, i) only — reproducible,
independent of the thread count — and the backward regenerates it from the
same (seed, step). Use a new ``step`` for every training step. ``seed`` and
``step`` are ints in [0, 2**64).
"""

import numbers

from pycnn import _core
from pycnn.ops._fast_lane import fast_lane
from pycnn.ops._validate import as_float32, is_int, op_error

__all__ = ["dropout", "dropout_backward", "dropout_mask"]


def _rate(rate, op):
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0.0 <= float(rate) < 1.0:
        raise op_error(op, f"expected `rate` in [0, 1), got {rate!r}")
    return float(rate)


def _counter(value, op, name):
    if not is_int(value) or not 0 <= int(value) < 2**64:
        raise op_error(op, f"expected `{name}` as an int in [0, 2**64), got {value!r}")
    return int(value)


@fast_lane(_core.dropout_fast)
def dropout(x, rate, seed, step):
    """Inverted dropout: x * mask with mask = 0 or 1 / (1 - rate); rate 0 is a copy."""
    return _dropout_checked(x, rate, seed, step, "dropout", "x")  # the fast lane handed the arguments on


@fast_lane(_core.dropout_fast)
def dropout_backward(dy, rate, seed, step):
    """dx = dy * mask, the mask regenerated from the forward's (seed, step)."""
    return _dropout_checked(dy, rate, seed, step, "dropout_backward", "dy")


def _dropout_checked(x, rate, seed, step, op, name):
    """The path for inputs the core's fast lane does not take: converted or refused here."""
    x = as_float32(x, op, name)
    return _core.dropout(x, _rate(rate, op), _counter(seed, op, "seed"), _counter(step, op, "step"), op=op)


def dropout_mask(shape, rate, seed, step):
    """The float32 mask (0 or 1 / (1 - rate)) that ``dropout`` applies to a tensor of ``shape``."""
    op = "dropout_mask"
    try:
        dims = tuple(shape) if not isinstance(shape, numbers.Integral) else (shape,)
    except TypeError:
        raise op_error(op, f"expected `shape` as a tuple of ints, got {shape!r}") from None
    if not all(is_int(d) and d >= 0 for d in dims):
        raise op_error(op, f"expected `shape` as a tuple of ints >= 0, got {shape!r}")
    try:
        return _core.dropout_mask([int(d) for d in dims], _rate(rate, op), _counter(seed, op, "seed"),
                                  _counter(step, op, "step"))
    except ValueError as exc:
        if str(exc).startswith(f"[{op}]"):
            raise
        # numpy refuses an empty shape whose other dimensions overflow, e.g. (2**62, 0)
        raise op_error(op, f"shape {dims} is too large: {exc}") from None
