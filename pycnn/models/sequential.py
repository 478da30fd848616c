"""``Sequential``: a linear stack of layers, built as a functional graph.

The graph is made as soon as the input shape is known (an ``Input`` added
first, or ``input_shape=`` on the first layer), otherwise on the first call
with data. As in Keras 3, ``model.layers`` does not list the input layer.
"""

import threading

import numpy as np

from pycnn.layers.input_layer import InputLayer
from pycnn.layers.layer import Layer
from pycnn.layers.node import KerasTensor
from pycnn.models.model import Model
from pycnn.utils.naming import auto_name

_build_lock = threading.Lock()


class Sequential(Model):
    def __init__(self, layers=None, name=None, trainable=True):
        self.name = name or auto_name("Sequential")
        self.trainable = trainable
        self._init_trainer()
        self._layers = []
        self._input_layer = None
        self.built = False
        for layer in layers or []:
            self.add(layer)

    def add(self, layer, rebuild=True):
        if isinstance(layer, KerasTensor) and isinstance(layer.node.layer, InputLayer):
            layer = layer.node.layer
        if not isinstance(layer, Layer):
            raise ValueError(f"Only instances of `pycnn.layers.Layer` can be added to a Sequential model. "
                             f"Received: {layer!r} (of type {type(layer).__name__})")
        if isinstance(layer, InputLayer):
            if self._input_layer is not None or self._layers:
                raise ValueError("An `Input` can only be the first element of a Sequential model.")
            self._input_layer = layer
            return
        if any(l.name == layer.name for l in self._layers):
            raise ValueError(f"All layers added to a Sequential model should have unique names. Name "
                             f'"{layer.name}" is already the name of a layer in this model. Update the `name` argument '
                             f"to pass a unique name.")
        self._layers.append(layer)
        if self.built:
            try:
                out = layer(self.outputs[0])
            except Exception:
                self._layers.pop()
                raise
            self._set_graph(self.inputs[0], out)
        elif self._known_input_shape() is not None:
            try:
                self.build(self._known_input_shape())
            except Exception:
                self._layers.pop()
                raise

    def _known_input_shape(self):
        if self._input_layer is not None:
            return self._input_layer.batch_shape
        if self._layers and self._layers[0]._batch_input_shape is not None:
            return self._layers[0]._batch_input_shape
        return None

    def build(self, input_shape=None):
        if self.built:
            return
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument to build a Sequential model.")
        if self._input_layer is None:
            self._input_layer = InputLayer(batch_shape=tuple(input_shape))
        x = inp = self._input_layer.output
        if not self._layers:
            return
        for layer in self._layers:
            x = layer(x)
        self._set_graph(inp, x)

    def _ensure_built(self, x=None):
        if self.built:
            return
        if x is not None and not isinstance(x, (list, dict)):
            with _build_lock:  # threads predicting on a fresh model build it once
                if not self.built:
                    self.build((None,) + np.shape(x)[1:])
            return
        raise ValueError(f'Sequential model "{self.name}" has not been built yet: give the first layer an '
                         f"`input_shape`, start with `Input(shape)`, call `build(input_shape)`, or call the model "
                         f"on data first.")

    def pop(self):
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        if self.built:
            layer._inbound_nodes.pop()
            out = self._layers[-1].output if self._layers else None
            if out is None:
                self.built = False
            else:
                self._set_graph(self.inputs[0], out)
        return layer

    @property
    def layers(self):
        return list(self._layers)

    def __call__(self, inputs, training=False):
        self._ensure_built(inputs)
        return super().__call__(inputs, training=training)

    def predict(self, x, *args, **kwargs):
        self._ensure_built(x)
        return super().predict(x, *args, **kwargs)

    def fit(self, x=None, y=None, *args, **kwargs):
        self._ensure_built(x)
        return super().fit(x, y, *args, **kwargs)

    def summary(self, *args, **kwargs):
        self._ensure_built()
        super().summary(*args, **kwargs)

    def get_config(self):
        from pycnn.models.saving import sequential_config

        return sequential_config(self)

    @classmethod
    def from_config(cls, config):
        from pycnn.models.saving import sequential_from_config

        return sequential_from_config(config)

