"""L1/L2 weight penalties (Keras names and defaults: l1=0.01, l2=0.01).

A regulariser gives its penalty (added to the reported loss, as Keras
does) and the penalty's gradient (added to the weight's gradient).
"""

import numpy as np


class Regularizer:
    def __call__(self, x):
        raise NotImplementedError

    def gradient(self, x):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1L2(Regularizer):
    def __init__(self, l1=0.0, l2=0.0):
        if l1 < 0 or l2 < 0:
            raise ValueError(f"Regularization factors must be >= 0, received l1={l1}, l2={l2}")
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x):
        total = 0.0
        if self.l1:
            total += self.l1 * float(np.abs(x).sum(dtype=np.float64))
        if self.l2:
            total += self.l2 * float(np.square(x, dtype=np.float64).sum())
        return total

    def gradient(self, x):
        g = np.zeros_like(x)
        if self.l1:
            g += np.float32(self.l1) * np.sign(x)
        if self.l2:
            g += np.float32(2 * self.l2) * x
        return g

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


l1, l2, l1_l2 = L1, L2, L1L2
_CLASSES = {"L1L2": L1L2, "L1": L1, "L2": L2}
_ALIASES = {"l1": L1, "l2": L2, "l1_l2": L1L2}


def get(identifier):
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str) and identifier in _ALIASES:
        return _ALIASES[identifier]()
    if isinstance(identifier, dict) and identifier.get("class_name") in _CLASSES:
        return _CLASSES[identifier["class_name"]].from_config(identifier.get("config", {}))
    raise ValueError(f"Could not interpret regularizer identifier: {identifier!r}. Expected 'l1', 'l2' or 'l1_l2'.")


def serialize(regularizer):
    if regularizer is None:
        return None
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}
