"""The tutorials' networks as one-line builders (Keras-style ``applications``).

Each builder returns a new, uncompiled model with freshly initialised
weights. ``NETWORKS`` maps the names the ``pycnn`` command uses to them.
"""

from pycnn.applications.cifar10 import cifar10_cnn, cifar10_mlp, two_conv_net
from pycnn.applications.faces import faces_gender_cnn
from pycnn.applications.mnist import mnist_cnn

NETWORKS = {
    "mnist": mnist_cnn,
    "cifar10": cifar10_cnn,
    "cifar10-mlp": cifar10_mlp,
    "two-conv": two_conv_net,
    "faces": faces_gender_cnn,
}


def get(name):
    """The builder registered under ``name`` (see NETWORKS)."""
    try:
        return NETWORKS[name]
    except KeyError:
        raise ValueError(f"unknown network {name!r}; choose one of: {', '.join(NETWORKS)}") from None


__all__ = ["NETWORKS", "cifar10_cnn", "cifar10_mlp", "faces_gender_cnn", "get", "mnist_cnn", "two_conv_net"]
