"""Explicit padding of a map's spatial axes (PyTorch's ``F.pad`` / ``nn.ConstantPad``,
``ReflectionPad``, ``ReplicationPad``, ``CircularPad``), in 1-D, 2-D and 3-D."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..core.shapes import Shape, is_known, pads_per_axis, product
from ..core.backward import NOTHING, Backward, Needs, Saved
from ..core.windows import Refine
from ..core.work import Work
from ..errors import ShapeError, SpecError
from ..spec.fields import attr, choice, number, optional, padding
from .base import Layer, register, require_map


def pad_widths(value):
    """p (every side of every axis), [p, …] (both sides of each axis) or [[before, after],
    …] (each side); 'same' and 'valid' belong to windows, not to a pad layer."""
    if isinstance(value, str):
        raise SpecError("pad takes p, [p, …] or [[before, after], …] cells, not a word")
    return padding(value)


@register
@dataclass(frozen=True)
class Pad(Layer):
    """C×n₁×… → C×(n₁ + before₁ + after₁)×…: the input copied into the middle, the border
    filled per ``mode`` (PyTorch's F.pad): constant (``value``), reflect (mirrored about
    the edge cell, which is not repeated: padding < size), replicate (the edge cell
    repeated), circular (wrapped around: padding ≤ size).

    No params, no MACs, no arithmetic (copies: Work()).  Connections: one per output cell
    that reads an input cell: constant, the input elements (border cells read none);
    reflect, replicate and circular, the output elements.
    """
    type_name = "pad"
    padding: object = attr(pad_widths, doc="p, [p, …] per axis, or [[before, after], …]")
    mode: str = attr(choice("constant", "reflect", "replicate", "circular"), "constant",
                     "constant, reflect, replicate or circular")
    value: object = attr(optional(number), None, "fill of mode constant (default 0)")

    def __post_init__(self):
        if self.value is not None and self.mode != "constant":
            raise SpecError(f"value fills mode constant only; mode {self.mode} copies input cells",
                            key="value")

    @property
    def fill(self) -> float:
        return 0.0 if self.value is None else self.value

    def pads(self, x: Shape) -> tuple:
        """((before, after), …) per spatial axis, checked against the input's sizes."""
        require_map(self, x)
        pads = pads_per_axis(self.padding, len(x.spatial))
        for n, (before, after) in zip(x.spatial, pads):
            if not is_known(n):
                continue
            if self.mode == "reflect" and max(before, after) >= n:
                raise ShapeError(f"reflect padding {max(before, after)} must be smaller than the "
                                 f"size it mirrors ({n}; PyTorch's rule)")
            if self.mode == "circular" and max(before, after) > n:
                raise ShapeError(f"circular padding {max(before, after)} must be at most the "
                                 f"size it wraps ({n}; PyTorch's rule)")
        return pads

    def out_shape(self, x: Shape) -> Shape:
        return Shape.of(x.channels, *(n + b + a for n, (b, a) in zip(x.spatial, self.pads(x))))

    def connections(self, x: Shape, y: Shape):
        return x.numel if self.mode == "constant" else y.numel

    def work(self, x: Shape, y: Shape) -> Work:
        return Work()  # copies only

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        """constant: the input's gradient is the middle of the output's (a copy);
        reflect, replicate and circular add each border cell's gradient into the input cell
        it copied (an add per border cell: output − input elements)."""
        if not needs.input or self.mode == "constant":
            return Backward()
        return Backward(work=Work(additions=y.numel - x.numel))

    def saved(self, x: Shape, y: Shape, needs: Needs) -> Saved:
        """reflection_pad and replication_pad's backward names their input (autograd keeps
        it, though only its shape is read); constant and circular padding keep nothing."""
        if needs.input and self.mode in ("reflect", "replicate"):
            return Saved(inputs=(0,))
        return NOTHING

    def field_rule(self, x: Shape):
        """The grid moves by the leading padding: start − before·J (the border units copy
        an edge or mirrored unit, or see nothing)."""
        pads = self.pads(x)
        return Refine((Fraction(1),) * len(pads), tuple(Fraction(-b) for b, _ in pads),
                      (Fraction(0),) * len(pads))

    def workspace(self, x: Shape, batch: int = 1) -> int:
        """np.pad in modes reflect, edge and wrap copies each border into a temporary before
        writing it (its source overlaps the array it writes; nothing in mode constant), one
        at a time: the largest border slab, C·Π(the other padded sizes)·max(before, after)
        over the axes (measured within 1 %)."""
        if self.mode == "constant":
            return 0
        pads = self.pads(x)
        sizes = [n + b + a for n, (b, a) in zip(x.spatial, pads)]
        total = product(sizes)
        return batch * x.channels * max(total // size * max(p) for size, p in zip(sizes, pads))

    def forward(self, x, weights, ops):
        """np.pad with NumPy's mode of the same meaning (npresample.NUMPY_PAD_MODES)."""
        from .npresample import pad

        return pad(x, self.pads(Shape.of(*x.shape[1:])), self.mode, self.fill)

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """The middle of the output's gradient, plus (reflect, replicate, circular) each
        border cell's gradient added into the input cell it copied (npgrad.pad_backward)."""
        from .npgrad import pad_backward

        if not needs.input:
            return None, {}
        return pad_backward(grad, self.pads(tape.in_shape), self.mode, tape.dims()), {}

    def backward_workspace(self, x, y, needs, batch, itemsize) -> int:
        from .npgrad import pad_workspace

        return pad_workspace(x.dims, self.pads(x), self.mode, batch, itemsize) if needs.input else 0


__all__ = ["Pad"]
