"""Matrix multiply: ``alpha * op(a) @ op(b) + beta * c`` on pycnn's own SGEMM."""

import numbers

import numpy as np

from pycnn import _core
from pycnn.ops._fast_lane import fast_lane
from pycnn.ops._validate import as_float32, op_error

__all__ = ["gemm"]


def _rows_contiguous(x):
    """x itself if it is float32 with contiguous rows (a row stride is fine), else a copy."""
    if (isinstance(x, np.ndarray) and x.dtype == np.float32 and x.ndim == 2 and x.flags.aligned and x.strides[1] == 4
            and x.strides[0] >= 4 * x.shape[1] and x.strides[0] % 4 == 0):
        return x
    return as_float32(x, "gemm", "matrix")


def _scalar(value, name):
    if type(value) is float:  # the common case, without the slower ABC check
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise op_error("gemm", f"expected `{name}` to be a real number, got {value!r}")
    return float(value)


@fast_lane(_core.gemm_fast, order=("a", "b", "c", "trans_a", "trans_b", "alpha", "beta"))
def gemm(a, b, c=None, *, alpha=1.0, beta=0.0, trans_a=False, trans_b=False):
    """``alpha * op(a) @ op(b) + beta * c`` as a new float32 array.

    ``op(x)`` is ``x.T`` when the matching ``trans_*`` flag is set. ``a`` and
    ``b`` are 2-D; views whose rows are strided (``x[:, :5]``) are used
    without a copy, other inputs are converted to float32 once. ``c`` (shape
    ``(m, n)``) is only read when ``beta != 0`` and is never modified.
    """
    return _gemm_checked(a, b, c, alpha, beta, trans_a, trans_b)  # the fast lane handed the arguments on


def _gemm_checked(a, b, c, alpha, beta, trans_a, trans_b):
    # Shapes, c and beta are checked by the core, in the same call that
    # multiplies.
    a, b = _rows_contiguous(a), _rows_contiguous(b)
    if c is not None:
        c = as_float32(c, "gemm", "c")
    return _core.gemm(a, b, c, bool(trans_a), bool(trans_b), _scalar(alpha, "alpha"), _scalar(beta, "beta"))
