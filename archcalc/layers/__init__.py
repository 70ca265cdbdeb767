"""Layer types.  Importing this package fills :data:`REGISTRY`, one class per type."""
from . import activation, channel, conv, dense, merge, norm, pad, pool, transpose, upsample  # noqa: F401  (registration)
from .base import REGISTRY, Counts, Layer, register

__all__ = ["REGISTRY", "Counts", "Layer", "register"]
