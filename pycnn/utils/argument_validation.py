"""Turn user arguments into canonical forms, as Keras' argument_validation does.

``3`` -> ``(3, 3)``, ``"SAME"`` -> ``"same"``; anything that makes no sense
raises ValueError naming the argument and what came.
"""

import numbers


def standardize_tuple(value, n, name, allow_zero=False):
    """An int or a length-n sequence of ints (>= 1, or >= 0 with allow_zero)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        items = (int(value),) * n
    else:
        try:
            items = tuple(value)
        except TypeError:
            raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value!r}") from None
        if len(items) != n or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in items):
            raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value!r}")
        items = tuple(int(v) for v in items)
    low = 0 if allow_zero else 1
    bad = [v for v in items if v < low]
    if bad:
        req = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers {req}. Received {name}={value!r}, "
                         f"including {bad[0]} that does not satisfy the requirement.")
    return items


def standardize_padding(value):
    """'valid' or 'same' in any case (Keras' padding modes for these layers)."""
    padding = value.lower() if isinstance(value, str) else value
    if padding not in ("valid", "same"):
        raise ValueError(f"The `padding` argument must be one of 'valid', 'same'. Received: padding={value!r}")
    return padding


def positive_int(value, name, layer):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"Invalid value for argument `{name}` of layer {layer}: expected a strictly positive "
                         f"integer, received {name}={value!r}")
    return int(value)
