"""pycnn.ops.pooling (filled in with its kernel family)."""

__all__ = []
