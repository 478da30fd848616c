"""GEMM reference in float64."""

import numpy as np


def gemm(a, b, c=None, alpha=1.0, beta=0.0, trans_a=False, trans_b=False, bias=None):
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    out = alpha * ((a.T if trans_a else a) @ (b.T if trans_b else b))
    if beta != 0.0:
        out = out + beta * np.asarray(c, np.float64)
    if bias is not None:
        out = out + np.asarray(bias, np.float64)
    return out
