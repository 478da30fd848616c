"""The session's random state: initialisers, dropout seeds and shuffling draw from it.

``set_random_seed(s)`` makes a run reproducible, as ``keras.utils.set_random_seed``.
Without it, the state is seeded from the operating system.
"""

import random as _py_random

import numpy as np

_state = {"rng": np.random.default_rng()}


def set_random_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"Expected `seed` to be a non-negative integer, received seed={seed!r}")
    _py_random.seed(seed)
    np.random.seed(seed % 2**32)
    _state["rng"] = np.random.default_rng(seed)


def global_rng():
    return _state["rng"]


def make_rng(seed=None):
    """A generator for one object: from its own seed, or drawn from the session state."""
    if seed is None:
        seed = int(global_rng().integers(0, 2**31 - 1))
    return np.random.default_rng(seed)


def draw_seed():
    return int(global_rng().integers(0, 2**31 - 1))
