"""Add and Concatenate: layers of several inputs (called on a list)."""

import numpy as np

from pycnn.layers.layer import Layer, shape_str


class _Merge(Layer):
    def _check_list(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) < 1:
            raise ValueError(f"Layer {self.name} ({type(self).__name__}) should be called on a list of inputs. "
                             f"Received: input_shape={input_shape}")


class Add(_Merge):
    def build(self, input_shape):
        self._check_list(input_shape)
        first = input_shape[0]
        for other in input_shape[1:]:
            if len(other) != len(first) or any(a is not None and b is not None and a != b
                                               for a, b in zip(first[1:], other[1:])):
                raise ValueError(f"Layer {self.name}: inputs have incompatible shapes. Received shapes "
                                 f"{shape_str(first)} and {shape_str(other)}")
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def call(self, inputs, training=False):
        self._cache = len(inputs)
        out = inputs[0] + inputs[1] if len(inputs) > 1 else inputs[0].copy()
        for x in inputs[2:]:
            out += x
        return out

    def backward(self, dy):
        return [dy] * self._cache


class Concatenate(_Merge):
    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def build(self, input_shape):
        self._check_list(input_shape)
        rank = len(input_shape[0])
        axis = self.axis % rank
        for other in input_shape[1:]:
            if len(other) != rank or any(i != axis and a is not None and b is not None and a != b
                                         for i, (a, b) in enumerate(zip(input_shape[0], other))):
                raise ValueError(f"Layer {self.name}: a `Concatenate` layer requires inputs with matching shapes "
                                 f"except for the concatenation axis. Received: input_shape={input_shape}")
        self.built = True

    def compute_output_shape(self, input_shape):
        rank = len(input_shape[0])
        axis = self.axis % rank
        out = list(input_shape[0])
        sizes = [s[axis] for s in input_shape]
        out[axis] = None if any(s is None for s in sizes) else sum(sizes)
        return tuple(out)

    def call(self, inputs, training=False):
        axis = self.axis % inputs[0].ndim
        self._cache = (axis, np.cumsum([x.shape[axis] for x in inputs])[:-1])
        return np.concatenate(inputs, axis=axis)

    def backward(self, dy):
        axis, splits = self._cache
        return [np.ascontiguousarray(p) for p in np.split(dy, splits, axis=axis)]

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
