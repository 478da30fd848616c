"""pycnn.ops.conv (filled in with its kernel family)."""

__all__ = []
