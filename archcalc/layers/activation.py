"""Elementwise activations, dropout and flatten: layers that keep or reshape their input.

FLOPs per element (docs/conventions.md): an elementwise function evaluation counts one
FLOP, relu6 two (it clamps at both ends), softmax three (exp, the sum's add, the divide).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..fields import attr, fraction
from ..shapes import Shape
from .base import Layer, register

#: FLOPs per output element of each activation function; also serves folded activations.
ACTIVATION_FLOPS = {"relu": 1, "relu6": 2, "tanh": 1, "sigmoid": 1, "softmax": 3}


class Elementwise(Layer):
    def out_shape(self, x: Shape) -> Shape:
        return x

    def connections(self, x: Shape, y: Shape):
        return y.numel

    def extra_flops(self, x: Shape, y: Shape):
        return ACTIVATION_FLOPS[self.type_name] * y.numel

    def forward(self, x, weights, ops):
        """A new output array (the engine counts it as an activation), written in one pass
        where NumPy has the function; softmax is normalised over axis 1 after subtracting
        its maximum."""
        from .npkit import applied

        return applied(self.type_name, x)


@register
@dataclass(frozen=True)
class ReLU(Elementwise):
    """max(x, 0)."""
    type_name = "relu"


@register
@dataclass(frozen=True)
class ReLU6(Elementwise):
    """min(max(x, 0), 6) (MobileNet)."""
    type_name = "relu6"


@register
@dataclass(frozen=True)
class Tanh(Elementwise):
    """tanh(x)."""
    type_name = "tanh"


@register
@dataclass(frozen=True)
class Sigmoid(Elementwise):
    """1 / (1 + exp(-x))."""
    type_name = "sigmoid"


@register
@dataclass(frozen=True)
class Softmax(Elementwise):
    """exp(x_i) / Σ_j exp(x_j) over the channel (or feature) axis."""
    type_name = "softmax"

    def connections(self, x: Shape, y: Shape):
        # every output depends on every input along the normalised axis
        return y.numel * x.channels

    def workspace(self, x: Shape, batch: int = 1) -> int:
        """The maximum, then the sum, over the channel axis (one at a time): one value per
        cell of the other axes."""
        return batch * x.numel // x.channels


@register
@dataclass(frozen=True)
class Dropout(Layer):
    """Identity at inference: no work, no new memory.  ``rate`` matters only in training."""
    type_name = "dropout"
    is_view = True
    rate: float = attr(fraction, 0.5, "probability of zeroing a unit in training")

    def out_shape(self, x: Shape) -> Shape:
        return x

    def forward(self, x, weights, ops):
        """Inference: the input itself.  Training (``ops.training``): each unit kept with
        probability 1 − rate and scaled by 1 / (1 − rate), so expectations match."""
        if not ops.training or self.rate == 0:
            return x
        keep = ops.rng.random(x.shape) >= self.rate
        y = x * keep
        y *= x.dtype.type(1 / (1 - self.rate))
        return y


@register
@dataclass(frozen=True)
class Flatten(Layer):
    """C×H×W → (C·H·W,), a view in C-major order (PyTorch and Caffe order)."""
    type_name = "flatten"
    is_view = True

    def out_shape(self, x: Shape) -> Shape:
        return Shape.of(x.numel)

    def forward(self, x, weights, ops):
        return x.reshape(x.shape[0], -1)
