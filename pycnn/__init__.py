"""pycnn — convolutional networks on the CPU with a Keras-compatible API.

The compiled core (``pycnn._core``) does the arithmetic; ``pycnn.ops`` is its
validated NumPy interface; ``layers``, ``models``, ``losses``, ``metrics``,
``optimizers`` and ``callbacks`` follow Keras 3.
"""

from pycnn import _core
from pycnn import ops

__version__ = "0.1.0"


def set_num_threads(n):
    """Set the number of threads every pycnn kernel uses (one OpenMP pool).

    Until this is called, ``OMP_NUM_THREADS`` (or the number of cores)
    decides. Results do not depend on the thread count.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads expects an int >= 1, got {n!r}")
    _core.set_num_threads(n)


def get_num_threads():
    """The number of threads pycnn kernels run on."""
    return _core.get_num_threads()


from pycnn import activations, initializers, regularizers, utils  # noqa: E402
from pycnn import layers, losses, metrics, optimizers, callbacks  # noqa: E402
from pycnn import models  # noqa: E402
from pycnn.models import Model, Sequential  # noqa: E402
from pycnn.models.gradients import gradients  # noqa: E402
from pycnn.layers import Input  # noqa: E402

__all__ = ["Input", "Model", "Sequential", "activations", "callbacks", "get_num_threads", "gradients",
           "initializers", "layers", "losses", "metrics", "models", "ops", "optimizers", "regularizers",
           "set_num_threads", "utils", "__version__"]
