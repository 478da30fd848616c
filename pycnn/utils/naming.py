"""Layer and model names made unique the way Keras makes them.

Keras keeps one counter per prefix for the whole session: the first Conv2D
is ``conv2d``, the next ``conv2d_1``. ``clear_session()`` resets them.
"""

import re

_uids = {}


def to_snake_case(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


def uniquify(prefix):
    count = _uids.get(prefix, 0)
    _uids[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


def auto_name(class_name):
    return uniquify(to_snake_case(class_name))


def clear_session():
    """Forget generated names (as ``keras.backend.clear_session``)."""
    _uids.clear()
