"""pycnn.ops — the low-level, NumPy-in / NumPy-out interface to the core.

One documented function per kernel. Every function accepts any real-valued
array-like and converts it once to C-contiguous float32 (see
``_validate.as_float32``); results are new float32 arrays. Arguments are
checked before the core sees them, and errors are ``ValueError`` naming the
op, what was expected and what came. The ops most called on small tensors
(gemm, batch norm, dropout) first try the core's fast lane, which takes
arguments that are already float32, contiguous and in range as they are and
hands anything else to the checked path. Kernels release the GIL while they
run, except those on fewer than 16K elements (as numpy does: the release
would cost about as much as the kernel).
Activations are NHWC; convolution kernels are (kh, kw, in_channels/groups,
out_channels) and dense kernels (in, out), as in Keras.
"""

from pycnn.ops.gemm import *  # noqa: F401,F403
from pycnn.ops.conv import *  # noqa: F401,F403
from pycnn.ops.dense import *  # noqa: F401,F403
from pycnn.ops.pooling import *  # noqa: F401,F403
from pycnn.ops.normalization import *  # noqa: F401,F403
from pycnn.ops.activations import *  # noqa: F401,F403
from pycnn.ops.losses import *  # noqa: F401,F403
from pycnn.ops.dropout import *  # noqa: F401,F403
from pycnn.ops.factored import *  # noqa: F401,F403
from pycnn.ops.optimizers import *  # noqa: F401,F403
