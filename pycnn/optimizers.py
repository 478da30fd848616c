"""Optimizers with Keras 3 names, defaults and update rules.

Each step updates every parameter of the model in one fused ``pycnn.ops``
call (``sgd_update``, ``rmsprop_update``, ``adam_update``), in place.
Slot arrays (momenta, velocities) are created on the first step, one per
parameter, in the order of the model's trainable weights; they are saved
with the model so training resumes exactly. ``learning_rate`` may be a
float or a callable of the iteration count (a schedule). Gradient
clipping (clipnorm / clipvalue / global_clipnorm) follows Keras.
"""

import math

import numpy as np

from pycnn import ops


class Optimizer:
    _slot_names = ()

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None, **kwargs):
        if not kwargs.get("use_ema", False):
            kwargs.pop("use_ema", None)
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {sorted(kwargs)}")
        if sum(v is not None for v in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set.")
        if not callable(learning_rate) and (not isinstance(learning_rate, (int, float)) or learning_rate < 0):
            raise ValueError(f"Argument `learning_rate` must be a non-negative float or a schedule. "
                             f"Received: learning_rate={learning_rate!r}")
        self._learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.name = name or type(self).__name__.lower()
        self.iterations = 0
        self._slots = None
        self._shapes = None

    # ----- learning rate ---------------------------------------------------
    @property
    def learning_rate(self):
        lr = self._learning_rate
        return float(lr(self.iterations)) if callable(lr) else float(lr)

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = value

    # ----- slots -----------------------------------------------------------
    def build(self, variables):
        self._shapes = [v.shape for v in variables]
        self._slots = {name: [np.zeros(s, dtype=np.float32) for s in self._shapes] for name in self._active_slots()}

    def _active_slots(self):
        return self._slot_names

    @property
    def variables(self):
        """[iterations] followed by every slot array, in a fixed order (for saving)."""
        out = [np.array([self.iterations], dtype=np.float32)]
        for name in self._active_slots():
            out.extend((self._slots or {}).get(name, []))
        return out

    def slot_arrays(self):
        return {name: list(arrays) for name, arrays in (self._slots or {}).items()}

    def load_slots(self, iterations, slots):
        self.iterations = int(iterations)
        self._slots = {name: [np.ascontiguousarray(a, dtype=np.float32) for a in arrays] for name, arrays in slots.items()}
        self._shapes = [a.shape for a in next(iter(self._slots.values()))] if self._slots else None

    # ----- applying gradients ----------------------------------------------
    def apply_gradients(self, grads_and_vars):
        pairs = [(g, v) for g, v in grads_and_vars if g is not None]
        grads = [np.ascontiguousarray(g, dtype=np.float32) for g, _ in pairs]
        params = [v.value if hasattr(v, "value") else v for _, v in pairs]
        self.apply(grads, params)

    def apply(self, grads, params):
        """Update ``params`` (float32 arrays, in place) from ``grads``; one optimizer step."""
        shapes = [p.shape for p in params]
        if self._slots is None or shapes != self._shapes:
            if self._slots is not None and self._shapes is not None:
                raise ValueError(f"Optimizer {self.name!r} was built for variables of shapes {self._shapes}, "
                                 f"received {shapes}. Use a new optimizer for a different model.")
            self.build([p for p in params])
        grads = self._clip(grads)
        lr = self.learning_rate
        if self.weight_decay and not self._fused_decay:
            factor = np.float32(self.weight_decay * lr)
            for p in params:
                p -= p * factor
        self.iterations += 1
        self._update(params, grads, lr)

    _fused_decay = False

    def _clip(self, grads):
        if self.clipvalue is not None or self.clipnorm is not None or self.global_clipnorm is not None:
            grads = [np.asarray(g) for g in grads]  # a FactoredGradient is clipped as its matrix
        if self.clipvalue is not None:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        if self.clipnorm is not None:
            out = []
            for g in grads:
                norm = math.sqrt(float(np.square(g, dtype=np.float64).sum()))
                out.append(g * np.float32(self.clipnorm / norm) if norm > self.clipnorm else g)
            return out
        if self.global_clipnorm is not None:
            norm = math.sqrt(sum(float(np.square(g, dtype=np.float64).sum()) for g in grads))
            if norm > self.global_clipnorm:
                scale = np.float32(self.global_clipnorm / norm)
                return [g * scale for g in grads]
        return grads

    def _update(self, params, grads, lr):
        raise NotImplementedError

    def get_config(self):
        lr = self._learning_rate
        return {"name": self.name, "learning_rate": lr if not callable(lr) else float(lr(0)),
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm, "clipvalue": self.clipvalue,
                "global_clipnorm": self.global_clipnorm}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class SGD(Optimizer):
    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name="SGD", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs)
        if not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
            raise ValueError(f"`momentum` must be a float between [0, 1]. Received: momentum={momentum!r}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def _active_slots(self):
        return ("momentums",) if self.momentum else ()

    def _update(self, params, grads, lr):
        velocities = self._slots["momentums"] if self.momentum else None
        ops.sgd_update(params, grads, velocities, learning_rate=lr, momentum=self.momentum, nesterov=self.nesterov)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="rmsprop", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = float(rho), float(momentum), float(epsilon), bool(centered)

    def _active_slots(self):
        return ("velocities",) + (("momentums",) if self.momentum else ()) + (("average_gradients",) if self.centered else ())

    def _update(self, params, grads, lr):
        s = self._slots
        ops.rmsprop_update(params, grads, s["velocities"], learning_rate=lr, rho=self.rho, epsilon=self.epsilon,
                           momentum=self.momentum, momenta=s.get("momentums"), centered=self.centered,
                           average_grads=s.get("average_gradients"))

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}


class Adam(Optimizer):
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="adam", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = float(beta_1), float(beta_2), float(epsilon), bool(amsgrad)

    _fused_decay = True

    def _active_slots(self):
        return ("momentums", "velocities") + (("velocity_hats",) if self.amsgrad else ())

    def _update(self, params, grads, lr):
        s = self._slots
        ops.adam_update(params, grads, s["momentums"], s["velocities"], learning_rate=lr, step=self.iterations,
                        beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon, amsgrad=self.amsgrad,
                        v_hat=s.get("velocity_hats"), weight_decay=float(self.weight_decay or 0.0))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (Keras 3 default weight_decay=0.004): p -= p * wd * lr before the update."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, clipnorm=None, clipvalue=None, global_clipnorm=None, name="adamw", **kwargs):
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, clipnorm, clipvalue,
                         global_clipnorm, name, **kwargs)


_CLASSES = {"SGD": SGD, "RMSprop": RMSprop, "Adam": Adam, "AdamW": AdamW}
_ALIASES = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW}


def get(identifier):
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _ALIASES.get(identifier.lower()) if identifier.lower() in _ALIASES else _CLASSES.get(identifier)
        if cls is not None:
            return cls()
    if isinstance(identifier, dict) and identifier.get("class_name") in _CLASSES:
        return _CLASSES[identifier["class_name"]].from_config(identifier.get("config", {}))
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}. Expected one of {sorted(_ALIASES)} "
                     f"or a pycnn.optimizers.Optimizer instance.")


def serialize(optimizer):
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}
