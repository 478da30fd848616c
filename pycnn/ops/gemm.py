"""pycnn.ops.gemm (filled in with its kernel family)."""

__all__ = []
