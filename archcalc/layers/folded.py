"""An activation folded into the row of the layer it follows (conv+relu, dense+relu, add+relu)."""
from __future__ import annotations

from ..spec.fields import attr, choice, optional
from .activation import ACTIVATIONS


def activation_attr():
    return attr(optional(choice(*ACTIVATIONS)), None,
                "activation applied to this layer's output in the same row")
