"""What every convention's rules share: the row view they read and the figures they give."""
from __future__ import annotations

from dataclasses import dataclass

from ..core.shapes import product
from ..core.work import Work


@dataclass(frozen=True)
class Figures:
    """One row's figures under a convention, for the whole batch (None: archcalc's)."""

    macs: int
    flops: int
    params: int | None = None
    activations: int | None = None
    work: Work | None = None


@dataclass(frozen=True)
class Layerish:
    """What a rule sees of a row: the layer type, its folded activation, the Layer, the
    per-sample shapes (``x`` the first input's) and the batch."""

    kind: str
    act: str | None
    layer: object
    x: object
    y: object
    n: int


def view(row, batch: int) -> Layerish:
    return Layerish(row.layer.type_name, getattr(row.layer, "activation", None), row.layer,
                    row.in_shape, row.out_shape, batch)


def weights(v: Layerish) -> int:
    """Weights (no bias) of a conv or dense layer, i.e. its MACs per output position."""
    if v.kind == "conv":
        return v.layer.weight_taps(v.x)
    return v.x.numel * v.layer.units


def archcalc_macs(v: Layerish) -> int:
    """archcalc's MACs, for LeNet-only types no tool has a module for (a stated assumption)."""
    return v.n * v.layer.macs(v.x, v.y)


def spatial(v: Layerish) -> int:
    """Output positions: H·W of a 2-D map (L in 1-D, D·H·W in 3-D)."""
    return product(v.y.spatial)
