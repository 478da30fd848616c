"""Argument checking shared by every ``pycnn.ops`` function.

Errors read like Keras': ``[op] what was expected, what came``, with shapes
as tuples, raised as ``ValueError`` (``TypeError`` for a wrong kind of
object). Inputs are converted to C-contiguous float32 exactly once here, so
the compiled core only ever sees arrays it accepts.
"""

import math
import numbers

import numpy as np


def op_error(op, message):
    return ValueError(f"[{op}] {message}")


def as_float32(x, op, name):
    """``x`` as a C-contiguous float32 array (copying only if needed).

    Any real-valued array-like is accepted (integer, bool, float16/64,
    non-contiguous or negatively strided arrays); complex, object and string
    data are refused.
    """
    if isinstance(x, np.ndarray) and x.dtype == np.float32 and x.flags.c_contiguous and x.flags.aligned:
        return x
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise op_error(op, f"expected `{name}` to be a real-valued array, could not convert it: {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise op_error(op, f"expected `{name}` with a real numeric dtype, got dtype {arr.dtype}")
    try:
        out = np.asarray(arr, dtype=np.float32, order="C")  # keeps 0-d arrays 0-d
        return out if out.flags.aligned else out.copy()  # the core loads whole floats
    except ValueError as exc:  # a shape whose byte size numpy cannot represent
        raise op_error(op, f"`{name}` of shape {arr.shape} is too large: {exc}") from None
    except MemoryError:
        raise MemoryError(f"[{op}] cannot allocate a float32 copy of `{name}` with shape {arr.shape}") from None


def as_int_labels(y, op, name, num_classes):
    """Sparse class labels as a contiguous int32 array with values in [0, num_classes)."""
    arr = np.asarray(y)
    if arr.dtype.kind == "f":
        if arr.size and not np.all(np.isfinite(arr) & (arr == np.round(arr))):
            raise op_error(op, f"expected integer class labels in `{name}`, got non-integer values")
    elif arr.dtype.kind not in "biu":
        raise op_error(op, f"expected integer class labels in `{name}`, got dtype {arr.dtype}")
    if arr.size:
        lo, hi = arr.min(), arr.max()
        if lo < 0 or hi >= num_classes:
            raise op_error(op, f"expected labels in [0, {num_classes}) in `{name}`, got values in [{lo}, {hi}]")
    return np.ascontiguousarray(arr, dtype=np.int32)


def require_rank(x, ranks, op, name, layout=""):
    ranks = (ranks,) if isinstance(ranks, int) else tuple(ranks)
    if x.ndim not in ranks:
        want = " or ".join(str(r) for r in ranks)
        layout = f" {layout}" if layout else ""
        raise op_error(op, f"expected `{name}` of rank {want}{layout}, got shape {x.shape}")


def flag(value, op, name):
    """A Python or NumPy bool as ``bool``; anything else (1, "yes", None) is refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise op_error(op, f"expected `{name}` True or False, got {value!r}")
    return bool(value)


def is_int(value):
    """A Python or NumPy integer, not a bool (bool is an int subclass)."""
    # `type(...) is int` first: every op checks its options on every call,
    # and the numbers.Integral ABC check costs ~0.5 us a time.
    return type(value) is int or (not isinstance(value, bool) and isinstance(value, numbers.Integral))


def finite_real(value, op, name):
    """``value`` as a float; bools, non-numbers, NaN and infinities are refused."""
    if type(value) is float and math.isfinite(value):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise op_error(op, f"expected `{name}` to be a finite number, got {value!r}")
    return float(value)


def positive_int(value, op, name, minimum=1):
    if not is_int(value):
        raise op_error(op, f"expected `{name}` to be an int >= {minimum}, got {value!r}")
    if value < minimum:
        raise op_error(op, f"expected `{name}` >= {minimum}, got {value}")
    return int(value)


def int_tuple(value, n, op, name, minimum=1):
    """``3`` -> ``(3, 3)``; a length-n sequence of ints >= minimum."""
    if type(value) is int and value >= minimum:
        return (value,) * n
    if is_int(value):
        value = (value,) * n
    try:
        items = tuple(value)
    except TypeError:
        raise op_error(op, f"expected `{name}` as an int or a tuple of {n} ints, got {value!r}") from None
    if len(items) != n:
        raise op_error(op, f"expected `{name}` as an int or a tuple of {n} ints, got {value!r}")
    return tuple(positive_int(v, op, name, minimum) for v in items)


def padding_mode(padding, op):
    """'valid' / 'same' (any case) or explicit ((top, bottom), (left, right)).

    Returns either the lower-case string or a tuple of four ints
    (top, bottom, left, right).
    """
    if isinstance(padding, str):
        mode = padding.lower()
        if mode not in ("valid", "same"):
            raise op_error(op, f"expected padding 'valid', 'same' or ((top, bottom), (left, right)), got {padding!r}")
        return mode
    try:
        (top, bottom), (left, right) = padding
    except (TypeError, ValueError):
        raise op_error(op, f"expected padding 'valid', 'same' or ((top, bottom), (left, right)), got {padding!r}") from None
    return tuple(positive_int(p, op, "padding", 0) for p in (top, bottom, left, right))
