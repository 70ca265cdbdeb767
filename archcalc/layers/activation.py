"""Elementwise activations, dropout, stochastic depth, identity and flatten: layers that
keep or reshape their input.

:data:`ACTIVATIONS` is the one table of activation functions: the elementwise work each
does per element (docs/conventions.md).  An elementwise function evaluation (exp, log,
tanh, erf, the sigmoid) counts one exponential, relu one comparison, relu6 two (it clamps
at both ends), softmax an exp, an add (for the sum) and a divide; the others are built
from these (each entry's comment).  Standalone activation layers, activations folded into
a conv/dense/add row, and every convention read it; their NumPy forms are in
:func:`archcalc.layers.npkit.activate` and :mod:`archcalc.layers.npact`, under the same
names.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..core.backward import NOTHING, Backward, Extra, Needs, Saved
from ..core.shapes import Shape
from ..core.work import Work
from ..spec.fields import attr, choice, fraction, number
from .base import Layer, register

#: work per output element of each activation function (the folded form: leaky_relu and
#: elu with their default slope and α, gelu in its erf form, which has the same split)
ACTIVATIONS = {
    "relu": Work(comparisons=1),
    "relu6": Work(comparisons=2),
    "tanh": Work(exponentials=1),
    "sigmoid": Work(exponentials=1),
    "softmax": Work(additions=1, divisions=1, exponentials=1),
    # x · σ(x): the sigmoid (one function evaluation, as sigmoid itself) and a multiply
    "silu": Work(exponentials=1, multiplications=1),
    # relu6(x + 3) / 6: an add, the two-sided clamp, a divide
    "hardsigmoid": Work(additions=1, comparisons=2, divisions=1),
    # x · hardsigmoid(x): hardsigmoid and a multiply
    "hardswish": Work(additions=1, comparisons=2, divisions=1, multiplications=1),
    # ½ · x · (1 + erf(x · 1/√2)): three multiplies, an add, erf
    "gelu": Work(multiplications=3, additions=1, exponentials=1),
    # x ≥ 0 ? x : slope · x: a comparison and the multiply
    "leaky_relu": Work(comparisons=1, multiplications=1),
    # x > 0 ? x : α · (eˣ − 1): a comparison, exp, a subtract, a multiply
    "elu": Work(comparisons=1, exponentials=1, additions=1, multiplications=1),
    # leaky_relu with a trainable slope (never folded: the slope is a parameter)
    "prelu": Work(comparisons=1, multiplications=1),
    # x · tanh(ln(1 + eˣ)): exp, log and tanh, an add, a multiply
    "mish": Work(exponentials=3, additions=1, multiplications=1),
}

#: gelu's tanh form, ½ x (1 + tanh(√(2/π) (x + 0.044715 x³))): x³ (2 multiplies), three
#: scalings and the final product (4 more), two adds, tanh
GELU_TANH = Work(multiplications=6, additions=2, exponentials=1)


#: The backward of each activation, per element, and what autograd keeps for it: the
#: function's result ("output") or its argument ("input"), as PyTorch's derivatives.yaml
#: writes each derivative.  Counted as the forward counts: a sigmoid, exp, erf or tanh
#: re-evaluated is one exponential; a masked select (relu's, hardtanh's) a comparison.
GRADIENTS = {
    # threshold_backward(grad, result, 0): the mask of the result
    "relu": (Work(comparisons=1), "output"),
    # hardtanh_backward(grad, self, 0, 6): both ends
    "relu6": (Work(comparisons=2), "input"),
    # tanh_backward: g·(1 − y²)
    "tanh": (Work(multiplications=2, additions=1), "output"),
    # sigmoid_backward: g·y·(1 − y)
    "sigmoid": (Work(multiplications=2, additions=1), "output"),
    # softmax_backward_data: y·(g − Σ g·y): a product, the sum, a subtract, a product
    "softmax": (Work(multiplications=2, additions=2), "output"),
    # silu_backward: g·σ(x)·(1 + x·(1 − σ(x))): σ again, two adds, three products
    "silu": (Work(exponentials=1, additions=2, multiplications=3), "input"),
    # hardsigmoid_backward: −3 < x < 3 ? g/6 : 0
    "hardsigmoid": (Work(comparisons=2, divisions=1), "input"),
    # hardswish_backward: x < −3 ? 0 : x ≤ 3 ? g·(2x + 3)/6 : g
    "hardswish": (Work(comparisons=2, multiplications=2, additions=1, divisions=1), "input"),
    # gelu_backward (erf): g·(Φ(x) + x·φ(x)): Φ (erf, 2 products, an add), φ (x², a
    # scaling, exp), x·φ, the add and the product with g
    "gelu": (Work(exponentials=2, multiplications=6, additions=2), "input"),
    # leaky_relu_backward: x > 0 ? g : slope·g
    "leaky_relu": (Work(comparisons=1, multiplications=1), "input"),
    # elu_backward(is_result=false): x > 0 ? g : g·α·eˣ
    "elu": (Work(comparisons=1, exponentials=1, multiplications=2), "input"),
    # prelu: x > 0 ? g : a·g (the slope's own gradient is counted by the layer)
    "prelu": (Work(comparisons=1, multiplications=1), "input"),
    # mish_backward: g·(tanh(sp) + x·σ(x)·(1 − tanh²(sp))), sp = softplus(x): exp, log,
    # tanh and σ, four products, two adds
    "mish": (Work(exponentials=4, multiplications=4, additions=2), "input"),
}

#: gelu's tanh form backward: the inner polynomial (x², x³, 2 scalings, an add), tanh,
#: then ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715·x²) and the product with g
GELU_TANH_GRADIENT = Work(multiplications=11, additions=4, exponentials=1)


def activation_backward(name: str | None, n) -> Work:
    """The backward work of activation ``name`` (None: none) over ``n`` elements."""
    return GRADIENTS[name][0] * n if name else Work()


def activation_saved(name: str | None, n, folded: bool = True) -> Saved:
    """What autograd keeps for activation ``name`` over ``n`` elements: its result (the
    row's output), or its argument — for an activation folded into a conv, dense or add
    row, the pre-activation tensor, a tensor of its own."""
    if not name:
        return NOTHING
    if GRADIENTS[name][1] == "output":
        return Saved(output=True)
    return Saved(extras=(Extra("pre-activation", n),)) if folded else Saved(inputs=(0,))


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

    def attrs(self) -> dict:
        """The function's parameters, as the NumPy forms take them (none by default)."""
        return {}

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        return Backward(work=activation_backward(self.type_name, y.numel) if needs.input else Work())

    def saved(self, x: Shape, y: Shape, needs: Needs) -> Saved:
        return activation_saved(self.type_name, y.numel, folded=False) if needs.input else NOTHING

    def workspace(self, x: Shape, batch: int = 1) -> int:
        """The block-sized temporaries of the functions evaluated block by block
        (:mod:`archcalc.layers.npact`); none for relu, relu6, tanh and sigmoid."""
        from . import npact

        if self.type_name not in npact.SCRATCH:
            return 0
        return npact.scratch(self.type_name, batch * x.numel)

    def forward(self, x, weights, ops):
        """A new output array (the engine counts it as an activation), written in one pass
        where NumPy has the function, else block by block; softmax is normalised over
        axis 1 after subtracting its maximum."""
        from .npkit import applied

        return applied(self.type_name, x, **self.attrs())

    def backward_workspace(self, x, y, needs, batch, itemsize) -> int:
        """The derivative's block-sized temporaries (npgrad.GRAD_SCRATCH)."""
        from .npgrad import grad_scratch

        return grad_scratch(self.type_name, batch * y.numel, itemsize) if needs.input else 0

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """The derivative (npgrad.DERIVATIVES) at what autograd keeps: the output (relu,
        tanh, sigmoid, softmax) or the input, block by block into a new array."""
        from .npgrad import activation_grad

        if not needs.input:
            return None, {}
        value = tape.y if GRADIENTS[self.type_name][1] == "output" else tape.x
        return activation_grad(self.type_name, grad, value, **self.attrs()), {}


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
class SiLU(Elementwise):
    """x · σ(x) = x / (1 + e⁻ˣ) (EfficientNet's swish; PyTorch's SiLU).  The spec also
    accepts the spelling ``swish`` for this type."""
    type_name = "silu"


@register
@dataclass(frozen=True)
class Hardsigmoid(Elementwise):
    """relu6(x + 3) / 6 (MobileNetV3's gate; PyTorch's Hardsigmoid)."""
    type_name = "hardsigmoid"


@register
@dataclass(frozen=True)
class Hardswish(Elementwise):
    """x · relu6(x + 3) / 6 (MobileNetV3; PyTorch's Hardswish)."""
    type_name = "hardswish"


@register
@dataclass(frozen=True)
class GELU(Elementwise):
    """PyTorch's GELU: x · Φ(x) = ½ x (1 + erf(x / √2)) (``approximate: none``), or
    ½ x (1 + tanh(√(2/π) (x + 0.044715 x³))) (``approximate: tanh``).  A folded gelu
    is the erf form."""
    type_name = "gelu"
    approximate: str = attr(choice("none", "tanh"), "none", "none (erf, exact) or tanh")

    def attrs(self) -> dict:
        return {"approximate": self.approximate}

    def work(self, x: Shape, y: Shape) -> Work:
        if self.approximate == "tanh":
            return GELU_TANH * y.numel
        return activation_work("gelu", y.numel)

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        if self.approximate == "tanh" and needs.input:
            return Backward(work=GELU_TANH_GRADIENT * y.numel)
        return super().backward(x, y, needs)


@register
@dataclass(frozen=True)
class LeakyReLU(Elementwise):
    """x for x ≥ 0, slope · x below (PyTorch's LeakyReLU).  A folded leaky_relu uses
    the default slope."""
    type_name = "leaky_relu"
    slope: float = attr(number, 0.01, "slope below zero (PyTorch's negative_slope)")

    def attrs(self) -> dict:
        return {"slope": self.slope}


@register
@dataclass(frozen=True)
class ELU(Elementwise):
    """x for x > 0, α (eˣ − 1) at and below 0 (PyTorch's ELU).  A folded elu uses the
    default α."""
    type_name = "elu"
    alpha: float = attr(number, 1.0, "α, the value approached as x → −∞ is −α")

    def attrs(self) -> dict:
        return {"alpha": self.alpha}


@register
@dataclass(frozen=True)
class Mish(Elementwise):
    """x · tanh(softplus(x)), softplus(x) = ln(1 + eˣ) (PyTorch's Mish)."""
    type_name = "mish"


@register
@dataclass(frozen=True)
class PReLU(Elementwise):
    """x for x ≥ 0, a · x below, with a trainable slope a: one shared by every channel
    (``slopes: shared``, PyTorch's default num_parameters=1) or one per channel
    (``slopes: per_channel``, num_parameters=C; the features of a vector).  params = 1
    or C.  Work as leaky_relu: a comparison and a multiply per element.  It cannot be
    folded into a conv or dense row (a folded activation declares no parameters)."""
    type_name = "prelu"
    slopes: str = attr(choice("shared", "per_channel"), "shared",
                       "shared (one slope) or per_channel (one per channel)")
    init: float = attr(number, 0.25, "the slopes' initial value (PyTorch: 0.25)")

    def params(self, x: Shape):
        return x.channels if self.slopes == "per_channel" else 1

    def workspace(self, x: Shape, batch: int = 1) -> int:
        """min(x, 0) is the output buffer; the slopes less one, (C,) per channel, are a
        temporary (as large as a sample for a vector of C features)."""
        return x.channels if self.slopes == "per_channel" else 0

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        """The input's gradient as leaky_relu's; the slopes' gradient Σ g·x over the
        negative entries: a product and an add per element."""
        work = super().backward(x, y, needs).work
        if needs.weights:
            work = work + Work(multiplications=y.numel, additions=y.numel)
        return Backward(work=work)

    def saved(self, x: Shape, y: Shape, needs: Needs) -> Saved:
        """Its input (for either gradient); the slopes are parameters."""
        return Saved(inputs=(0,)) if needs.any else NOTHING

    def init_weights(self, x: Shape, rng, dtype) -> dict:
        """weight (1,) or (C,), as PyTorch's PReLU: drawn around ``init`` (±17 %) so a test
        sees which channel got which slope."""
        from .npkit import normal

        w = normal(rng, (self.params(x),), dtype, 0.1 * abs(self.init))
        w += w.dtype.type(self.init)
        return {"weight": w}

    def forward(self, x, weights, ops):
        """y = x + (a − 1) · min(x, 0): x above zero, a · x below, with no temporary."""
        import numpy as np

        y = np.minimum(x, x.dtype.type(0))
        w = weights["weight"] - x.dtype.type(1)
        y *= w.reshape((1, -1) + (1,) * (x.ndim - 2)) if w.size > 1 else w
        y += x
        return y

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """dx = g where x > 0, a·g elsewhere; da = Σ g·min(x, 0) per slope (per channel,
        or over everything for a shared slope)."""
        import numpy as np

        from .npgrad import channel_dot

        x, a = tape.x, weights["weight"]
        dx = grads = None
        if needs.input:
            dx = grad * (a.reshape((1, -1) + (1,) * (x.ndim - 2)) if a.size > 1 else a)
            np.copyto(dx, grad, where=x > 0)
        if needs.weights:
            negative = np.minimum(x, x.dtype.type(0))
            if a.size > 1:
                grads = channel_dot(grad, negative)
            else:
                grads = np.array([np.vdot(grad, negative)], dtype=a.dtype)
        return dx, ({"weight": grads} if needs.weights else {})

    def backward_workspace(self, x, y, needs, batch, itemsize) -> int:
        """The mask x > 0 (a byte per element), then min(x, 0) for the slopes."""
        n = batch * y.numel
        return max(n if needs.input else 0, n * itemsize if needs.weights else 0)


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

    def backward_workspace(self, x, y, needs, batch, itemsize) -> int:
        """Σ_c g·y: one value per cell of the other axes (npgrad.softmax_grad)."""
        return itemsize * self.workspace(x, batch) if needs.input else 0


@register
@dataclass(frozen=True)
class Dropout(Layer):
    """Identity at inference: no work, no new memory.  ``rate`` matters only in training."""
    type_name = "dropout"
    is_view = True
    rate: float = attr(fraction, 0.5, "probability of zeroing a unit in training")
    train_is_view = False

    def out_shape(self, x: Shape) -> Shape:
        return x

    def work(self, x: Shape, y: Shape) -> Work:
        return Work()  # inference: the identity

    def train_work(self, x: Shape, y: Shape) -> Work:
        """native_dropout: a random draw compared with the rate, the mask and the scale
        applied: a comparison and two products per element."""
        return Work(comparisons=y.numel, multiplications=2 * y.numel)

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        """native_dropout_backward: g · mask · 1/(1 − rate)."""
        return Backward(work=Work(multiplications=2 * y.numel) if needs.input else Work())

    def saved(self, x: Shape, y: Shape, needs: Needs) -> Saved:
        """The boolean mask, one byte per element."""
        return Saved(extras=(Extra("mask", y.numel, 1),)) if needs.input else NOTHING

    def forward(self, x, weights, ops):
        """Inference: the input itself.  Training (``ops.training``): each unit kept with
        probability 1 − rate and scaled by 1 / (1 − rate), so expectations match."""
        if not ops.training or self.rate == 0:
            return x
        keep = ops.rng.random(x.shape) >= self.rate
        y = x * keep
        y *= x.dtype.type(1 / (1 - self.rate))
        return y

    def train_forward(self, x, weights, ops):
        """native_dropout: draws in the input's dtype, the boolean mask kept (one byte per
        element), y = x · mask / (1 − rate)."""
        keep = ops.rng.random(x.shape, dtype=x.dtype) >= self.rate
        y = x * keep
        y *= x.dtype.type(1 / (1 - self.rate))
        return y, {"mask": keep}

    def train_workspace(self, x, batch, itemsize) -> int:
        return 0  # the draws (as large as the output) are gone before the output is made

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """native_dropout_backward: g · mask / (1 − rate)."""
        if not needs.input:
            return None, {}
        dx = grad * tape.cache["mask"]
        dx *= dx.dtype.type(1 / (1 - self.rate))
        return dx, {}


@register
@dataclass(frozen=True)
class StochasticDepth(Layer):
    """Stochastic depth (Huang et al. 2016; torchvision's ``StochasticDepth(p, mode='row')``,
    timm's drop_path): the identity at inference, so no work and no new memory, like
    dropout.  In training each *sample* of the residual branch is dropped with probability
    ``rate`` and the kept ones are scaled by 1 / (1 − rate).  The spec also accepts the
    spelling ``drop_path`` for this type."""
    type_name = "stochastic_depth"
    is_view = True
    rate: float = attr(fraction, doc="probability of dropping a sample's branch in training")
    train_is_view = False

    def out_shape(self, x: Shape) -> Shape:
        return x

    def work(self, x: Shape, y: Shape) -> Work:
        return Work()  # inference: the identity

    def train_work(self, x: Shape, y: Shape) -> Work:
        """One draw per sample compared with the rate and divided by 1 − rate (the noise),
        then input · noise: a product per element."""
        return Work(comparisons=1, divisions=1, multiplications=y.numel)

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        """mul's backward: g · noise."""
        return Backward(work=Work(multiplications=y.numel) if needs.input else Work())

    def saved(self, x: Shape, y: Shape, needs: Needs) -> Saved:
        """The (N, 1, …) noise: one value per sample."""
        return Saved(extras=(Extra("noise", 1),)) if needs.input else NOTHING

    def forward(self, x, weights, ops):
        """Inference: the input itself.  Training (``ops.training``): one Bernoulli draw per
        sample (torchvision's mode 'row'), kept samples scaled by 1 / (1 − rate)."""
        if not ops.training or self.rate == 0:
            return x
        keep = ops.rng.random((x.shape[0],) + (1,) * (x.ndim - 1)) >= self.rate
        y = x * keep
        y *= x.dtype.type(1 / (1 - self.rate))
        return y

    def train_forward(self, x, weights, ops):
        """torchvision's stochastic_depth: noise = Bernoulli(1 − rate) / (1 − rate), one per
        sample (N, 1, …), kept for the backward; y = x · noise."""
        keep = ops.rng.random((x.shape[0],) + (1,) * (x.ndim - 1)) >= self.rate
        noise = keep.astype(x.dtype)
        noise *= x.dtype.type(1 / (1 - self.rate))
        return x * noise, {"noise": noise}

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """mul's backward: g · noise."""
        return (grad * tape.cache["noise"] if needs.input else None), {}


@register
@dataclass(frozen=True)
class Identity(Layer):
    """y = x (PyTorch's nn.Identity): a view, no work, no new memory."""
    type_name = "identity"
    is_view = True

    def out_shape(self, x: Shape) -> Shape:
        return x

    def work(self, x: Shape, y: Shape) -> Work:
        return Work()  # a view

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        return Backward()  # the gradient passes through (reshaped)

    def saved(self, x: Shape, y: Shape, needs: Needs) -> Saved:
        return NOTHING

    def forward(self, x, weights, ops):
        return x

    def backward_numpy(self, tape, grad, weights, needs, ops):
        return (grad if needs.input else None), {}


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

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        return Backward()  # the gradient passes through (reshaped)

    def saved(self, x: Shape, y: Shape, needs: Needs) -> Saved:
        return NOTHING

    def forward(self, x, weights, ops):
        return x.reshape(x.shape[0], -1)

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """The gradient seen in the input's shape (a view)."""
        return (grad.reshape(tape.dims()) if needs.input else None), {}
