"""Activation layers: ReLU, LeakyReLU (negative_slope 0.3, as Keras 3) and Softmax."""

import warnings

import numpy as np

from pycnn import ops
from pycnn.layers.layer import Layer


class ReLU(Layer):
    """max(x, 0), or with Keras' options: x >= threshold ? min(x, max_value) : negative_slope * (x - threshold)."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0:
            raise ValueError(f"max_value of a ReLU layer cannot be a negative value. Received: {max_value}")
        if negative_slope is None or negative_slope < 0:
            raise ValueError(f"negative_slope of a ReLU layer cannot be a negative value. Received: {negative_slope}")
        if threshold is None or threshold < 0:
            raise ValueError(f"threshold of a ReLU layer cannot be a negative value. Received: {threshold}")
        self.max_value = None if max_value is None else float(max_value)
        self.negative_slope, self.threshold = float(negative_slope), float(threshold)
        self._plain = self.max_value is None and self.negative_slope == 0 and self.threshold == 0

    @property
    def fusable_activation(self):
        """(ops name, alpha) a producer may apply in its own pass instead of this layer, or None."""
        return ("relu", None) if self._plain else None

    def call(self, x, training=False):
        if self._plain:
            y = ops.relu(x)
            self._cache = y
            return y
        self._cache = x
        above = x >= self.threshold
        top = x if self.max_value is None else np.minimum(x, self.max_value)
        return np.where(above, top, self.negative_slope * (x - self.threshold)).astype(np.float32)

    def backward(self, dy):
        if self._plain:
            return ops.relu_backward(dy, self._cache)
        x = self._cache
        above = x >= self.threshold
        inside = above if self.max_value is None else above & (x < self.max_value)
        return np.where(inside, dy, np.where(above, 0, self.negative_slope * dy)).astype(np.float32)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class LeakyReLU(Layer):
    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.", stacklevel=2)
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError(f"The negative_slope value of a Leaky ReLU layer cannot be None or negative. "
                             f"Received: negative_slope={negative_slope}")
        self.negative_slope = float(negative_slope)

    @property
    def fusable_activation(self):
        """(ops name, alpha) a producer may apply in its own pass instead of this layer, or None."""
        return ("leaky_relu", self.negative_slope) if self.negative_slope > 0 else None

    def call(self, x, training=False):
        y = ops.leaky_relu(x, self.negative_slope)
        self._cache = x
        return y

    def backward(self, dy):
        return ops.leaky_relu_backward(dy, self._cache, self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class Softmax(Layer):
    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        if axis == -1:
            self._act = ("softmax", None, None)

    def call(self, x, training=False, mask=None):
        y = ops.softmax(x, axis=self.axis)
        self._cache = (x, y, x)
        return y

    def backward(self, dy):
        return ops.softmax_backward(dy, self._cache[1], axis=self.axis)

    def backward_logits(self, dz):
        return dz

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
