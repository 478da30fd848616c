"""pycnn.ops.losses (filled in with its kernel family)."""

__all__ = []
