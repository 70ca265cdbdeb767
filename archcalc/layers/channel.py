"""Layers that act on channels without mixing positions: ShuffleNet's channel shuffle and
channel split (a slice of the channels), and ConvNeXt's layer scale."""
from __future__ import annotations

from dataclasses import dataclass

from ..core.shapes import Shape, is_known
from ..core.backward import NOTHING, Backward, Needs, Saved
from ..core.work import Work
from ..errors import ShapeError
from ..spec.fields import attr, non_negative_int, number, positive_int
from .base import Layer, register


@register
@dataclass(frozen=True)
class ChannelShuffle(Layer):
    """ShuffleNet's channel shuffle (Zhang et al. 2018; PyTorch's nn.ChannelShuffle): the
    C channels, seen as ``groups`` rows of C / groups, are read column by column, so output
    channel j·g + i is input channel i·(C / g) + j.  A permutation: no params, no MACs, no
    arithmetic; the output is a new tensor (PyTorch's is a contiguous copy too), so it
    counts as activations; one connection per output.  Needs a map (PyTorch refuses a
    vector) with C divisible by ``groups``."""
    type_name = "channel_shuffle"
    groups: int = attr(positive_int, doc="number of groups the channels are interleaved from")

    def out_shape(self, x: Shape) -> Shape:
        if x.rank < 2:
            raise ShapeError(f"channel_shuffle needs a map (channels and positions), got {x}")
        if is_known(x.channels) and x.channels % self.groups:
            raise ShapeError(f"channels {x.channels} are not divisible by groups {self.groups}")
        return x

    def connections(self, x: Shape, y: Shape):
        return y.numel

    def work(self, x: Shape, y: Shape) -> Work:
        return Work()  # a copy in another order

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        return Backward()  # the inverse permutation of the gradient: a copy

    def saved(self, x: Shape, y: Shape, needs: Needs) -> Saved:
        return NOTHING

    def forward(self, x, weights, ops):
        """One strided copy: the output seen as (N, C/g, g, …) receives the input seen as
        (N, g, C/g, …) with its two channel axes swapped (splitting an axis is a view, so
        a strided input is read in place)."""
        import numpy as np

        n, c = x.shape[:2]
        g, rest = self.groups, x.shape[2:]
        y = np.empty(x.shape, dtype=x.dtype)
        y.reshape((n, c // g, g) + rest)[...] = x.reshape((n, g, c // g) + rest).swapaxes(1, 2)
        return y

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """The inverse permutation: input channel i·(C/g) + j receives output channel j·g + i."""
        import numpy as np

        if not needs.input:
            return None, {}
        n, c = grad.shape[:2]
        g, rest = self.groups, grad.shape[2:]
        dx = np.empty(grad.shape, dtype=grad.dtype)
        dx.reshape((n, g, c // g) + rest)[...] = grad.reshape((n, c // g, g) + rest).swapaxes(1, 2)
        return dx, {}


@register
@dataclass(frozen=True)
class Slice(Layer):
    """Channels ``start`` … ``stop − 1`` of the input (PyTorch's ``x[:, start:stop]``; the
    pieces of ShuffleNet V2's channel split, ``x.chunk(2, dim=1)``, are the two halves).
    A view of the input: no params, no work, no new memory, no connections (as crop).
    Works on maps of any rank and on vectors (a slice of the features); needs
    0 ≤ start < stop ≤ C."""
    type_name = "slice"
    is_view = True
    gradient_is_view = False
    stop: int = attr(positive_int, doc="one past the last channel kept")
    start: int = attr(non_negative_int, 0, "the first channel kept")

    def out_shape(self, x: Shape) -> Shape:
        if self.start >= self.stop:
            raise ShapeError(f"slice start {self.start} must be below its stop {self.stop}")
        if is_known(x.channels) and self.stop > x.channels:
            raise ShapeError(f"slice stop {self.stop} is past the input's {x.channels} channels")
        return Shape((self.stop - self.start,) + tuple(x.dims[1:]))

    def work(self, x: Shape, y: Shape) -> Work:
        return Work()  # a view

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        return Backward()  # the gradient written into the sliced channels, zeros elsewhere

    def saved(self, x: Shape, y: Shape, needs: Needs) -> Saved:
        return NOTHING

    def forward(self, x, weights, ops):
        return x[:, self.start:self.stop]

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """The gradient written into channels start … stop − 1 of zeros (as autograd's
        SliceBackward); the other channels get none from this reader."""
        import numpy as np

        if not needs.input:
            return None, {}
        dx = np.zeros(tape.dims(), dtype=grad.dtype)
        dx[:, self.start:self.stop] = grad
        return dx, {}


@register
@dataclass(frozen=True)
class LayerScale(Layer):
    """ConvNeXt's layer scale (Touvron et al. 2021, CaiT; torchvision's CNBlock
    ``layer_scale`` parameter): y = γ_c · x, one trainable multiplier per channel (per
    feature of a vector), initialised to ``init``.  params = C; per element 1
    multiplication, which is elementwise work, not a MAC (nothing is accumulated, as for
    batch norm's scale); one connection per element."""
    type_name = "layer_scale"
    init: float = attr(number, 1e-6, "the multipliers' initial value (ConvNeXt: 1e-6)")

    def out_shape(self, x: Shape) -> Shape:
        return x

    def params(self, x: Shape):
        return x.channels

    def connections(self, x: Shape, y: Shape):
        return y.numel

    def work(self, x: Shape, y: Shape) -> Work:
        return Work(multiplications=y.numel)

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        """The input's gradient g·γ; γ's gradient Σ g·x over positions and samples."""
        n = y.numel
        return Backward(work=Work(multiplications=n if needs.input else 0) +
                        (Work(multiplications=n, additions=n) if needs.weights else Work()))

    def saved(self, x: Shape, y: Shape, needs: Needs) -> Saved:
        """Its input, for γ's gradient (γ itself is a parameter)."""
        return Saved(inputs=(0,)) if needs.weights else NOTHING

    def init_weights(self, x: Shape, rng, dtype) -> dict:
        """gamma (C,), drawn around ``init`` (±17 %) so a test sees which channel got which
        multiplier (PyTorch sets all of them to ``init``)."""
        from .npkit import normal

        gamma = normal(rng, (x.channels,), dtype, 0.1 * abs(self.init))
        gamma += gamma.dtype.type(self.init)
        return {"gamma": gamma}

    def forward(self, x, weights, ops):
        return x * weights["gamma"].reshape((1, -1) + (1,) * (x.ndim - 2))

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """dx = g·γ; dγ = Σ g·x per channel (an einsum over the batch and positions)."""
        from .npgrad import channel_dot

        dx = grad * weights["gamma"].reshape((1, -1) + (1,) * (grad.ndim - 2)) if needs.input else None
        grads = {"gamma": channel_dot(grad, tape.x)} if needs.weights else {}
        return dx, grads
