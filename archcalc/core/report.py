"""The analysis of a model as immutable values: a row per layer, totals derived from rows."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from .dtypes import DTYPE_BYTES
from .engine import propagate
from ..errors import ArchcalcError
from .graph import Model
from .shapes import Shape


#: The counted columns, in table order; totals sum each of them over the rows.
COUNT_FIELDS = ("params", "connections", "macs", "flops", "activations", "activation_bytes")


@dataclass(frozen=True)
class LayerReport:
    """Figures of one layer for the whole batch (params are per model, not per sample)."""

    name: str
    type: str
    in_shape: Shape
    out_shape: Shape
    params: int
    connections: int
    macs: int
    flops: int
    activations: int
    activation_bytes: int
    #: the Layer object; not part of JSON or equality
    layer: object = field(default=None, compare=False, repr=False)
    #: the shapes of every input, ``in_shape`` being the first (merges read several)
    in_shapes: tuple = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class Totals:
    """The sums of a report's rows, with the bytes of the parameters."""

    params: int
    connections: int
    macs: int
    flops: int
    activations: int
    activation_bytes: int
    param_bytes: int


@dataclass(frozen=True)
class Report:
    """A model's rows for one batch and dtype, under a counting convention."""

    model: str
    input_shape: Shape
    batch: int
    dtype: str
    layers: tuple
    #: the counting convention of macs/flops/... (archcalc.conventions); "archcalc" = ours
    convention: str = "archcalc"
    #: per-row operation split (archcalc.core.work.Work) when a convention defines its own
    work: tuple | None = field(default=None, compare=False, repr=False)
    #: table --train: a training step's row per layer (archcalc.analyses.training), the
    #: optimizer and its update's FLOPs
    training: tuple | None = field(default=None, compare=False, repr=False)
    optimizer: str | None = None
    optimizer_flops: int | None = None

    @cached_property
    def totals(self) -> Totals:
        sums = {f: sum(getattr(r, f) for r in self.layers) for f in COUNT_FIELDS}
        return Totals(**sums, param_bytes=sums["params"] * DTYPE_BYTES[self.dtype])


def analyse(model: Model, input_shape: Shape | None = None, batch: int = 1,
            dtype: str | None = None, fixed_head: bool = True) -> Report:
    """Run the engine and scale its per-sample rows by ``batch`` and ``dtype``.

    Batch multiplies connections, MACs, FLOPs, activations and their bytes; params do not
    depend on it (docs/conventions.md).
    """
    if getattr(batch, "is_Symbol", False):  # symbolic mode: batch N (archcalc.analyses.symbolic)
        pass
    elif isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ArchcalcError(f"batch must be a positive integer, got {batch!r}")
    dtype = dtype or model.dtype
    if dtype not in DTYPE_BYTES:
        raise ArchcalcError(f"unknown dtype '{dtype}'; choose from {', '.join(DTYPE_BYTES)}")
    size = DTYPE_BYTES[dtype]
    rows = []
    for row in propagate(model, input_shape, fixed_head):
        c = row.counts
        rows.append(LayerReport(
            name=row.name, type=row.type, in_shape=row.in_shape, out_shape=c.out_shape,
            params=c.params, connections=batch * c.connections, macs=batch * c.macs,
            flops=batch * c.flops, activations=batch * c.activations,
            activation_bytes=batch * c.activations * size, layer=row.layer,
            in_shapes=row.in_shapes,
        ))
    return Report(model.name, input_shape or model.input_shape, batch, dtype, tuple(rows))
