"""A dense kernel's gradient kept as its two factors: ``a.T @ b``.

A dense layer's kernel gradient is ``x.T @ dy``: at a small batch, an
``(in, units)`` matrix built from two thin ones. The optimizer updates
(``sgd_update``, ``rmsprop_update``, ``adam_update``) accept a
``FactoredGradient`` in place of that matrix and compute it a row piece at a
time while they update, so it is never written to memory and read back (the
face network's 10752 -> 512 kernel at batch 16: 22 MB each way per step).
Anything else that needs the matrix gets it from ``np.asarray(grad)``.
"""

import numpy as np

from pycnn.ops._validate import as_float32, op_error, require_rank
from pycnn.ops.gemm import gemm

__all__ = ["FactoredGradient"]


class FactoredGradient:
    """The gradient ``a.T @ b`` of an ``(in, units)`` kernel: ``a`` is (rows, in), ``b`` is (rows, units).

    Both factors are converted once to C-contiguous float32 and must not be
    modified while the gradient is in use. ``np.asarray(g)`` (or
    ``g.materialize()``) gives the float32 matrix; ``g + other`` gives
    ``np.asarray(g) + other``.
    """

    __slots__ = ("a", "b")

    def __init__(self, a, b):
        op = "factored_gradient"
        a, b = as_float32(a, op, "a"), as_float32(b, op, "b")
        require_rank(a, 2, op, "a", "(rows, in)")
        require_rank(b, 2, op, "b", "(rows, units)")
        if a.shape[0] != b.shape[0]:
            raise op_error(op, f"expected factors with the same rows, got a.shape={a.shape} and b.shape={b.shape}")
        self.a, self.b = a, b

    @property
    def shape(self):
        return (self.a.shape[1], self.b.shape[1])

    @property
    def dtype(self):
        return np.dtype(np.float32)

    def materialize(self):
        """The ``(in, units)`` float32 matrix ``a.T @ b``."""
        return gemm(self.a, self.b, trans_a=True)

    def __array__(self, dtype=None, copy=None):
        out = self.materialize()
        return out if dtype is None else out.astype(dtype, copy=False)

    def __add__(self, other):
        return self.materialize() + np.asarray(other)

    __radd__ = __add__

    def __repr__(self):
        return f"FactoredGradient(shape={self.shape}, rows={self.a.shape[0]})"
