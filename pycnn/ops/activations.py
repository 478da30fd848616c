"""pycnn.ops.activations (filled in with its kernel family)."""

__all__ = []
