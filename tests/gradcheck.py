"""Central finite differences in float64, the first link of every gradient check.

The reference backward (tests/reference) is checked against these numbers;
the float32 kernels are then checked against the reference backward. Losses
are random projections ``(f(x) * r).sum()`` so every output element counts.
"""

import numpy as np


def numeric_grad(f, x, eps=1e-6, max_points=None, rng=None):
    """d sum(f(x)) / dx by central differences (float64).

    ``f`` maps a float64 array shaped like ``x`` to a scalar. With
    ``max_points``, only that many randomly chosen entries are perturbed and
    the rest of the returned array is NaN (compare with ``np.isfinite`` mask).
    """
    x = np.array(x, dtype=np.float64)
    grad = np.full(x.shape, np.nan)
    flat = x.reshape(-1)
    idx = np.arange(flat.size)
    if max_points is not None and flat.size > max_points:
        idx = (rng or np.random.default_rng(0)).choice(flat.size, max_points, replace=False)
    g = grad.reshape(-1)
    for i in idx:
        old = flat[i]
        flat[i] = old + eps
        up = f(x)
        flat[i] = old - eps
        down = f(x)
        flat[i] = old
        g[i] = (up - down) / (2 * eps)
    return grad


def assert_grad_close(analytic, numeric, rtol=1e-5, atol=1e-7):
    mask = np.isfinite(numeric)
    np.testing.assert_allclose(analytic[mask], numeric[mask], rtol=rtol, atol=atol)
