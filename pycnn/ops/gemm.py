"""Matrix multiply: ``alpha * op(a) @ op(b) + beta * c`` on pycnn's own SGEMM."""

import numbers

import numpy as np

from pycnn import _core
from pycnn.ops._validate import as_float32, op_error, require_rank

__all__ = ["gemm"]


def _rows_contiguous(x):
    """x itself if it is float32 with contiguous rows (a row stride is fine), else a copy."""
    if (isinstance(x, np.ndarray) and x.dtype == np.float32 and x.ndim == 2 and x.flags.aligned and x.strides[1] == 4
            and x.strides[0] >= 4 * x.shape[1] and x.strides[0] % 4 == 0):
        return x
    return as_float32(x, "gemm", "matrix")


def _scalar(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise op_error("gemm", f"expected `{name}` to be a real number, got {value!r}")
    return float(value)


def gemm(a, b, c=None, *, alpha=1.0, beta=0.0, trans_a=False, trans_b=False):
    """``alpha * op(a) @ op(b) + beta * c`` as a new float32 array.

    ``op(x)`` is ``x.T`` when the matching ``trans_*`` flag is set. ``a`` and
    ``b`` are 2-D; views whose rows are strided (``x[:, :5]``) are used
    without a copy, other inputs are converted to float32 once. ``c`` (shape
    ``(m, n)``) is only read when ``beta != 0`` and is never modified.
    """
    a, b = _rows_contiguous(a), _rows_contiguous(b)
    require_rank(a, 2, "gemm", "a", "(rows, cols)")
    require_rank(b, 2, "gemm", "b", "(rows, cols)")
    m, k = (a.shape[1], a.shape[0]) if trans_a else a.shape
    kb, n = (b.shape[1], b.shape[0]) if trans_b else b.shape
    if k != kb:
        raise op_error("gemm", f"inner dimensions differ: op(a) has shape {(m, k)}, op(b) has shape {(kb, n)}")
    alpha, beta = _scalar(alpha, "alpha"), _scalar(beta, "beta")
    if c is not None:
        c = as_float32(c, "gemm", "c")
        if c.shape != (m, n):
            raise op_error("gemm", f"expected c of shape {(m, n)}, got {c.shape}")
    if beta != 0.0:
        if c is None:
            raise op_error("gemm", "beta != 0 needs `c`")
        out = np.array(c, dtype=np.float32, order="C", copy=True)
    else:
        try:
            out = np.empty((m, n), dtype=np.float32)
        except ValueError:  # m * n * 4 bytes overflow
            raise op_error("gemm", f"the output of shape {(m, n)} is too large") from None
    _core.gemm(a, b, out, bool(trans_a), bool(trans_b), alpha, beta)
    return out
