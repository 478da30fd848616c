"""Activation names (Keras') mapped to what ``pycnn.ops`` computes.

Layers fuse these into their op call (``ops.conv2d(..., activation=...)``)
and differentiate with ``ops.activation_backward`` from the saved output.
Softmax is kept apart: it acts on a whole row and the model may fuse it
with the cross-entropy loss.
"""

from pycnn import ops

# Keras name -> (ops name, alpha); alpha None means the ops default.
_FUSABLE = {
    None: (None, None),
    "linear": (None, None),
    "relu": ("relu", None),
    "leaky_relu": ("leaky_relu", 0.2),
    "elu": ("elu", 1.0),
    "sigmoid": ("sigmoid", None),
    "tanh": ("tanh", None),
}

ALL = tuple(k for k in _FUSABLE if k) + ("softmax",)


def get(identifier):
    """A Keras activation name (or None) in canonical form; unknown names raise ValueError."""
    if identifier is None:
        return None
    if callable(identifier) and getattr(identifier, "__name__", None) in ALL:
        identifier = identifier.__name__
    if not isinstance(identifier, str) or identifier.lower() not in ALL:
        raise ValueError(f"Could not interpret activation function identifier: {identifier!r}. "
                         f"Expected one of {sorted(ALL)}.")
    name = identifier.lower()
    return None if name == "linear" else name


def fused(name):
    """(ops activation, alpha) for an activation the ops fuse; softmax maps to (None, None)."""
    if name == "softmax":
        return None, None
    return _FUSABLE[name]


def apply(x, name):
    if name is None:
        return x
    if name == "softmax":
        return ops.softmax(x)
    act, alpha = _FUSABLE[name]
    return ops.activation(x, act, alpha=alpha)


def relu(x):
    return ops.relu(x)


def leaky_relu(x, negative_slope=0.2):
    return ops.leaky_relu(x, negative_slope)


def elu(x, alpha=1.0):
    return ops.elu(x, alpha)


def sigmoid(x):
    return ops.sigmoid(x)


def tanh(x):
    return ops.tanh(x)


def softmax(x, axis=-1):
    return ops.softmax(x, axis=axis)


def linear(x):
    return x
