"""Nearest-neighbour upsampling by an integer factor per axis (U-Net, FPN decoders)."""
from __future__ import annotations

from dataclasses import dataclass

from ..core.shapes import Shape
from ..core.windows import Refine
from ..core.work import Work
from ..spec.fields import attr, choice, pair
from .base import Layer, register, require_map


@register
@dataclass(frozen=True)
class Upsample(Layer):
    """y[c, i, j] = x[c, ⌊i / sh⌋, ⌊j / sw⌋]: C×H×W → C×(sh·H)×(sw·W) (PyTorch's
    ``nn.Upsample(scale_factor=s, mode='nearest')``).  A copy: no params, no MACs, no
    arithmetic; one connection per output (each reads one input).
    """
    type_name = "upsample"
    scale: tuple = attr(pair, doc="integer factor, n or [sh, sw]")
    mode: str = attr(choice("nearest"), "nearest", "interpolation: nearest")

    def out_shape(self, x: Shape) -> Shape:
        require_map(self, x)
        (h, w), (sh, sw) = x.spatial, self.scale
        return Shape.of(x.channels, h * sh, w * sw)

    def connections(self, x: Shape, y: Shape):
        return y.numel

    def work(self, x: Shape, y: Shape) -> Work:
        return Work()  # copies only

    def field_rule(self, x: Shape):
        return Refine(self.scale)

    def forward(self, x, weights, ops):
        """Each cell repeated sh×sw times, by one broadcast copy into a new array (a reshape
        of the broadcast view would alias the input when H or W is 1, and be read-only)."""
        import numpy as np

        (n, c, h, w), (sh, sw) = x.shape, self.scale
        y = np.empty((n, c, h * sh, w * sw), dtype=x.dtype)
        y.reshape(n, c, h, sh, w, sw)[...] = x[:, :, :, None, :, None]
        return y
