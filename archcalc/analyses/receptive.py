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
Each layer type states which of these it is (``field_rule``, archcalc.core.windows).

Merges (add, multiply, concat) see, per output unit, the union of the fields of their
inputs (``paths`` says over how many).  Per axis, when the inputs share a jump, the union
of the intervals [start − (rf − 1)/2, start + (rf − 1)/2] gives the merged rf and start.
An input on no grid (a squeeze-and-excitation gate, which saw the whole map) makes every
merged unit see what it saw: the merged field is that input's, on no grid.  Inputs on
different jumps have no exact union on one grid; the widest (by area) is kept, and the
docs say so.  ``crop`` shifts the start of its first input's field by its offset.

Upsampling, transposed convolution and padding move the grid without a window of their
own (``Refine``): rf + grow·J, start + shift·J, jump pitch·J, each layer stating its
three numbers.  Nearest upsampling to out units from in divides the jump by out/in (a
Fraction): neighbouring units copy one source unit, so each keeps its source's rf; the
grid passes through the mean of their centres.  Linear interpolation reads two
neighbours (one more input jump of field); a transposed convolution is zero insertion
(pitch 1/s) followed by a stride-1 window.  Later windows then grow the field by
(extent − 1)·jump, a fractional pixel count, exact as a Fraction.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from ..core.engine import propagate
from ..core.graph import Model, walk
from ..core.shapes import Shape
from ..core.windows import Geometry, Refine, Union, Whole


@dataclass(frozen=True)
class Field:
    """The receptive field of one layer's units, one value per spatial axis per quantity
    ((height, width) in 2-D)."""

    name: str
    rf: tuple
    jump: tuple | None      # None: the units lie on no spatial grid (global layers)
    start: tuple            # Fractions
    paths: int = 1          # > 1: the largest field over this many paths (concat, residual)
    size: tuple = ()        # spatial size of the layer's output map (kept through flatten)


def _window(f: Field, g: Geometry) -> Field:
    rf, jump, start = [], [], []
    for r, j, s0, ext, s, p in zip(f.rf, f.jump, f.start, g.extent, g.stride, g.pad_before):
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


def _refine(f: Field, rule: Refine) -> Field:
    """A grid moved without a window (core.windows.Refine): rf + grow·J, start + shift·J,
    jump pitch·J, per axis (upsampling, transposed convolution, padding)."""
    return replace(f, rf=tuple(_whole_number(r + g * j) for r, g, j in zip(f.rf, rule.grow, f.jump)),
                   start=tuple(s0 + sh * j for s0, sh, j in zip(f.start, rule.shift, f.jump)),
                   jump=tuple(_whole_number(p * j) for p, j in zip(rule.pitch, f.jump)))


def _whole_number(x):
    """An rf or a jump: an int when whole (as windows keep them), else its Fraction."""
    x = Fraction(x)
    return x.numerator if x.denominator == 1 else x


def _area(f: Field):
    """The field's area (length in 1-D, volume in 3-D)."""
    area = 1
    for r in f.rf:
        area *= r
    return area


def _union(fields: list) -> Field:
    """The field of a unit that sees what each of ``fields`` saw (see the module doc)."""
    off_grid = [f for f in fields if f.jump is None]
    if off_grid:
        return max(off_grid, key=_area)  # first of the largest on ties
    if any(f.jump != fields[0].jump for f in fields):
        return max(fields, key=_area)
    rf, start = [], []
    for axis in range(len(fields[0].rf)):
        lo = min(f.start[axis] - Fraction(f.rf[axis] - 1, 2) for f in fields)
        hi = max(f.start[axis] + Fraction(f.rf[axis] - 1, 2) for f in fields)
        rf.append(hi - lo + 1)
        start.append((lo + hi) / 2)
    return replace(fields[0], rf=tuple(rf), start=tuple(start))


def receptive_fields(model: Model, input_shape: Shape | None = None) -> tuple:
    """A :class:`Field` per engine row, in the engine's order (integer sizes only)."""
    shape = input_shape or model.input_shape
    rows = {row.name: row for row in propagate(model, input_shape)}
    fields: list[Field] = []

    def step(node, inputs: tuple) -> Field:
        row = rows[node.path]
        layer = row.layer
        rule = layer.field_rule(layer.take(row.in_shapes))
        if isinstance(rule, Union):
            merged = [inputs[i] for i in (rule.inputs or range(len(inputs)))]
            f = replace(_union(merged), name=node.path, paths=len(merged))
        else:
            f = replace(inputs[0], name=node.path, paths=1)
            if isinstance(rule, Geometry) and f.jump is not None:
                f = _window(f, rule)
            elif isinstance(rule, Whole):
                f = _whole(f, rule.extents or f.size)
            elif isinstance(rule, Refine) and f.jump is not None:
                f = _refine(f, rule)
        y = row.counts.out_shape
        if y.is_map:
            f = replace(f, size=tuple(y.spatial))
        fields.append(f)
        return f

    axes = len(shape.spatial)
    start = Field("input", (1,) * axes, (1,) * axes, (Fraction(0),) * axes, size=tuple(shape.spatial))
    walk(model, start, step)
    return tuple(fields)
