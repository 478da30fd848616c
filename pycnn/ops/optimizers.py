"""pycnn.ops.optimizers (filled in with its kernel family)."""

__all__ = []
