"""pycnn.ops.normalization (filled in with its kernel family)."""

__all__ = []
