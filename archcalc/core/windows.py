"""Window geometry, once: kernel, stride, dilation, padding, ceil mode, span and dropped rows.

Every windowed layer (convolutions, max/average pooling, LeNet's subsampling) describes
itself on an input by one :class:`Geometry`; output sizes, memory, exact-tiling scans and
receptive fields all read that one value, so no analysis re-derives padding or dilation.
Sizes may be ints or sympy expressions (only ``+ - * //`` and :func:`ceildiv` are used).

The receptive-field rule of every layer type is one of the small values at the end of this
module (or a :class:`Geometry`): the layer says what it does to a field, and
:mod:`archcalc.analyses.receptive` does the arithmetic.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ShapeError
from .shapes import effective_kernel, is_known, pads_per_axis, per_axis, same_padding, window_out


@dataclass(frozen=True)
class Geometry:
    """Windows of one layer on one input, per spatial axis.

    ``padding`` is explicit ((before, after), ...), TensorFlow's 'same' already resolved at
    this input size; ``out_size`` counts the window positions (floor or ceil mode).
    """

    in_size: tuple
    kernel: tuple
    stride: tuple
    dilation: tuple
    padding: tuple
    ceil_mode: bool
    out_size: tuple

    @property
    def extent(self) -> tuple:
        """Cells one window covers, holes of a dilated kernel included: d·(k − 1) + 1."""
        return tuple(effective_kernel(k, d) for k, d in zip(self.kernel, self.dilation))

    @property
    def span(self) -> tuple:
        """Cells of the padded input that the windows cover: (out − 1)·stride + extent."""
        return tuple((o - 1) * s + e for o, s, e in zip(self.out_size, self.stride, self.extent))

    @property
    def pad_before(self) -> tuple:
        return tuple(before for before, _ in self.padding)

    @property
    def dropped(self) -> tuple:
        """Input rows (columns, ...) past the end of the last window (docs/conventions.md,
        "Dropped rows"): max(0, pad_before + in − span).  Integer sizes only."""
        return tuple(max(0, before + size - span)
                     for size, span, before in zip(self.in_size, self.span, self.pad_before))

    @property
    def reads_padding(self) -> bool:
        """Whether some window reaches a padded (or, in ceil mode, overhanging) cell."""
        return not all(before == 0 and span <= size
                       for size, span, before in zip(self.in_size, self.span, self.pad_before))


def resolve_padding(padding, in_size: tuple, kernel: tuple, stride: tuple,
                    dilation: tuple) -> tuple:
    """Explicit ((before, after), ...) for a declared padding at this input size."""
    padding = pads_per_axis(padding, len(in_size))
    if padding != "same":
        return padding
    return tuple(same_padding(size, k, s, d)[1:]
                 for size, k, s, d in zip(in_size, kernel, stride, dilation))


def window_geometry(in_size: tuple, kernel: tuple, stride: tuple, padding, dilation: tuple,
                    ceil_mode: bool = False) -> Geometry:
    """The :class:`Geometry` of a window layer on an input of spatial size ``in_size``,
    after checking that the padded input holds at least one window.  Attributes are as
    declared (one int for every axis, or one value per axis: checked against the rank)."""
    rank = len(in_size)
    kernel, stride = per_axis(kernel, rank, "kernel"), per_axis(stride, rank, "stride")
    dilation = per_axis(dilation, rank, "dilation")
    pads = resolve_padding(padding, in_size, kernel, stride, dilation)
    out = []
    for size, k, s, d, (before, after) in zip(in_size, kernel, stride, dilation, pads):
        extent = effective_kernel(k, d)
        if is_known(size, before, after) and before + size + after < extent:
            padded = "×".join(str(n + sum(p)) for n, p in zip(in_size, pads))
            dilated = "" if d == 1 else f" (dilated extent {extent})"
            raise ShapeError(f"kernel {'×'.join(map(str, kernel))}{dilated} is larger than the "
                             f"padded input {padded}")
        out.append(window_out(size, k, s, before, after, d, ceil_mode))
    return Geometry(tuple(in_size), tuple(kernel), tuple(stride), tuple(dilation), pads,
                    ceil_mode, tuple(out))


# --- receptive-field rules ---------------------------------------------------------------
@dataclass(frozen=True)
class Keep:
    """Elementwise: each unit sees what the unit at the same place saw."""


@dataclass(frozen=True)
class Whole:
    """Each unit sees a window of ``extents`` at the map's origin, after which the units
    lie on no grid (dense, global and adaptive pooling); None: the whole map."""

    extents: tuple | None = None


@dataclass(frozen=True)
class Union:
    """A merge: each unit sees the union of what its inputs' units saw (``inputs``: which
    inputs carry data; None: all of them)."""

    inputs: tuple | None = None


@dataclass(frozen=True)
class Refine:
    """A layer that moves the grid without a window of its own, per axis, in units of the
    input grid's jump J (docs/receptive-fields.md, "Upsampling, transposed convolution,
    padding"):

        rf'    = rf + grow·J
        start' = start + shift·J
        jump'  = pitch·J

    ``pitch`` is the distance between neighbouring output units in input units (1/s for
    upsampling by s), ``shift`` moves the grid's first unit, ``grow`` widens every field
    (linear interpolation reads two neighbours: one more input unit).  Values are
    Fractions.  Nearest upsampling, linear interpolation, transposed convolution and
    padding each state their three numbers (see their ``field_rule``)."""

    pitch: tuple
    shift: tuple
    grow: tuple
