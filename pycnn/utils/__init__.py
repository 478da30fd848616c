"""Keras-style utilities: one-hot labels, seeding, argument helpers."""

from pycnn.utils.argument_validation import standardize_padding, standardize_tuple
from pycnn.utils.naming import clear_session
from pycnn.utils.numerical_utils import normalize, to_categorical
from pycnn.utils.random import set_random_seed

__all__ = [
    "clear_session",
    "normalize",
    "set_random_seed",
    "standardize_padding",
    "standardize_tuple",
    "to_categorical",
]
