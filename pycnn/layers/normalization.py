"""BatchNormalization over the last axis (Keras 3 semantics).

Training (``training=True`` and the layer trainable): normalise with the
batch mean and biased variance, and move the moving statistics in place:
moving = moving * momentum + batch * (1 - momentum). Otherwise (inference,
or a frozen layer, as Keras 3 does for ``trainable=False``) use the moving
statistics; backward is then the affine map dx = dy * gamma / sqrt(var + eps).
Weights: [gamma, beta, moving_mean, moving_variance]. A following
activation layer can be fused into the normalisation (``call_activated``).
"""

import numpy as np

from pycnn import ops, regularizers
from pycnn.layers.layer import Layer, serialize_initializer
from pycnn.regularizers import serialize as serialize_regularizer


class BatchNormalization(Layer):
    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 synchronized=False, **kwargs):
        super().__init__(**kwargs)
        if axis not in (-1,) and not isinstance(axis, int):
            raise ValueError(f"Layer {self.name}: `axis` must be an int, received axis={axis!r}")
        if not 0 <= momentum <= 1:
            raise ValueError(f"Layer {self.name}: `momentum` must be in [0, 1], received momentum={momentum}")
        if epsilon <= 0:
            raise ValueError(f"Layer {self.name}: `epsilon` must be > 0, received epsilon={epsilon}")
        if beta_constraint is not None or gamma_constraint is not None:
            raise ValueError(f"Layer {self.name}: weight constraints are not supported")
        self.axis = int(axis)
        self.momentum, self.epsilon = float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = serialize_initializer(beta_initializer)
        self.gamma_initializer = serialize_initializer(gamma_initializer)
        self.moving_mean_initializer = serialize_initializer(moving_mean_initializer)
        self.moving_variance_initializer = serialize_initializer(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def build(self, input_shape):
        rank = len(input_shape)
        if rank < 2 or self.axis not in (-1, rank - 1):
            raise ValueError(f"Layer {self.name} normalises the last axis (channels_last); received axis={self.axis} "
                             f"for input shape {tuple(input_shape)}")
        c = input_shape[-1]
        if c is None:
            raise ValueError(f"Layer {self.name}: the normalised axis must be defined, got input shape {tuple(input_shape)}")
        self.gamma = self.add_weight("gamma", (c,), self.gamma_initializer, self.gamma_regularizer) if self.scale else None
        self.beta = self.add_weight("beta", (c,), self.beta_initializer, self.beta_regularizer) if self.center else None
        self.moving_mean = self.add_weight("moving_mean", (c,), self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight("moving_variance", (c,), self.moving_variance_initializer, trainable=False)
        self._input_spec = (None,) * (rank - 1) + (c,)
        self.built = True

    def _params(self):
        gamma = self.gamma.value if self.gamma is not None else None
        beta = self.beta.value if self.beta is not None else None
        return gamma, beta

    def call(self, x, training=False):
        return self.call_activated(x, training, (None, None))

    def inference_affine(self):
        """(scale, offset), float64 per channel, with inference output = x * scale + offset
        (before any fused activation): what a producing convolution folds into its weights."""
        scale = 1.0 / np.sqrt(self.moving_variance.value.astype(np.float64) + self.epsilon)
        if self.gamma is not None:
            scale = scale * self.gamma.value
        offset = -self.moving_mean.value * scale
        if self.beta is not None:
            offset = offset + self.beta.value
        return scale, offset

    def call_activated(self, x, training, activation):
        """call() followed by ``activation`` (ops name, alpha), fused into the normalisation pass.

        The model uses it when an activation layer is this layer's only consumer.
        """
        op, alpha = activation
        gamma, beta = self._params()
        if training and self.trainable:
            y, mean, inv_std = ops.batch_norm_train(x, gamma, beta, self.moving_mean.value, self.moving_variance.value,
                                                    momentum=self.momentum, epsilon=self.epsilon,
                                                    activation=op, alpha=alpha)
            self._cache = (x, mean, inv_std, y, activation)
        else:
            y = ops.batch_norm_inference(x, gamma, beta, self.moving_mean.value, self.moving_variance.value,
                                         epsilon=self.epsilon, activation=op, alpha=alpha)
            self._cache = (None, None, None, y, activation)
        return y

    def backward(self, dy):
        gamma, _ = self._params()
        x, mean, inv_std, y, (op, alpha) = self._cache
        if mean is None:
            if op is not None:
                dy = ops.activation_backward(dy, op, y=y, alpha=alpha)
            scale = 1.0 / np.sqrt(self.moving_variance.value + np.float32(self.epsilon))
            if gamma is not None:
                scale = scale * gamma
            return (dy * scale.astype(np.float32)).astype(np.float32)
        dx, dgamma, dbeta = ops.batch_norm_backward(dy, x, gamma, mean, inv_std, activation=op, alpha=alpha, y=y)
        if self.gamma is not None:
            self._store_grad(self.gamma, dgamma)
        if self.beta is not None:
            self._store_grad(self.beta, dbeta)
        return dx

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "beta_initializer": self.beta_initializer,
                "gamma_initializer": self.gamma_initializer, "moving_mean_initializer": self.moving_mean_initializer,
                "moving_variance_initializer": self.moving_variance_initializer,
                "beta_regularizer": serialize_regularizer(self.beta_regularizer),
                "gamma_regularizer": serialize_regularizer(self.gamma_regularizer)}
