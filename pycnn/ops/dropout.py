"""pycnn.ops.dropout (filled in with its kernel family)."""

__all__ = []
