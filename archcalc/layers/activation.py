"""Elementwise activations, dropout and flatten: layers that keep or reshape their input.

:data:`ACTIVATIONS` is the one table of activation functions: the elementwise work each
does per element (docs/conventions.md).  An elementwise function evaluation counts one
exponential, relu one comparison, relu6 two (it clamps at both ends), softmax an exp, an
add (for the sum) and a divide.  Standalone activation layers, activations folded into a
conv/dense/add row, and every convention read it; their NumPy forms are in
:func:`archcalc.layers.npkit.activate`, under the same names.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..core.shapes import Shape
from ..core.work import Work
from ..spec.fields import attr, fraction
from .base import Layer, register

#: work per output element of each activation function
ACTIVATIONS = {
    "relu": Work(comparisons=1),
    "relu6": Work(comparisons=2),
    "tanh": Work(exponentials=1),
    "sigmoid": Work(exponentials=1),
    "softmax": Work(additions=1, divisions=1, exponentials=1),
}


def activation_work(name: str | None, n) -> Work:
    """The work of activation ``name`` (None: no activation) over ``n`` elements."""
    return ACTIVATIONS[name] * n if name else Work()


class Elementwise(Layer):
    def out_shape(self, x: Shape) -> Shape:
        return x

    def connections(self, x: Shape, y: Shape):
        return y.numel

    def work(self, x: Shape, y: Shape) -> Work:
        return activation_work(self.type_name, y.numel)

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

    def work(self, x: Shape, y: Shape) -> Work:
        return Work()  # inference: the identity

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

    def work(self, x: Shape, y: Shape) -> Work:
        return Work()  # a view

    def forward(self, x, weights, ops):
        return x.reshape(x.shape[0], -1)
