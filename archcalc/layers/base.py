"""The layer protocol and the explicit registry of layer types.

A layer type is one frozen dataclass holding its validated attributes and, side by side,
its output-shape rule, parameter count, connections, MACs, extra FLOPs (and, in the
numeric core, its NumPy forward).  Counts are per sample; the engine scales by batch.
Sizes may be ints or sympy expressions, so rules use only +, -, *, // and ceildiv.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..errors import ShapeError
from ..shapes import Shape, Size

REGISTRY: dict[str, type["Layer"]] = {}


def register(cls: type["Layer"]) -> type["Layer"]:
    """Add a layer class to the registry under its ``type_name``."""
    if cls.type_name in REGISTRY:
        raise RuntimeError(f"layer type {cls.type_name!r} registered twice")
    REGISTRY[cls.type_name] = cls
    return cls


@dataclass(frozen=True)
class Counts:
    """Per-sample figures of one layer (see docs/conventions.md for each definition)."""

    out_shape: Shape
    params: Size
    connections: Size
    macs: Size
    flops: Size
    activations: Size


class Layer:
    """Base of every layer type.  Subclasses are frozen dataclasses."""

    type_name: ClassVar[str] = ""
    #: True when the output aliases the input (flatten, inference dropout): no new memory.
    is_view: ClassVar[bool] = False

    def out_shape(self, x: Shape) -> Shape:
        raise NotImplementedError

    def params(self, x: Shape) -> Size:
        return 0

    def macs(self, x: Shape, y: Shape) -> Size:
        """Multiply-accumulates of the layer's linear map (products with weights)."""
        return 0

    def connections(self, x: Shape, y: Shape) -> Size:
        """LeNet-5's connections: input→output edges plus one per trainable bias."""
        return 0

    def extra_flops(self, x: Shape, y: Shape) -> Size:
        """Elementwise work on top of 2 × MACs (bias adds, comparisons, activations...)."""
        return 0

    # --- numeric core (NumPy is imported inside these methods, never at module level) ---

    def init_weights(self, x: Shape, rng, dtype) -> dict:
        """The arrays the layer holds for input ``x``, PyTorch/ONNX layout; {} if none."""
        return {}

    def workspace(self, x: Shape, batch: int = 1) -> Size:
        """Elements the forward on a batch of ``batch`` inputs ``x`` holds at its peak
        besides its input and output (buffers reused across samples do not scale)."""
        return 0

    def forward(self, x, weights: dict, ops):
        """The output array for a batch ``x`` ((N, C, H, W) or (N, F)).  Products with
        weights go through ``ops`` (:class:`archcalc.tally.Ops`) so their MACs are counted."""
        raise NotImplementedError(f"{self.type_name} has no forward")

    @property
    def label(self) -> str:
        """The type as shown in a table row (a folded activation appears as conv+relu)."""
        act = getattr(self, "activation", None)
        return f"{self.type_name}+{act}" if act else self.type_name

    def counts(self, x: Shape) -> Counts:
        y = self.out_shape(x)
        macs = self.macs(x, y)
        return Counts(
            out_shape=y,
            params=self.params(x),
            connections=self.connections(x, y),
            macs=macs,
            flops=2 * macs + self.extra_flops(x, y),
            activations=0 if self.is_view else y.numel,
        )


def require_map(layer: Layer, x: Shape) -> None:
    """Spatial layers need a C×H×W input."""
    if not x.is_map:
        raise ShapeError(f"{layer.type_name} needs a C×H×W input, got {x}")
