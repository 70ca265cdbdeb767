"""An activation folded into the row of the layer it follows (conv+relu, dense+relu)."""
from __future__ import annotations

from ..spec.fields import attr, choice, optional
from ..core.shapes import Shape
from .activation import ACTIVATION_FLOPS


def activation_attr():
    return attr(optional(choice(*ACTIVATION_FLOPS)), None,
                "activation applied to this layer's output in the same row")


def activation_flops(layer, y: Shape):
    act = layer.activation
    return ACTIVATION_FLOPS[act] * y.numel if act else 0
