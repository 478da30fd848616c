"""Dense, Flatten, Reshape, Activation and Dropout."""

import math

import numpy as np

from pycnn import activations, ops, regularizers
from pycnn.layers.layer import Layer, serialize_initializer
from pycnn.regularizers import serialize as serialize_regularizer
from pycnn.utils.argument_validation import positive_int
from pycnn.utils.random import draw_seed


def _no_extras(layer, **extras):
    for key, value in extras.items():
        if value is not None:
            raise ValueError(f"Layer {layer}: argument `{key}` is not supported (received {value!r})")


# A kernel gradient x^T · dz is left to the optimizer as its factors when
# the batch is small and the kernel large: the update then computes it as
# it goes instead of the backward pass writing in x units floats that the
# update reads back. Dense backward + Adam per step, 1 thread: faces
# 10752 x 512 at batch 16 17.8 -> 13.3 ms, CIFAR 4096 x 128 at 32 3.3 -> 2.7.
_FACTORED_MAX_ROWS = 32
_FACTORED_MIN_WEIGHTS = 1 << 18


def _factored_kernel_grad(x, kernel):
    rows = x.size // max(x.shape[-1], 1)
    return rows <= _FACTORED_MAX_ROWS and kernel.size >= _FACTORED_MIN_WEIGHTS


class Dense(Layer):
    """y = activation(x @ kernel + bias) on the last axis; kernel (in, units)."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, lora_rank=None, **kwargs):
        super().__init__(**kwargs)
        self.units = positive_int(units, "units", type(self).__name__)
        self._set_activation(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = serialize_initializer(kernel_initializer)
        self.bias_initializer = serialize_initializer(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        _no_extras(self.name, activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                   bias_constraint=bias_constraint, lora_rank=lora_rank)

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f'Layer "{self.name}" expects inputs of rank >= 2 with a defined last axis, '
                             f"received input_shape={tuple(input_shape)}")
        fan_in = input_shape[-1]
        self.kernel = self.add_weight("kernel", (fan_in, self.units), self.kernel_initializer, self.kernel_regularizer)
        self.bias = (self.add_weight("bias", (self.units,), self.bias_initializer, self.bias_regularizer)
                     if self.use_bias else None)
        self._input_spec = (None,) * (len(input_shape) - 1) + (fan_in,)
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def call(self, x, training=False):
        name, op, alpha = self._act
        bias = self.bias.value if self.bias is not None else None
        y = z = ops.dense(x, self.kernel.value, bias, activation=op, alpha=alpha)
        if name == "softmax":
            y = ops.softmax(z)
        self._cache = (x, y, z)
        return y

    def backward(self, dy):
        return self.backward_logits(self._activation_backward(dy, self._cache[1]))

    def backward_logits(self, dz):
        """Backward from the gradient of the pre-activation output."""
        x = self._cache[0]
        factored = _factored_kernel_grad(x, self.kernel.value)
        dx, dk, db = ops.dense_backward(dz, x, self.kernel.value, need_input_grad=self._need_dx,
                                        need_bias_grad=self.use_bias, need_kernel_grad=not factored)
        if factored:
            units = self.kernel.value.shape[1]
            dk = ops.FactoredGradient(x.reshape(-1, x.shape[-1]), np.asarray(dz, np.float32).reshape(-1, units))
        self._store_grad(self.kernel, dk)
        if self.use_bias:
            self._store_grad(self.bias, db)
        return dx

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation or "linear",
                "use_bias": self.use_bias, "kernel_initializer": self.kernel_initializer,
                "bias_initializer": self.bias_initializer,
                "kernel_regularizer": serialize_regularizer(self.kernel_regularizer),
                "bias_regularizer": serialize_regularizer(self.bias_regularizer)}


class Flatten(Layer):
    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise ValueError(f"Layer {self.name}: only data_format='channels_last' is supported, received {data_format!r}")

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        flat = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], flat)

    def call(self, x, training=False):
        self._cache = x.shape
        return x.reshape(x.shape[0], math.prod(x.shape[1:]))  # not -1: an empty batch has no size to infer from

    def backward(self, dy):
        return dy.reshape(self._cache)

    def get_config(self):
        return {**super().get_config(), "data_format": "channels_last"}


class Reshape(Layer):
    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in target) > 1 or any(d == 0 or d < -1 for d in target):
            raise ValueError(f"Layer {self.name}: invalid target_shape={tuple(target_shape)}; use positive sizes and at most one -1")
        self.target_shape = target

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        if any(d is None for d in rest):
            return (input_shape[0],) + tuple(None if d == -1 else d for d in self.target_shape)
        size = math.prod(rest)
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if size % known:
                raise ValueError(f"Layer {self.name}: cannot reshape input of shape {tuple(input_shape)} to {self.target_shape}")
            out = tuple(size // known if d == -1 else d for d in self.target_shape)
        else:
            out = self.target_shape
        if math.prod(out) != size:
            raise ValueError(f"Layer {self.name}: total size of the new shape {self.target_shape} must be unchanged; "
                             f"input shape is {tuple(input_shape)} ({size} values per sample)")
        return (input_shape[0],) + out

    def call(self, x, training=False):
        self._cache = x.shape
        return x.reshape((x.shape[0],) + self.target_shape)

    def backward(self, dy):
        return dy.reshape(self._cache)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Activation(Layer):
    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self._set_activation(activation)

    def call(self, x, training=False):
        y = activations.apply(x, self.activation)
        self._cache = (x, y, x)
        return y

    def backward(self, dy):
        return self._activation_backward(dy, self._cache[1])

    def backward_logits(self, dz):
        return dz

    def get_config(self):
        return {**super().get_config(), "activation": self.activation or "linear"}


class Dropout(Layer):
    """Inverted dropout in training (kept values scaled by 1/(1-rate)); identity otherwise.

    The mask depends only on (seed, step): the layer's seed and a counter of
    its training calls, so a seeded run repeats exactly.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. "
                             f"Received: rate={rate!r}")
        _no_extras(self.name, noise_shape=noise_shape)
        self.rate = float(rate)
        self.seed = seed
        self._seed = int(seed) if seed is not None else draw_seed()
        self._step = 0

    def call(self, x, training=False):
        if not training or self.rate == 0:
            self._cache = None
            return x
        self._step += 1
        self._cache = self._step
        return ops.dropout(x, self.rate, self._seed, self._step)

    def backward(self, dy):
        if self._cache is None:
            return dy
        return ops.dropout_backward(dy, self.rate, self._seed, self._cache)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
