"""``Input`` and ``InputLayer``: where a functional graph starts."""

import numbers

from pycnn.layers.layer import Layer
from pycnn.layers.node import Node


def _check_shape(shape, what):
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError(f"`{what}` must be a tuple of integers or None, received {what}={shape!r}") from None
    for d in dims:
        if d is not None and (isinstance(d, bool) or not isinstance(d, numbers.Integral) or d <= 0):
            raise ValueError(f"`{what}` must contain positive integers or None, received {what}={shape!r}")
    return tuple(None if d is None else int(d) for d in dims)


class InputLayer(Layer):
    def __init__(self, shape=None, batch_size=None, name=None, batch_shape=None, **kwargs):
        if "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
        if "input_shape" in kwargs:
            shape = kwargs.pop("input_shape")
        kwargs.pop("dtype", None)
        kwargs.pop("trainable", None)
        super().__init__(name=name, **kwargs)
        if batch_shape is None:
            if shape is None:
                raise ValueError("You must pass a `shape` argument to Input/InputLayer.")
            if isinstance(shape, numbers.Integral):
                shape = (shape,)
            batch_shape = (batch_size,) + _check_shape(shape, "shape")
        self.batch_shape = _check_shape(batch_shape, "batch_shape")
        self.built = True
        Node(self, [], self.batch_shape)

    def call(self, inputs, training=False):
        return inputs

    def backward(self, dy):
        return dy

    def get_config(self):
        return {"name": self.name, "batch_shape": list(self.batch_shape), "dtype": "float32"}


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None, tensor=None, sparse=None):
    """A symbolic input tensor (as ``keras.Input``); the batch axis is implicit."""
    if dtype not in (None, "float32"):
        raise ValueError(f"pycnn inputs are float32; received dtype={dtype!r}")
    if tensor is not None or sparse:
        raise ValueError("Input(tensor=...) and sparse inputs are not supported")
    return InputLayer(shape=shape, batch_size=batch_size, name=name, batch_shape=batch_shape).output
