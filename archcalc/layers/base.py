"""The layer protocol and the explicit registry of layer types.

A layer type is one frozen dataclass holding its validated attributes and, side by side,
everything archcalc knows about it: output-shape rule, parameter count, connections, MACs,
the split of its elementwise work (FLOPs are derived from it), its receptive-field rule,
and, for the numeric core, its weights, workspace and NumPy forward.  Counts are per
sample; the engine scales by batch.  Sizes may be ints or sympy expressions, so rules use
only +, -, *, // and ceildiv.

Most layers read one tensor (``arity = 1``) and their methods take its :class:`Shape` (or
array).  Merge layers (``arity = None``: add, multiply, concat; crop reads two) take the
tuple of their inputs' shapes (or arrays) instead; :meth:`Layer.take` hands each kind what
it expects, so every pass calls the same methods on every node.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import ClassVar

from ..core.backward import Backward, Needs, Saved
from ..core.shapes import Shape, Size
from ..core.windows import Keep
from ..core.work import Work
from ..errors import ShapeError

#: Every layer type, under the module of archcalc.layers that defines it, in the order
#: the registry lists them.  A type's module is imported when the type is first looked
#: up, so a command pays only for the types its spec uses; ``register`` refuses a class
#: that is not listed here under its own module.
MODULES = {
    "activation": ("relu", "relu6", "tanh", "sigmoid", "silu", "hardsigmoid", "hardswish",
                   "gelu", "leaky_relu", "elu", "mish", "prelu", "softmax", "dropout",
                   "stochastic_depth", "identity", "flatten"),
    "channel": ("channel_shuffle", "slice", "layer_scale"),
    "conv": ("conv",),
    "dense": ("dense", "rbf"),
    "merge": ("add", "multiply", "concat", "crop"),
    "norm": ("lrn", "batchnorm", "layernorm", "groupnorm", "instancenorm"),
    "pad": ("pad",),
    "pool": ("maxpool", "avgpool", "subsample", "gap", "adaptive_avgpool"),
    "transpose": ("conv_transpose",),
    "upsample": ("upsample",),
}

#: other spellings the spec accepts for a layer type (a row shows the type itself)
ALIASES = {"swish": "silu", "drop_path": "stochastic_depth"}


class Registry(Mapping):
    """Layer type name → class.  Names and membership come from :data:`MODULES` without
    importing anything; looking a class up imports its module (which registers it), and
    iterating over the classes (``values()``, ``items()``) imports every module."""

    def __init__(self, modules: dict[str, tuple[str, ...]]):
        self.module_of = {name: module for module, names in modules.items() for name in names}
        self._classes: dict[str, type[Layer]] = {}

    def add(self, cls: type["Layer"]) -> None:
        name = cls.type_name
        if cls.__module__ != f"{__package__}.{self.module_of.get(name)}":
            raise RuntimeError(f"layer type {name!r} ({cls.__module__}) is not listed under "
                               f"its module in archcalc.layers.base.MODULES")
        if name in self._classes:
            raise RuntimeError(f"layer type {name!r} registered twice")
        self._classes[name] = cls

    def __getitem__(self, name: str) -> type["Layer"]:
        cls = self._classes.get(name)
        if cls is None:
            module = f"{__package__}.{self.module_of[name]}"  # KeyError: no such type
            import_module(module)
            cls = self._classes.get(name)
            if cls is None:
                raise RuntimeError(f"{module} registers no layer type {name!r}, which "
                                   f"archcalc.layers.base.MODULES lists there")
        return cls

    def __contains__(self, name) -> bool:
        return name in self.module_of

    def __iter__(self):
        return iter(self.module_of)

    def __len__(self) -> int:
        return len(self.module_of)


REGISTRY = Registry(MODULES)


def register(cls: type["Layer"]) -> type["Layer"]:
    """Add a layer class to the registry under its ``type_name``."""
    REGISTRY.add(cls)
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
    #: True when the output aliases the input (flatten, inference dropout, crop): no new memory.
    is_view: ClassVar[bool] = False
    #: how many tensors the layer reads: 1, 2 (crop), or None for two or more (merges)
    arity: ClassVar[int | None] = 1

    def take(self, inputs: tuple):
        """What the other methods receive as ``x``: the one input, or the tuple of them."""
        return inputs[0] if self.arity == 1 else inputs

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

    def work(self, x: Shape, y: Shape) -> Work:
        """Elementwise work besides the MACs, by kind of operation (bias adds, comparisons,
        activations...).  FLOPs = 2 × MACs + its total: the one definition of both.  Every
        type states it, even when it is nothing (a test checks), so none is 0 by omission."""
        raise NotImplementedError(f"layer type '{self.type_name}' defines no work split")

    # --- training (archcalc.core.backward; docs/conventions.md, "Training") --------------

    #: True when the training forward makes no new tensor; None: as at inference
    #: (dropout and stochastic depth are views at inference only)
    train_is_view: ClassVar[bool | None] = None

    def train_work(self, x: Shape, y: Shape) -> Work:
        """The forward's elementwise work in training mode: as at inference but for the
        layers whose training forward differs (batch statistics, dropout masks)."""
        return self.work(x, y)

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        """Per-sample MACs and elementwise work of this layer's backward, computing the
        gradients ``needs`` asks for.  Every type states it (a test checks)."""
        raise NotImplementedError(f"layer type '{self.type_name}' defines no backward")

    def saved(self, x: Shape, y: Shape, needs: Needs) -> Saved:
        """What PyTorch's autograd keeps from this layer's forward for that backward.
        Every type states it (a test checks)."""
        raise NotImplementedError(f"layer type '{self.type_name}' states nothing saved")

    #: the positions of the inputs its backward sends a gradient to; None: every input
    #: (crop reads its second input for its size only)
    gradient_inputs: ClassVar[tuple | None] = None
    #: True when its backward hands one tensor to every input as their gradient (an add:
    #: its output's gradient, or its folded activation's derivative), which they share
    shares_gradient: ClassVar[bool] = False
    #: for a view: whether its input's gradient is a view of its output's (flatten,
    #: identity), or a new tensor of the input's size (a narrowing view: autograd's
    #: SliceBackward writes the gradient into zeros)
    gradient_is_view: ClassVar[bool] = True

    def geometry(self, x: Shape):
        """The :class:`~archcalc.core.windows.Geometry` of a windowed layer, else None."""
        return None

    def field_rule(self, x: Shape):
        """What the layer does to a receptive field (archcalc.core.windows): Keep, Whole,
        Union, Refine (a grid moved without a window: upsampling, transposed convolution,
        padding) or a Geometry.  Windowed layers slide their geometry."""
        return self.geometry(x) or Keep()

    # --- numeric core (NumPy is imported inside these methods, never at module level) ---

    def init_weights(self, x: Shape, rng, dtype) -> dict:
        """The arrays the layer holds for input ``x``, PyTorch/ONNX layout; {} if none."""
        return {}

    def workspace(self, x: Shape, batch: int = 1) -> Size:
        """Elements the forward on a batch of ``batch`` inputs ``x`` holds at its peak
        besides its input and output (buffers reused across samples do not scale)."""
        return 0

    def forward(self, x, weights: dict, ops):
        """The output array for a batch ``x`` ((N, C, …) or (N, F)).  Products with
        weights go through ``ops`` (:class:`archcalc.numeric.tally.Ops`) so their MACs are counted."""
        raise NotImplementedError(f"{self.type_name} has no forward")

    # --- numeric training step (archcalc.layers.npgrad; run by archcalc.numeric.backward) --

    def train_forward(self, x, weights: dict, ops) -> tuple:
        """(output, cache): the forward in training mode (``ops.training``: batch statistics,
        dropout masks) and the extras :meth:`saved` names for the backward, by name
        (``indices``, ``mask``, ``pre-activation``...).  Most layers keep none."""
        return self.forward(x, weights, ops), {}

    def train_workspace(self, x: Shape, batch: int, itemsize: int) -> int:
        """Bytes :meth:`train_forward` holds at its peak besides its input, output and
        cache: the inference forward's workspace unless the training forward differs."""
        return self.workspace(x, batch) * itemsize

    def backward_numpy(self, tape, grad, weights: dict, needs: Needs, ops) -> tuple:
        """(the input's gradient — a tuple, one per input, for a merge; None where not
        needed — and the weights' gradients by weight name) from ``grad``, the output's
        gradient, and ``tape`` (:class:`archcalc.layers.npgrad.Tape`: only what
        :meth:`saved` keeps).  Products with weights go through ``ops.input``, with the
        saved input through ``ops.weights`` (:class:`archcalc.numeric.tally.GradOps`), so
        their MACs equal :meth:`backward`'s.  ``grad`` is never written to.  Every type
        states it (a test checks)."""
        raise NotImplementedError(f"layer type '{self.type_name}' has no NumPy backward")

    def backward_workspace(self, x: Shape, y: Shape, needs: Needs, batch: int, itemsize: int) -> int:
        """Bytes :meth:`backward_numpy` holds at its peak besides the output's gradient, the
        tape, the weights and the gradients it returns."""
        return 0

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
            flops=2 * macs + self.work(x, y).total,
            activations=0 if self.is_view else y.numel,
        )


def require_map(layer: Layer, x: Shape) -> None:
    """Spatial layers need a map: channels and 1 to 3 spatial axes (C×L, C×H×W, C×D×H×W)."""
    if not x.is_map:
        raise ShapeError(f"{layer.type_name} needs a map (C×L, C×H×W or C×D×H×W), got {x}")
