"""The ``Layer`` base: Keras' lifecycle plus a backward pass.

``__init__`` validates arguments, ``build(input_shape)`` creates weights,
``call(x, training)`` computes and keeps in ``self._cache`` what backward
needs, ``backward(dy)`` returns the input gradient and stores each weight's
gradient. The model saves and restores ``_cache`` per graph node, so a
layer shared by several nodes works; weight gradients of a shared layer are
summed over its nodes within one backward pass.

``_cache`` (and ``_need_dx``, set by the model before ``backward``) are per
thread: two threads may run the same model at once
(``predict`` from several threads; the kernels release the GIL), and a call
in one thread never sees or overwrites what another thread's call kept. An
inference call writes nothing else on the layer or its weights.
"""

import itertools
import threading

import numpy as np

from pycnn import activations, initializers, ops, regularizers
from pycnn.layers.node import KerasTensor, Node
from pycnn.utils.naming import auto_name

# Every backward pass takes a fresh number (unique across threads, so two
# models trained in two threads do not mix their passes): a weight whose
# gradient was already written in the current pass accumulates.
_pass_numbers = itertools.count(1)
_thread = threading.local()


def next_backward_pass(weight_grads=True):
    """Start a backward pass in this thread; without ``weight_grads`` it only yields input gradients
    and leaves every weight's ``grad`` alone (an inference-mode pass has no side effects)."""
    _thread.backward_pass = next(_pass_numbers) if weight_grads else None


def current_backward_pass():
    """The number of this thread's latest backward pass (0 before any; None if it keeps no weight gradients)."""
    return getattr(_thread, "backward_pass", 0)


class Variable:
    """A weight: a float32 C-contiguous array updated in place, and its gradient."""

    __slots__ = ("name", "path", "value", "trainable", "regularizer", "_grad", "_grad_pass")

    def __init__(self, name, value, trainable=True, regularizer=None, path=None):
        self.name = name
        self.path = path or name
        self.value = np.ascontiguousarray(value, dtype=np.float32)
        self.trainable = trainable
        self.regularizer = regularizer
        self.grad = None
        self._grad_pass = -1

    @property
    def grad(self):
        """This backward pass's gradient, a float32 array shaped like ``value`` (or None)."""
        if isinstance(self._grad, ops.FactoredGradient):
            self._grad = self._grad.materialize()
        return self._grad

    @grad.setter
    def grad(self, value):
        self._grad = value

    @property
    def grad_for_update(self):
        """The gradient as the optimizer takes it: an array, or a dense kernel's
        ``FactoredGradient`` that the update computes as it goes (never stored)."""
        return self._grad

    @property
    def shape(self):
        return self.value.shape

    def numpy(self):
        return self.value.copy()

    def assign(self, value):
        value = np.asarray(value)
        if value.shape != self.value.shape:
            raise ValueError(f"Cannot assign a value of shape {value.shape} to variable {self.path!r} of shape {self.value.shape}")
        np.copyto(self.value, value, casting="unsafe")

    def __array__(self, dtype=None, copy=None):
        return self.value if dtype is None else self.value.astype(dtype)

    def __repr__(self):
        return f"<Variable path={self.path}, shape={self.value.shape}, dtype=float32>"


def shape_str(shape):
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


class Layer:
    """Base of every pycnn layer (names, arguments and defaults as Keras 3)."""

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None, batch_input_shape=None,
                 batch_size=None, input_dim=None, **kwargs):
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}")
        if dtype not in (None, "float32", np.float32):
            raise ValueError(f"Layer {type(self).__name__} computes in float32 only; received dtype={dtype!r}")
        if name is not None and (not isinstance(name, str) or not name or "/" in name):
            raise ValueError(f"Argument `name` must be a non-empty string without '/'. Received: name={name!r}")
        self.name = name or auto_name(type(self).__name__)
        self.trainable = bool(trainable)
        self.built = False
        self._weights = []
        self._inbound_nodes = []
        self._input_spec = None
        self._cache = None
        self._need_dx = True
        self._act = (None, None, None)  # (Keras name, ops name, alpha)
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            self._batch_input_shape = tuple(batch_input_shape)
        elif input_shape is not None:
            if isinstance(input_shape, int):
                input_shape = (input_shape,)
            self._batch_input_shape = (batch_size,) + tuple(input_shape)
        else:
            self._batch_input_shape = None

    # ----- per-thread state of the last call ------------------------------
    @property
    def _cache(self):
        return getattr(self._thread_state(), "cache", None)

    @_cache.setter
    def _cache(self, value):
        self._thread_state().cache = value

    @property
    def _need_dx(self):
        return getattr(self._thread_state(), "need_dx", True)

    @_need_dx.setter
    def _need_dx(self, value):
        self._thread_state().need_dx = value

    def _thread_state(self):
        state = self.__dict__.get("_thread_local")
        if state is None:
            state = self.__dict__.setdefault("_thread_local", threading.local())
        return state

    # ----- lifecycle -------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def call(self, inputs, training=False):
        raise NotImplementedError(f"Layer {type(self).__name__} does not implement call()")

    def backward(self, dy):
        raise NotImplementedError(f"Layer {type(self).__name__} ({self.name!r}) has no backward pass; it cannot be trained")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def _maybe_build(self, input_shape):
        if not self.built:
            self.build(input_shape)
            self.built = True

    def __call__(self, inputs, training=None, **kwargs):
        if kwargs:
            raise TypeError(f"Layer {self.name!r} got unexpected call arguments: {sorted(kwargs)}")
        listed = isinstance(inputs, (list, tuple))
        items = list(inputs) if listed else [inputs]
        if any(isinstance(t, KerasTensor) for t in items):
            if not all(isinstance(t, KerasTensor) for t in items):
                raise ValueError(f"Layer {self.name!r}: mix of symbolic tensors and arrays in the inputs")
            shapes = [t.shape for t in items]
            in_shape = shapes if listed else shapes[0]
            self._maybe_build(in_shape)
            self._check_input_shapes(shapes)
            return Node(self, items, self.compute_output_shape(in_shape), listed).output
        arrays = [np.asarray(a, dtype=np.float32) for a in items]
        shapes = [(None,) + a.shape[1:] for a in arrays]
        self._maybe_build(shapes if listed else shapes[0])
        self._check_input_shapes([a.shape for a in arrays])
        return self.call(arrays if listed else arrays[0], training=bool(training))

    def _check_input_shapes(self, shapes):
        spec = self._input_spec
        if spec is None:
            return
        specs = spec if isinstance(spec, list) else [spec]
        for i, (want, got) in enumerate(zip(specs, shapes)):
            if want is None:
                continue
            ok = len(want) == len(got) and all(w is None or g is None or w == g for w, g in zip(want, got))
            if not ok:
                raise ValueError(f'Input {i} of layer "{self.name}" is incompatible with the layer: '
                                 f"expected shape={shape_str(want)}, found shape={shape_str(got)}")

    def _require_rank(self, input_shape, rank, what):
        if len(input_shape) != rank:
            raise ValueError(f'Input 0 of layer "{self.name}" is incompatible with the layer: expected ndim={rank} '
                             f"({what}), found ndim={len(input_shape)}. Full shape received: {shape_str(input_shape)}")

    # ----- activation fused into the layer's op --------------------------
    def _set_activation(self, activation):
        name = activations.get(activation)
        op, alpha = activations.fused(name) if name else (None, None)
        self.activation = name
        self._act = (name, op, alpha)

    def _activation_backward(self, dy, y):
        name, op, alpha = self._act
        if name == "softmax":
            return ops.softmax_backward(dy, y)
        if op is None:
            return dy
        return ops.activation_backward(dy, op, y=y, alpha=alpha)

    @staticmethod
    def cached_logits(cache):
        """The pre-softmax output saved by a layer that ends in a softmax (caches end with it)."""
        return cache[-1]

    @staticmethod
    def cache_for_backward_logits(cache):
        """What ``backward_logits`` reads of an ``(x, y, z)`` cache (a layer with a fused
        activation): x. The graph keeps only that where the consumer differentiates the
        activation, so the full-size output is freed after the forward pass."""
        return (cache[0], None, None)

    @property
    def ends_in_softmax(self):
        """True when the layer's output is a softmax over the last axis (fusable with cross-entropy)."""
        return self._act[0] == "softmax"

    # ----- weights ---------------------------------------------------------
    def add_weight(self, name, shape, initializer="glorot_uniform", regularizer=None, trainable=True):
        value = initializers.get(initializer)(tuple(shape))
        var = Variable(name, value, trainable=trainable, regularizer=regularizers.get(regularizer),
                       path=f"{self.name}/{name}")
        self._weights.append(var)
        return var

    def _store_grad(self, var, grad):
        current = current_backward_pass()
        if current is None:
            return
        if var._grad_pass == current:
            var.grad = var.grad + np.asarray(grad)
        else:
            var.grad = grad
            var._grad_pass = current

    @property
    def weights(self):
        return list(self._weights)

    @property
    def trainable_weights(self):
        return [v for v in self._weights if v.trainable] if self.trainable else []

    @property
    def non_trainable_weights(self):
        return [v for v in self._weights if not (v.trainable and self.trainable)]

    @property
    def variables(self):
        return self.weights

    def get_weights(self):
        return [v.value.copy() for v in self._weights]

    def set_weights(self, weights):
        weights = list(weights)
        if len(weights) != len(self._weights):
            raise ValueError(f'You called `set_weights(weights)` on layer "{self.name}" with a weight list of length '
                             f"{len(weights)}, but the layer was expecting {len(self._weights)} weights.")
        values = [np.asarray(w) for w in weights]
        for var, value in zip(self._weights, values):
            if value.shape != var.value.shape:
                raise ValueError(f"Layer {self.name} weight shape {var.value.shape} is not compatible with provided "
                                 f"weight shape {value.shape}.")
        for var, value in zip(self._weights, values):
            np.copyto(var.value, value, casting="unsafe")

    def count_params(self):
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer '{self.name}', but the layer isn't built. "
                             f"You can build it manually via: `layer.build(input_shape)`.")
        return int(sum(v.value.size for v in self._weights))

    # ----- graph properties -------------------------------------------------
    def _single_node(self, what):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name!r} has never been called and thus has no defined {what}.")
        if len(self._inbound_nodes) > 1 and what != "output shape":
            raise AttributeError(f"Layer {self.name!r} has multiple inbound nodes; `layer.{what}` is ill-defined.")
        return self._inbound_nodes[0]

    @property
    def output(self):
        return self._single_node("output").output

    @property
    def input(self):
        node = self._single_node("input")
        return node.inputs if node.listed else node.inputs[0]

    @property
    def output_shape(self):
        return self._single_node("output shape").output.shape

    # ----- config ----------------------------------------------------------
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": "float32"}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def serialize_initializer(init):
    return initializers.serialize(initializers.get(init))
