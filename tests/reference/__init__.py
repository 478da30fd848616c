"""Plain NumPy float64 references, one module per kernel family.

Written to be read, not to be fast: each forward has its backward beside it.
Tests compare the float32 kernels against these, and these against central
finite differences (see tests/gradcheck.py).
"""
