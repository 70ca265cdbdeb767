"""Nearest-neighbour upsampling by an integer factor per axis (U-Net, FPN decoders)."""
from __future__ import annotations

from dataclasses import dataclass

from ..core.shapes import Shape, per_axis
from ..core.windows import Refine
from ..core.backward import NOTHING, Backward, Needs, Saved
from ..core.work import Work
from ..spec.fields import attr, axes, choice
from .base import Layer, register, require_map


@register
@dataclass(frozen=True)
class Upsample(Layer):
    """y[c, i, j] = x[c, ⌊i / sh⌋, ⌊j / sw⌋]: C×H×W → C×(sh·H)×(sw·W) (PyTorch's
    ``nn.Upsample(scale_factor=s, mode='nearest')``).  A copy: no params, no MACs, no
    arithmetic; one connection per output (each reads one input).
    """
    type_name = "upsample"
    scale: object = attr(axes, doc="integer factor: n, or one per spatial axis")
    mode: str = attr(choice("nearest"), "nearest", "interpolation: nearest")

    def out_shape(self, x: Shape) -> Shape:
        require_map(self, x)
        scale = per_axis(self.scale, len(x.spatial), "scale")
        return Shape.of(x.channels, *(n * s for n, s in zip(x.spatial, scale)))

    def connections(self, x: Shape, y: Shape):
        return y.numel

    def work(self, x: Shape, y: Shape) -> Work:
        return Work()  # copies only

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        """upsample_nearest_backward: each input cell sums the gradients of its copies."""
        return Backward(work=Work(additions=y.numel - x.numel) if needs.input else Work())

    def saved(self, x: Shape, y: Shape, needs: Needs) -> Saved:
        return NOTHING  # sizes only

    def field_rule(self, x: Shape):
        return Refine(per_axis(self.scale, len(x.spatial), "scale"))

    def forward(self, x, weights, ops):
        """Each cell repeated sh×sw times, by one broadcast copy into a new array (a reshape
        of the broadcast view would alias the input when H or W is 1, and be read-only)."""
        import numpy as np

        n, c, *sizes = x.shape
        scale = per_axis(self.scale, len(sizes), "scale")
        y = np.empty((n, c) + tuple(a * s for a, s in zip(sizes, scale)), dtype=x.dtype)
        split = sum(((a, s) for a, s in zip(sizes, scale)), ())
        spread = (slice(None), slice(None)) + sum(((slice(None), None) for _ in sizes), ())
        y.reshape((n, c) + split)[...] = x[spread]
        return y
