"""Layer types.  :data:`REGISTRY` maps each type name to its class, importing the
type's module on first use (archcalc.layers.base.MODULES lists where each type is)."""
from .base import REGISTRY, Counts, Layer, register

__all__ = ["REGISTRY", "Counts", "Layer", "register"]
