"""The small ops' fast lane, called without a Python frame.

``fast_lane(entry)`` turns an op's Python function, its checked path, into a
``_core.FastOp`` (csrc/bindings/fast_op.cpp): a call binds the arguments in
C and runs ``entry`` (a ``_core.*_fast`` function) first. The Python
function runs only when ``entry`` returns None (an argument to convert or to
refuse) or when the arguments do not bind (the function then raises its own
TypeError). The defaults are read from the function once, when it is wrapped.
"""

import functools

from pycnn import _core

__all__ = ["fast_lane"]


def fast_lane(entry, order=None):
    """Decorator; ``order`` names the function's parameters in the order
    ``entry`` takes them (default: the function's own order)."""

    def wrap(function):
        code = function.__code__
        names = order or code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
        return functools.update_wrapper(_core.FastOp(entry, function, tuple(names)), function)

    return wrap
