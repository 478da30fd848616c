"""pycnn.ops.dense (filled in with its kernel family)."""

__all__ = []
