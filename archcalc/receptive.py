"""Receptive fields: for every layer, the field size, jump and start of its units.

Per axis, with input pixels indexed 0, 1, 2, … and pixel i centred at i, a unit grid is
described by three numbers (docs/receptive-fields.md):

* ``rf``    — how many input pixels one unit's field spans (holes of dilated windows
  included, zero padding included: the field may run past the image border);
* ``jump``  — the distance in input pixels between neighbouring units;
* ``start`` — the centre of the first unit's field (may be negative or a half pixel).

A window layer with kernel k, stride s, dilation d and leading padding p (TensorFlow's
'same' padding resolved at the actual input size, as the engine does) maps them to::

    extent = d·(k − 1) + 1
    rf'    = rf + (extent − 1)·jump
    start' = start + ((extent − 1)/2 − p)·jump
    jump'  = jump·s

Elementwise layers (activations, LRN, batch norm, dropout) keep the grid.  Global layers
(dense, RBF, global pooling) see the whole map: their field is that of a window as large
as the map, and their units lie on no grid (jump is None).  Adaptive pooling is a
window of its largest bin with no regular grid, unless it keeps the size (identity).
For concatenations and residual sums the field is the largest over the paths (by area),
and the row says so.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction

from .engine import propagate
from .layers.conv import Conv, resolve_padding
from .layers.dense import FullyConnected
from .layers.pool import AdaptiveAvgPool, GlobalAvgPool, Window
from .model import ConcatNode, LayerNode, Model
from .shapes import Shape, ceildiv, effective_kernel


@dataclass(frozen=True)
class Field:
    """The receptive field of one layer's units, (height, width) per quantity."""

    name: str
    rf: tuple
    jump: tuple | None      # None: the units lie on no spatial grid (global layers)
    start: tuple            # Fractions
    paths: int = 1          # > 1: the largest field over this many paths (concat, residual)
    size: tuple = ()        # spatial size of the layer's output map (kept through flatten)


def _window(f: Field, kernel, stride, dilation, before) -> Field:
    rf, jump, start = [], [], []
    for r, j, s0, k, s, d, p in zip(f.rf, f.jump, f.start, kernel, stride, dilation, before):
        ext = effective_kernel(k, d)
        rf.append(r + (ext - 1) * j)
        start.append(s0 + (Fraction(ext - 1, 2) - p) * j)
        jump.append(j * s)
    return replace(f, rf=tuple(rf), jump=tuple(jump), start=tuple(start))


def _whole(f: Field, extents) -> Field:
    """A window of the given extents at the map origin, after which no grid is left."""
    if f.jump is None:
        return f
    return replace(f, rf=tuple(r + (e - 1) * j for r, e, j in zip(f.rf, extents, f.jump)),
                   start=tuple(s + Fraction(e - 1, 2) * j for s, e, j in zip(f.start, extents, f.jump)),
                   jump=None)


def _largest_bin(size: int, out: int) -> int:
    """max over i of ⌈(i+1)·size/out⌉ − ⌊i·size/out⌋ = ⌈(size + out − g)/out⌉, g = gcd:
    bin i spans ⌈f + size/out⌉ cells, f the fraction of i·size/out, at most 1 − g/out."""
    return ceildiv(size + out - math.gcd(size, out), out)


class _Walk:
    def __init__(self, rows):
        self.rows = {row.name: row for row in rows}
        self.fields: list[Field] = []

    def run(self, nodes, f: Field) -> Field:
        for node in nodes:
            if isinstance(node, LayerNode):
                f = self.layer(node, f)
            elif isinstance(node, ConcatNode):
                f = self.merge(node.path, [self.run(b, f) for b in node.branches])
            else:
                f = self.merge(node.path, [self.run(node.body, f), self.run(node.shortcut, f)])
        return f

    def merge(self, name: str, outs: list) -> Field:
        best = max(outs, key=lambda o: o.rf[0] * o.rf[1])  # first of the largest on ties
        f = replace(best, name=name, paths=len(outs))
        self.fields.append(f)
        return f

    def layer(self, node: LayerNode, f: Field) -> Field:
        layer, row = node.layer, self.rows[node.path]
        x: Shape = row.in_shape
        f = replace(f, name=node.path, paths=1)
        if isinstance(layer, (Conv, Window)) and f.jump is not None:
            pads = resolve_padding(layer, x)
            f = _window(f, layer.kernel, layer.stride, getattr(layer, "dilation", (1, 1)),
                        [p[0] for p in pads])
        elif isinstance(layer, (GlobalAvgPool, FullyConnected)):
            f = _whole(f, f.size)
        elif isinstance(layer, AdaptiveAvgPool) and tuple(x.spatial) != tuple(layer.output):
            f = _whole(f, [_largest_bin(n, o) for n, o in zip(x.spatial, layer.output)])
        y = row.counts.out_shape
        if y.is_map:
            f = replace(f, size=tuple(y.spatial))
        self.fields.append(f)
        return f


def receptive_fields(model: Model, input_shape: Shape | None = None) -> tuple:
    """A :class:`Field` per engine row, in the engine's order (integer sizes only)."""
    shape = input_shape or model.input_shape
    walk = _Walk(propagate(model, input_shape))
    start = Field("input", (1, 1), (1, 1), (Fraction(0), Fraction(0)), size=tuple(shape.spatial))
    walk.run(model.nodes, start)
    return tuple(walk.fields)
