"""The functional ``Model(inputs, outputs)``: several inputs and outputs, shared layers, branches."""

import numpy as np

from pycnn.layers.node import KerasTensor
from pycnn.models import data_adapter as da
from pycnn.models.graph import Graph
from pycnn.models.training import Trainer
from pycnn.utils.naming import auto_name


def _structure(tensors, what):
    """(list of tensors, kind, names) from a tensor, a list/tuple or a dict of tensors."""
    if isinstance(tensors, KerasTensor):
        return [tensors], "single", None
    if isinstance(tensors, dict):
        return list(tensors.values()), "dict", list(tensors.keys())
    if isinstance(tensors, (list, tuple)) and tensors:
        return list(tensors), "list", None
    raise TypeError(f"Model {what} must be a symbolic tensor, a list or a dict of them; received {tensors!r}")


class Model(Trainer):
    def __init__(self, inputs=None, outputs=None, name=None, trainable=True, **kwargs):
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to Model: {sorted(kwargs)}")
        if inputs is None or outputs is None:
            raise TypeError("Model needs `inputs` and `outputs` (the functional API); subclassed models are not "
                            "supported. Use Model(inputs, outputs) or Sequential.")
        self.name = name or auto_name("Functional")
        self.trainable = trainable
        self._init_trainer()
        self._set_graph(inputs, outputs)

    def _set_graph(self, inputs, outputs):
        self.inputs, self._input_kind, in_keys = _structure(inputs, "inputs")
        self.outputs, self._output_kind, out_keys = _structure(outputs, "outputs")
        self._graph = Graph(self.inputs, self.outputs)
        self._graph.output_step_index = [self._graph.steps.index(s) if s is not None else None
                                         for s in self._graph.output_steps]
        self._input_layers = [t.node.layer for t in self.inputs]
        self.input_names = in_keys or [l.name for l in self._input_layers]
        names = out_keys or [t.node.layer.name for t in self.outputs]
        if len(set(names)) != len(names):
            names = [f"{n}_{i}" if names.count(n) > 1 else n for i, n in enumerate(names)]
        self.output_names = names
        self.built = True

    def _ensure_built(self, x=None):
        return None

    # ----- Keras-like properties -------------------------------------------
    @property
    def layers(self):
        return self._graph.layers

    @property
    def input(self):
        return self.inputs[0] if self._input_kind == "single" else self._pack(self.inputs, self._input_kind, self.input_names)

    @property
    def output(self):
        return self.outputs[0] if self._output_kind == "single" else self._pack(self.outputs, self._output_kind, self.output_names)

    @property
    def input_shape(self):
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @staticmethod
    def _pack(items, kind, names):
        if kind == "single":
            return items[0]
        if kind == "dict":
            return dict(zip(names, items))
        return list(items)

    def _pack_outputs(self, outputs):
        return self._pack(outputs, self._output_kind, self.output_names)

    def get_layer(self, name=None, index=None):
        if index is not None:
            if name is not None:
                raise ValueError("Provide only a layer name or a layer index, not both.")
            if not 0 <= index < len(self.layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has {len(self.layers)} layers.")
            return self.layers[index]
        for layer in self.layers + self._input_layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: {[l.name for l in self.layers]}.")

    # ----- weights ----------------------------------------------------------
    @property
    def weights(self):
        out, seen = [], set()
        for layer in self.layers:
            for v in layer.weights:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        out, seen = [], set()
        for layer in self.layers:
            for v in layer.trainable_weights:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    @property
    def non_trainable_weights(self):
        trainable = {id(v) for v in self.trainable_weights}
        return [v for v in self.weights if id(v) not in trainable]

    def get_weights(self):
        return [v.value.copy() for v in self.weights]

    def set_weights(self, weights):
        weights = list(weights)
        variables = self.weights
        if len(weights) != len(variables):
            raise ValueError(f'You called `set_weights(weights)` on model "{self.name}" with a weight list of length '
                             f"{len(weights)}, but the model was expecting {len(variables)} weights.")
        for var, value in zip(variables, weights):
            if np.shape(value) != var.shape:
                raise ValueError(f"Variable {var.path} has shape {var.shape}, received a weight of shape {np.shape(value)}")
        for var, value in zip(variables, weights):
            np.copyto(var.value, value, casting="unsafe")

    def count_params(self):
        return int(sum(v.value.size for v in self.weights))

    # ----- calling ----------------------------------------------------------
    def __call__(self, inputs, training=False):
        items = inputs if isinstance(inputs, (list, tuple, dict)) else [inputs]
        values = items.values() if isinstance(items, dict) else items
        if any(isinstance(t, KerasTensor) for t in values):
            raise NotImplementedError("Calling a model on symbolic tensors (nesting models) is not supported; "
                                      "build one functional graph from the layers instead.")
        xs = da.check_inputs(self, da.flatten_struct(inputs, self.input_names, "x"))
        if training:
            outputs, _ = self._graph.forward(xs, training=True)
        else:
            outputs = self._graph.infer(xs)
        return self._pack_outputs(outputs)

    def input_gradients(self, x, output_grads, training=False):
        """d(loss)/d(inputs) given d(loss)/d(outputs) (a list, one per output; None for unused outputs)."""
        xs = da.check_inputs(self, da.flatten_struct(x, self.input_names, "x"))
        outputs, caches = self._graph.forward(xs, training=training)
        grads = output_grads(outputs) if callable(output_grads) else output_grads
        grads = [None if g is None else np.ascontiguousarray(g, dtype=np.float32) for g in grads]
        for g, o, name in zip(grads, outputs, self.output_names):
            if g is not None and g.shape != o.shape:
                raise ValueError(f"The gradient for output {name!r} has shape {g.shape}, the output has shape {o.shape}")
        return self._graph.backward(caches, grads, input_grads=True)

    # ----- description ------------------------------------------------------
    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False,
                layer_range=None):
        from pycnn.models.summary import print_summary

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      show_trainable=show_trainable)

    def get_config(self):
        from pycnn.models.saving import functional_config

        return functional_config(self)

    @classmethod
    def from_config(cls, config):
        from pycnn.models.saving import functional_from_config

        return functional_from_config(config)

    def save(self, filepath, overwrite=True, include_optimizer=True):
        from pycnn.models.saving import save_model

        save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def save_weights(self, filepath, overwrite=True):
        from pycnn.models.saving import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        from pycnn.models.saving import load_weights

        load_weights(self, filepath)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

