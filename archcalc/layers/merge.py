"""Merge layers: the nodes where paths of the graph meet.

``add`` and ``multiply`` combine two or more tensors elementwise, ``concat`` stacks them
along an axis, and ``crop`` cuts one tensor to the spatial size of another (U-Net's skip
connections).  They obey the same protocol as every other layer; their methods take the
tuple of their inputs' shapes (or arrays).  The spec sugar ``concat`` with ``branches``,
``residual`` and ``side`` is expanded into these by the spec builder.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..core.shapes import Shape
from ..core.windows import Geometry, Union
from ..core.work import Work
from ..errors import ShapeError
from ..spec.fields import attr, choice
from ..core.backward import NOTHING, Backward, Extra, Needs, Saved
from .activation import activation_backward, activation_saved, activation_work
from .base import Layer, register
from .folded import activation_attr


class Merge(Layer):
    """Two or more inputs; each unit's receptive field is the union of its inputs'."""

    arity = None

    def field_rule(self, xs: tuple):
        return Union()


def _mismatch(what: str, xs: tuple, j: int) -> ShapeError:
    return ShapeError(f"{what}: input 1 is {xs[0]}, input {j + 1} is {xs[j]}")


@register
@dataclass(frozen=True)
class Add(Merge):
    """y = x₁ + x₂ + … (ResNet's shortcut), then an optional folded activation.

    Inputs of equal shape.  Per output element: k − 1 additions for k inputs; connections:
    k (one edge from each input).  No params, no MACs.
    """
    type_name = "add"
    activation: object = activation_attr()
    shares_gradient = True  # AddBackward returns the one gradient for every input

    def out_shape(self, xs: tuple) -> Shape:
        for j in range(1, len(xs)):
            if not xs[j].same_as(xs[0]):
                raise _mismatch("add of mismatched shapes", xs, j)
        return xs[0]

    def connections(self, xs: tuple, y: Shape):
        return len(xs) * y.numel

    def work(self, xs: tuple, y: Shape) -> Work:
        return Work(additions=(len(xs) - 1) * y.numel) + activation_work(self.activation, y.numel)

    def backward(self, xs: tuple, y: Shape, needs: Needs) -> Backward:
        """The output's gradient is every input's (no arithmetic), after the folded
        activation's derivative."""
        return Backward(work=activation_backward(self.activation, y.numel) if needs.input else Work())

    def saved(self, xs: tuple, y: Shape, needs: Needs) -> Saved:
        return activation_saved(self.activation, y.numel) if needs.input else NOTHING

    def forward(self, xs, weights, ops):
        from .npkit import activate

        y = xs[0] + xs[1]
        for x in xs[2:]:
            y += x
        return activate(self.activation, y)

    def train_forward(self, xs, weights, ops):
        """The forward, keeping a folded activation's argument when autograd keeps it."""
        from .npgrad import folded_forward

        return folded_forward(self, xs, weights, ops)

    def train_workspace(self, xs, batch, itemsize) -> int:
        from .npgrad import folded_train_workspace

        return folded_train_workspace(self, xs, batch, itemsize)

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """Every input receives the output's gradient (after the folded activation's
        derivative): one array, shared, never written to."""
        from .npgrad import folded_grad

        g = folded_grad(self, tape, grad) if needs.input else None
        return (g,) * len(tape.in_shape), {}

    def backward_workspace(self, xs, y, needs, batch, itemsize) -> int:
        from .npgrad import folded_workspace

        return folded_workspace(self, y, batch, itemsize)


def _as_map_of(x: Shape, like: Shape) -> Shape:
    """A vector of C features multiplies a C×H×W map as a C×1×1 gate would."""
    if x.rank == 1 and like.rank > 1:
        return Shape((x.dims[0],) + (1,) * (like.rank - 1))
    return x


@register
@dataclass(frozen=True)
class Multiply(Merge):
    """y = x₁ · x₂ · … elementwise, with broadcasting: each size equals the largest input's
    or is 1 (squeeze-and-excitation's C×1×1 gate over a C×H×W map; a vector of C features
    counts as C×1×1).  Per output element: k − 1 multiplications; connections: k.
    These products are not MACs: no weight is involved.
    """
    type_name = "multiply"

    def _maps(self, xs: tuple) -> tuple:
        widest = max(xs, key=lambda s: s.rank)
        return tuple(_as_map_of(x, widest) for x in xs)

    def out_shape(self, xs: tuple) -> Shape:
        maps = self._maps(xs)
        rank = maps[0].rank
        dims = list(maps[0].dims)
        for j, x in enumerate(maps[1:], 1):
            if x.rank != rank:
                raise _mismatch("multiply of mismatched ranks", xs, j)
            for a, (d, e) in enumerate(zip(dims, x.dims)):
                if d == 1:
                    dims[a] = e
                elif e != 1 and not Shape.of(d).same_as(Shape.of(e)):
                    raise _mismatch("multiply of mismatched shapes (each size must match or be 1)", xs, j)
        return Shape(tuple(dims))

    def connections(self, xs: tuple, y: Shape):
        return len(xs) * y.numel

    def work(self, xs: tuple, y: Shape) -> Work:
        return Work(multiplications=(len(xs) - 1) * y.numel)

    def backward(self, xs: tuple, y: Shape, needs: Needs) -> Backward:
        """As PyTorch's chain of k − 1 binary products: each gives both its operands'
        gradients (two products per output element), and an input broadcast to the
        output (a gate) sums its gradient back: output − input elements adds."""
        if not needs.input:
            return Backward()
        sums = sum(y.numel - x.numel for x in self._maps(xs))
        return Backward(work=Work(multiplications=2 * (len(xs) - 1) * y.numel, additions=sums))

    def saved(self, xs: tuple, y: Shape, needs: Needs) -> Saved:
        """Every input, and the k − 2 partial products of a longer chain."""
        if not needs.input:
            return NOTHING
        partial = (Extra("partial products", (len(xs) - 2) * y.numel),) if len(xs) > 2 else ()
        return Saved(inputs=tuple(range(len(xs))), extras=partial)

    def forward(self, xs, weights, ops):
        import numpy as np

        arrays = [x.reshape(x.shape + (1,) * (max(a.ndim for a in xs) - x.ndim)) for x in xs]
        y = np.multiply(arrays[0], arrays[1])
        for x in arrays[2:]:
            y *= x
        return y

    @staticmethod
    def _as_maps(xs):
        """The arrays with a vector of C features seen as C×1×1 (a view)."""
        rank = max(a.ndim for a in xs)
        return [x.reshape(x.shape + (1,) * (rank - x.ndim)) for x in xs]

    def train_forward(self, xs, weights, ops):
        """The chain of binary products; a chain of k > 2 keeps its k − 2 partial products
        (x₁·x₂, x₁·x₂·x₃, …), as autograd keeps each product's operands."""
        import numpy as np

        arrays = self._as_maps(xs)
        y, partial = np.multiply(arrays[0], arrays[1]), []
        for x in arrays[2:]:
            partial.append(y)
            y = y * x
        return y, ({"partial products": tuple(partial)} if partial else {})

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """Down the chain: the gradient of p_j = p_{j−1}·x_j gives x_j the gradient g·p_{j−1}
        and p_{j−1} the gradient g·x_j, each summed back over the axes it was broadcast
        along (an einsum, no product temporary): the SE gate's Σ over positions."""
        from .npgrad import product_to

        if not needs.input:
            return (None,) * len(tape.in_shape), {}
        arrays = self._as_maps(tape.x)
        chain = [arrays[0], *tape.cache.get("partial products", ())]
        grads = [None] * len(arrays)
        g = grad
        for j in range(len(arrays) - 1, 0, -1):
            if tape.wanted(j):
                grads[j] = product_to(g, chain[j - 1], arrays[j].shape)
            if j > 1 or tape.wanted(0):
                g = product_to(g, arrays[j], chain[j - 1].shape)
        grads[0] = g if tape.wanted(0) else None
        return tuple(None if d is None else d.reshape(x.shape) for d, x in zip(grads, tape.x)), {}

    def backward_workspace(self, xs, y, needs, batch, itemsize) -> int:
        """A chain of k > 2: the gradient of one partial product at a time."""
        return itemsize * batch * y.numel if needs.input and len(xs) > 2 else 0


AXES = {"channels": 0, "height": 1, "width": 2}


@register
@dataclass(frozen=True)
class Concat(Merge):
    """Inputs stacked along ``axis`` (channels by default: Inception, DenseNet, U-Net);
    every other size must agree.  No work; the output is a new tensor."""
    type_name = "concat"
    axis: str = attr(choice(*AXES), "channels", "axis to stack along: channels, height or width")

    def out_shape(self, xs: tuple) -> Shape:
        a = AXES[self.axis]
        first = xs[0]
        for j, x in enumerate(xs[1:], 1):
            if x.rank != first.rank or a >= x.rank or not all(
                    Shape.of(p).same_as(Shape.of(q))
                    for i, (p, q) in enumerate(zip(first.dims, x.dims)) if i != a):
                raise _mismatch(f"cannot concatenate along {self.axis} (the other sizes must "
                                f"agree)", xs, j)
        dims = list(first.dims)
        dims[a] = sum((x.dims[a] for x in xs[1:]), first.dims[a])
        return Shape(tuple(dims))

    def work(self, xs: tuple, y: Shape) -> Work:
        return Work()  # a copy, no arithmetic

    def backward(self, xs: tuple, y: Shape, needs: Needs) -> Backward:
        return Backward()  # each input's gradient is a slice of the output's

    def saved(self, xs: tuple, y: Shape, needs: Needs) -> Saved:
        return NOTHING

    def forward(self, xs, weights, ops):
        import numpy as np

        return np.concatenate(xs, axis=1 + AXES[self.axis])

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """Each input's gradient is its slice of the output's, copied (so the output's
        gradient is freed at this step, as the timeline has it; autograd's narrow views
        would keep all of it alive while any slice is), for the inputs that want one."""
        import numpy as np

        a = 1 + AXES[self.axis]
        if not needs.input:
            return (None,) * len(tape.in_shape), {}
        out, start = [], 0
        for j, shape in enumerate(tape.in_shape):
            size = shape.dims[a - 1]
            part = grad[(slice(None),) * a + (slice(start, start + size),)]
            out.append(np.array(part, copy=True) if tape.wanted(j) else None)
            start += size
        return tuple(out), {}


@register
@dataclass(frozen=True)
class Crop(Merge):
    """``inputs: [x, like]``: the centre of x cut to the spatial size of ``like`` (U-Net's
    cropped skip), starting ⌊(in − out)/2⌋ cells in on each axis.  A view of x: no work, no
    new memory; ``like`` is read for its shape only."""
    type_name = "crop"
    arity = 2
    is_view = True
    gradient_is_view = False
    gradient_inputs = (0,)  # ``like`` gives its size only: autograd sends it no gradient

    def out_shape(self, xs: tuple) -> Shape:
        x, like = xs
        if not (x.is_map and like.is_map):
            raise ShapeError(f"crop needs two C×H×W inputs, got {x} and {like}")
        for size, want in zip(x.spatial, like.spatial):
            if isinstance(size, int) and isinstance(want, int) and want > size:
                raise ShapeError(f"cannot crop {x} to the size of {like}: it is smaller")
        return Shape((x.channels,) + tuple(like.spatial))

    def work(self, xs: tuple, y: Shape) -> Work:
        return Work()  # a view

    def backward(self, xs: tuple, y: Shape, needs: Needs) -> Backward:
        return Backward()  # the gradient written into the cropped window, zeros around it

    def saved(self, xs: tuple, y: Shape, needs: Needs) -> Saved:
        return NOTHING

    def offsets(self, xs: tuple) -> tuple:
        x, like = xs
        return tuple((size - want) // 2 for size, want in zip(x.spatial, like.spatial))

    def field_rule(self, xs: tuple):
        """A 1×1 window at the crop's offset over the first input."""
        x, like = xs
        ones = (1,) * len(x.spatial)
        return Geometry(tuple(x.spatial), ones, ones, ones,
                        tuple((-o, 0) for o in self.offsets(xs)), False, tuple(like.spatial))

    def forward(self, xs, weights, ops):
        x, like = xs
        (top, left), (h, w) = self.offsets((Shape.of(*x.shape[1:]), Shape.of(*like.shape[1:]))), like.shape[2:]
        return x[:, :, top:top + h, left:left + w]

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """The gradient written into the cropped window of zeros; ``like`` gets none."""
        import numpy as np

        if not needs.input:
            return (None, None), {}
        dx = np.zeros(tape.dims(0), dtype=grad.dtype)
        window = tuple(slice(o, o + n) for o, n in zip(self.offsets(tape.in_shape), grad.shape[2:]))
        dx[(slice(None), slice(None)) + window] = grad
        return (dx, None), {}
