"""Pooling over 1, 2 or 3 spatial axes: max and average windows, LeNet's trainable
subsampling, global and adaptive average pooling.  All windows go through the one rule
in :func:`shapes.window_out`."""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..core.shapes import Shape, ceildiv, per_axis, product
from ..core.windows import Geometry, Keep, Whole, window_geometry
from ..core.backward import NOTHING, Backward, Extra, Needs, Saved
from ..core.work import Work
from ..errors import ArchcalcError, SpecError
from ..spec.fields import attr, axes, boolean, optional, padding
from .activation import activation_backward, activation_saved, activation_work
from .base import Layer, register, require_map
from .folded import activation_attr


class Window(Layer):
    """Shared shape rule of the windowed pools; ``stride`` defaults to the kernel."""

    #: pools without the attribute have no dilation and round down
    dilation = 1
    ceil_mode = False

    def __post_init__(self):
        if self.stride is None:
            object.__setattr__(self, "stride", self.kernel)
        if self.ceil_mode and self.padding == "same":
            raise SpecError("ceil_mode has no meaning with 'same' padding", key="ceil_mode")

    def geometry(self, x: Shape) -> Geometry:
        return window_geometry(x.spatial, self.kernel, self.stride, self.padding, self.dilation,
                               self.ceil_mode)

    def out_shape(self, x: Shape) -> Shape:
        require_map(self, x)
        return Shape.of(x.channels, *self.geometry(x).out_size)

    def window_taps(self, x: Shape) -> int:
        """Cells in one window on input ``x``: kh·kw in 2-D (k in 1-D, kd·kh·kw in 3-D)."""
        return product(self.geometry(x).kernel)

    def workspace(self, x: Shape, batch: int = 1) -> int:
        """Elements held besides the output: the padded copy of the input, made only when a
        window reaches padding (ceil mode whose windows tile exactly pads nothing)."""
        g = self.geometry(x)
        if not g.reads_padding:
            return 0
        return batch * x.channels * product(g.span)

    def _windows(self, x, fill):
        """(view of the windows (N, C, *out, *kernel), the geometry)."""
        from .npkit import padded_windows

        g = self.geometry(Shape.of(*x.shape[1:]))
        return padded_windows(x, g, fill), g


@register
@dataclass(frozen=True)
class MaxPool(Window):
    """y = max over a window (kh×kw in 2-D); padded cells never win (PyTorch, Caffe).

    FLOPs: taps − 1 comparisons per output; connections: taps edges per output.
    """
    type_name = "maxpool"
    kernel: object = attr(axes, doc="window: n, or one per spatial axis")
    stride: object = attr(optional(axes), None, "stride (default: the kernel)")
    padding: object = attr(padding, 0, "p, one per axis, [[before, after], …], 'valid' or 'same'")
    dilation: object = attr(axes, 1, "dilation (PyTorch)")
    ceil_mode: bool = attr(boolean, False, "round the output size up (Caffe) instead of down (PyTorch)")

    def connections(self, x: Shape, y: Shape):
        return self.window_taps(x) * y.numel

    def work(self, x: Shape, y: Shape) -> Work:
        return Work(comparisons=(self.window_taps(x) - 1) * y.numel)

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        """max_pool_with_indices_backward: each output's gradient added to the input cell
        its index names (an add per output)."""
        return Backward(work=Work(additions=y.numel) if needs.input else Work())

    def saved(self, x: Shape, y: Shape, needs: Needs) -> Saved:
        """Its input and the int64 index of each output's maximum."""
        return Saved(inputs=(0,), extras=(Extra("indices", y.numel, 8),)) if needs.input else NOTHING

    def forward(self, x, weights, ops):
        """Padding is −∞, so a padded cell never wins; ceil mode's overhang likewise."""
        import numpy as np

        from .npkit import reduce_windows

        win, _ = self._windows(x, -float("inf"))
        return reduce_windows(win, np.maximum)

    def train_forward(self, x, weights, ops):
        """max_pool_with_indices: the maxima and the int64 index of each one in its map."""
        from .npgrad import max_with_indices

        y, idx = max_with_indices(x, self.geometry(Shape.of(*x.shape[1:])))
        return y, {"indices": idx}

    def train_workspace(self, x, batch, itemsize) -> int:
        """Beyond the output and its indices: the padded copy, the winning offsets (int64)
        and a byte mask while the windows are compared (the indices, counted from the
        start, are made only after), then the offsets while turned into indices."""
        y = batch * self.out_shape(x).numel
        return max(itemsize * self.workspace(x, batch) + y, 8 * y)

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """max_pool_with_indices_backward: each output's gradient added at its index."""
        from .npgrad import max_unpool

        return (max_unpool(grad, tape.cache["indices"], tape.dims()) if needs.input else None), {}

    def backward_workspace(self, x, y, needs, batch, itemsize) -> int:
        """The indices offset by each map's start in the flattened input (int64)."""
        return 8 * batch * y.numel if needs.input else 0


@register
@dataclass(frozen=True)
class AvgPool(Window):
    """y = mean over a window (kh×kw in 2-D).

    ``count_include_pad`` (PyTorch default true; Caffe also divides by the padded window)
    says whether zero padding counts in the divisor.  FLOPs: taps − 1 adds and one divide
    per output; connections: taps edges per output.
    """
    type_name = "avgpool"
    kernel: object = attr(axes, doc="window: n, or one per spatial axis")
    stride: object = attr(optional(axes), None, "stride (default: the kernel)")
    padding: object = attr(padding, 0, "p, one per axis, [[before, after], …], 'valid' or 'same'")
    ceil_mode: bool = attr(boolean, False, "round the output size up (Caffe) instead of down (PyTorch)")
    count_include_pad: bool = attr(boolean, True, "divide by the full window, padding included")

    def connections(self, x: Shape, y: Shape):
        return self.window_taps(x) * y.numel

    def work(self, x: Shape, y: Shape) -> Work:
        return Work(additions=(self.window_taps(x) - 1) * y.numel, divisions=y.numel)

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        """avg_pool_backward: each output's gradient divided by its count and added to
        every cell of its window (a divide per output, an add per tap)."""
        if not needs.input:
            return Backward()
        return Backward(work=Work(additions=self.window_taps(x) * y.numel, divisions=y.numel))

    def saved(self, x: Shape, y: Shape, needs: Needs) -> Saved:
        """avg_pool2d's derivative names its input (kept, though only its shape is read)."""
        return Saved(inputs=(0,)) if needs.input else NOTHING

    def workspace(self, x: Shape, batch: int = 1) -> int:
        """The padded copy (as every window pool), held while the divisors are made and
        shared by the batch: the counts of each axis in turn (two arrays of its output size
        while computed), then their outer products, one axis at a time (the previous
        product alive while the next is made)."""
        out = self.geometry(x).out_size
        peak = made = 0
        for o in out:
            peak, made = max(peak, made + 2 * o), made + o
        for m in range(2, len(out) + 1):
            previous = product(out[:m - 1]) if m > 2 else 0
            peak = max(peak, made + previous + product(out[:m]))
        return super().workspace(x, batch) + peak

    def forward(self, x, weights, ops):
        """Window sums over zero padding, divided per output cell by
        :func:`npkit.window_counts` (docs/conventions.md, "Padded cells in an average")."""
        import numpy as np

        from .npkit import reduce_windows

        win, g = self._windows(x, 0.0)
        y = reduce_windows(win, np.add)
        y /= self._divisor(x.shape[2:], g, y.dtype)  # one divisor per output cell, shared by the batch
        return y

    def _divisor(self, sizes, g: Geometry, dtype):
        """The cells each window divides by, as an array of the output's spatial shape."""
        import numpy as np

        from .npkit import window_counts

        counts = [window_counts(size, k, s, before, after, o, self.count_include_pad, dtype)
                  for size, k, s, (before, after), o
                  in zip(sizes, g.kernel, g.stride, g.padding, g.out_size)]
        divisor = counts[0]
        for c in counts[1:]:
            divisor = np.multiply.outer(divisor, c)
        return divisor

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """avg_pool_backward: each output's gradient divided by its count, added to every
        cell of its window (padding cut off)."""
        from .npgrad import scatter_windows

        if not needs.input:
            return None, {}
        geo, dims = self.geometry(tape.in_shape), tape.dims()
        share = grad / self._divisor(dims[2:], geo, grad.dtype)
        return scatter_windows(dims, geo, grad.dtype, lambda offset: share), {}

    def backward_workspace(self, x, y, needs, batch, itemsize) -> int:
        """The divided gradient (output-sized) and the padded gradient, when padded."""
        from .npgrad import padded_bytes

        if not needs.input:
            return 0
        return itemsize * batch * y.numel + padded_bytes(x.dims, self.geometry(x), batch, itemsize)


@register
@dataclass(frozen=True)
class Subsample(Window):
    """LeNet-5's subsampling: y = a[c] · Σ_window x + b[c] (then its squashing function).

    params = 2 per map.  The shared coefficient is applied to every tap, so
    MACs = taps per output (kh·kw) and connections = (taps + 1) per output, as in the paper.
    """
    type_name = "subsample"
    kernel: object = attr(axes, 2, "window: n, or one per spatial axis (LeNet-5: 2)")
    stride: object = attr(optional(axes), None, "stride (default: the kernel)")
    padding: object = attr(padding, 0, "p, one per axis, [[before, after], …] or 'valid'")
    activation: object = activation_attr()

    def params(self, x: Shape):
        return 2 * x.channels

    def macs(self, x: Shape, y: Shape):
        return self.window_taps(x) * y.numel

    def connections(self, x: Shape, y: Shape):
        return (self.window_taps(x) + 1) * y.numel

    def work(self, x: Shape, y: Shape) -> Work:
        """The bias add per output, then the squashing function."""
        return Work(additions=y.numel) + activation_work(self.activation, y.numel)

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        """The input's gradient a[c]·g to every tap (MACs as the forward); the
        coefficient's Σ g·(window sum), the sums made again (taps − 1 adds per output);
        the bias's Σ g; after the squashing function's derivative."""
        taps = self.window_taps(x)
        weights = Work(additions=taps * y.numel) if needs.weights else Work()
        return Backward(input_macs=taps * y.numel if needs.input else 0,
                        weight_macs=y.numel if needs.weights else 0,
                        work=weights + activation_backward(self.activation, y.numel))

    def saved(self, x: Shape, y: Shape, needs: Needs) -> Saved:
        own = Saved(inputs=(0,)) if needs.weights else NOTHING
        return own + activation_saved(self.activation, y.numel)

    def workspace(self, x: Shape, batch: int = 1) -> int:
        """The padded copy (as every window pool), or, later, a folded softmax's maximum
        and sum (one value per output position)."""
        positions = product(self.geometry(x).out_size)
        return max(super().workspace(x, batch), batch * positions if self.activation == "softmax" else 0)

    def init_weights(self, x: Shape, rng, dtype) -> dict:
        """weight (C,) and bias (C,): one trainable coefficient and one bias per map."""
        from .npkit import normal

        return {"weight": normal(rng, (x.channels,), dtype, self.window_taps(x) ** -0.5),
                "bias": normal(rng, (x.channels,), dtype, 0.1)}

    def forward(self, x, weights, ops):
        """Every tap multiplied by its map's coefficient and accumulated (one einsum)."""
        from .npkit import activate

        win, g = self._windows(x, 0.0)
        rank = len(g.kernel)
        positions, taps = "uvw"[:rank], "ijk"[:rank]
        y = ops.einsum(f"nc{positions}{taps},c->nc{positions}", win, weights["weight"])
        del win  # the padded copy goes before the activation's temporaries (softmax)
        y += weights["bias"].reshape((-1,) + (1,) * rank)
        return activate(self.activation, y)

    def train_forward(self, x, weights, ops):
        """The forward, keeping a folded activation's argument when autograd keeps it."""
        from .npgrad import folded_forward

        return folded_forward(self, x, weights, ops)

    def train_workspace(self, x, batch, itemsize) -> int:
        from .npgrad import folded_train_workspace

        return folded_train_workspace(self, x, batch, itemsize)

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """After the squashing function's derivative: every tap's gradient a[c]·g (one
        einsum with the coefficient repeated over the taps, the transposed depthwise
        convolution the forward's MACs imply) routed back to its cell; a[c]'s gradient
        Σ g·(window sum), the sums made again; b[c]'s Σ g."""
        import numpy as np

        from . import npgrad
        from .npkit import reduce_windows

        g = npgrad.folded_grad(self, tape, grad)
        geo, dims = self.geometry(tape.in_shape), tape.dims()
        rank = len(geo.kernel)
        positions, taps = "uvw"[:rank], "ijk"[:rank]
        a = weights["weight"]
        dx, grads = None, {}
        if needs.input:
            coefficient = np.broadcast_to(a.reshape((-1,) + (1,) * rank), a.shape + tuple(geo.kernel))
            cols = ops.input.einsum(f"nc{positions},c{taps}->nc{positions}{taps}", g, coefficient)
            dx = npgrad.scatter_windows(dims, geo, g.dtype, lambda offset: cols[(Ellipsis,) + offset])
            del cols
        if needs.weights:
            win, _ = self._windows(tape.x, 0.0)
            sums = reduce_windows(win, np.add)
            del win
            grads = {"weight": ops.weights.einsum(f"nc{positions},nc{positions}->c", g, sums),
                     "bias": npgrad.channel_sum(g)}
        return dx, grads

    def backward_workspace(self, x, y, needs, batch, itemsize) -> int:
        """The folded activation's gradient, then for the input every tap's gradient
        (taps × the output) and the padded gradient; for the weights the padded copy and
        the window sums."""
        from . import npgrad

        n = batch * y.numel
        act = npgrad.folded_workspace(self, y, batch, itemsize)
        geo = self.geometry(x)
        inputs = itemsize * self.window_taps(x) * n + npgrad.padded_bytes(x.dims, geo, batch, itemsize)
        own = itemsize * (Window.workspace(self, x, batch) + n)
        return act + max(inputs if needs.input else 0, own if needs.weights else 0)


@register
@dataclass(frozen=True)
class GlobalAvgPool(Layer):
    """C×H×W → C×1×1 (C×L → C×1, C×D×H×W → C×1×1×1), the mean of each map.
    FLOPs: one per input cell (adds, and one divide per map)."""
    type_name = "gap"

    def out_shape(self, x: Shape) -> Shape:
        require_map(self, x)
        return Shape.of(x.channels, *(1 for _ in x.spatial))

    def connections(self, x: Shape, y: Shape):
        return x.numel

    def work(self, x: Shape, y: Shape) -> Work:
        return Work(additions=x.numel - x.channels, divisions=x.channels)

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        """As adaptive pooling to 1: each map's gradient divided by H·W and added to every
        cell (a divide per map, an add per input cell)."""
        if not needs.input:
            return Backward()
        return Backward(work=Work(additions=x.numel, divisions=x.channels))

    def saved(self, x: Shape, y: Shape, needs: Needs) -> Saved:
        """torchvision's AdaptiveAvgPool2d(1): _adaptive_avg_pool2d_backward names its input."""
        return Saved(inputs=(0,)) if needs.input else NOTHING

    def field_rule(self, x: Shape):
        return Whole()

    def forward(self, x, weights, ops):
        return x.mean(axis=tuple(range(2, x.ndim)), keepdims=True)

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """Each map's gradient divided by its cells and spread over them."""
        import numpy as np

        if not needs.input:
            return None, {}
        dims = tape.dims()
        dx = np.empty(dims, dtype=grad.dtype)
        dx[...] = grad / grad.dtype.type(product(dims[2:]))
        return dx, {}


def adaptive_windows(size: int, out: int, dtype="float64"):
    """(out, size) averaging matrix: row i is 1/len over PyTorch's adaptive window i,
    [⌊i·size/out⌋, ⌈(i+1)·size/out⌉).  Made in ``dtype`` directly, one row at a time, so
    the matrix is the only array it allocates (see AdaptiveAvgPool.workspace)."""
    import numpy as np

    matrix = np.zeros((out, size), dtype=dtype)
    for i in range(out):
        start, end = (i * size) // out, -((-(i + 1) * size) // out)
        matrix[i, start:end] = 1 / (end - start)
    return matrix


def largest_adaptive_window(size: int, out: int) -> int:
    """The longest of PyTorch's ``out`` adaptive windows over ``size`` cells:
    max over i of ⌈(i+1)·size/out⌉ − ⌊i·size/out⌋ = ⌈(size + out − g)/out⌉, g = gcd;
    bin i spans ⌈f + size/out⌉ cells, f the fraction of i·size/out, at most 1 − g/out."""
    return ceildiv(size + out - math.gcd(size, out), out)


#: Most adaptive bins along an axis whose size is a symbol (symbolic mode writes one
#: ceiling term per bin; integer sizes use the closed form and have no such limit).
MAX_SYMBOLIC_BINS = 64


def adaptive_window_total(size, out: int):
    """Σ over the ``out`` adaptive windows of their lengths (PyTorch's rule:
    window i spans [⌊i·size/out⌋, ⌈(i+1)·size/out⌉)).

    For integers the sum is ``size + out − gcd(size, out)``: the floors telescope against
    the ceilings, and ⌈j·size/out⌉ exceeds ⌊j·size/out⌋ for all j in 1..out but the
    gcd(size, out) multiples of out/gcd.  A symbolic size keeps the sum of its terms."""
    if isinstance(size, int) or getattr(size, "is_Integer", False):
        return int(size) + out - math.gcd(int(size), out)
    if out > MAX_SYMBOLIC_BINS:
        raise ArchcalcError(f"adaptive pooling to {out:,} bins along an axis has no formula "
                            f"in H and W here (at most {MAX_SYMBOLIC_BINS}); use integer sizes")
    return sum(ceildiv((i + 1) * size, out) - (i * size) // out for i in range(out))


@register
@dataclass(frozen=True)
class AdaptiveAvgPool(Layer):
    """C×H×W → C×oh×ow with PyTorch's adaptive windows (they may overlap or vary in size);
    likewise in 1-D and 3-D, one output size per spatial axis.

    FLOPs and connections: the exact total of the window sizes (adds plus one divide).
    """
    type_name = "adaptive_avgpool"
    output: object = attr(axes, doc="output size: n, or one per spatial axis")

    def _output(self, x: Shape) -> tuple:
        return per_axis(self.output, len(x.spatial), "output")

    def out_shape(self, x: Shape) -> Shape:
        require_map(self, x)
        return Shape.of(x.channels, *self._output(x))

    def _taps(self, x: Shape):
        return x.channels * product(adaptive_window_total(n, o)
                                    for n, o in zip(x.spatial, self._output(x)))

    def connections(self, x: Shape, y: Shape):
        return self._taps(x)

    def work(self, x: Shape, y: Shape) -> Work:
        return Work(additions=self._taps(x) - y.numel, divisions=y.numel)

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        """_adaptive_avg_pool_backward: each output's gradient divided by its window's size
        and added to its cells (a divide per output, an add per tap)."""
        if not needs.input:
            return Backward()
        return Backward(work=Work(additions=self._taps(x), divisions=y.numel))

    def saved(self, x: Shape, y: Shape, needs: Needs) -> Saved:
        return Saved(inputs=(0,)) if needs.input else NOTHING

    def field_rule(self, x: Shape):
        """The largest window along each axis, with no grid left; none when the size is kept."""
        out = self._output(x)
        if tuple(x.spatial) == out:
            return Keep()
        return Whole(tuple(largest_adaptive_window(n, o) for n, o in zip(x.spatial, out)))

    def _stages(self, x: Shape, batch: int) -> list:
        """Elements of each half-pooled intermediate the forward makes (one axis pooled
        at a time, the last axis first), the final one being the output."""
        sizes, out = list(x.spatial), self._output(x)
        stages = []
        for axis in reversed(range(len(sizes))):
            sizes[axis] = out[axis]
            stages.append(batch * x.channels * product(sizes))
        return stages

    def workspace(self, x: Shape, batch: int = 1) -> int:
        """The averaging matrices (Σ o·n over the axes, shared by the batch) and the
        half-pooled intermediates: each alive while the next is made (the output last)."""
        matrices = sum(n * o for n, o in zip(x.spatial, self._output(x)))
        held = self._stages(x, batch)[:-1]
        peak = max((a + b for a, b in zip(held, held[1:])), default=held[0] if held else 0)
        return matrices + peak

    def forward(self, x, weights, ops):
        """One averaging matrix per axis, applied one axis at a time from the last, e.g.
        y = A_h · x · A_wᵀ in 2-D (averaging weights are fixed, not trainable, so these
        products are not MACs)."""
        import numpy as np

        n, c, *sizes = x.shape
        out = self._output(Shape.of(c, *sizes))
        matrices = [adaptive_windows(size, o, x.dtype) for size, o in zip(sizes, out)]
        y = np.matmul(x, matrices[-1].T)
        for axis in reversed(range(len(sizes) - 1)):
            # pool axis ``axis`` of y (N, C, …, size, rest): the axes after it are already
            # pooled; flatten them so one matmul applies A on the left
            rest = y.shape[3 + axis:]
            lead = y.shape[:2 + axis]
            t = y.reshape(lead + (sizes[axis], product(rest)))
            y = np.matmul(matrices[axis], t).reshape(lead + (out[axis],) + rest)
        return y

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """The forward's averaging matrices transposed, one axis at a time from the last:
        dx = A_hᵀ · g · A_w in 2-D (fixed weights: not MACs)."""
        import numpy as np

        if not needs.input:
            return None, {}
        n, c, *sizes = tape.dims()
        out = self._output(tape.in_shape)
        matrices = [adaptive_windows(size, o, grad.dtype) for size, o in zip(sizes, out)]
        dx = np.matmul(grad, matrices[-1])
        for axis in reversed(range(len(sizes) - 1)):
            rest, lead = dx.shape[3 + axis:], dx.shape[:2 + axis]
            t = dx.reshape(lead + (out[axis], product(rest)))
            dx = np.matmul(matrices[axis].T, t).reshape(lead + (sizes[axis],) + rest)
        return dx, {}

    def backward_workspace(self, x, y, needs, batch, itemsize) -> int:
        """The matrices and the half-restored intermediates, each alive while the next is
        made (the input's gradient last)."""
        if not needs.input:
            return 0
        sizes, out = list(self._output(x)), x.spatial
        stages = []
        for axis in reversed(range(len(sizes))):
            sizes[axis] = out[axis]
            stages.append(batch * x.channels * product(sizes))
        held = stages[:-1]
        peak = max((a + b for a, b in zip(held, held[1:])), default=held[0] if held else 0)
        return itemsize * (sum(n * o for n, o in zip(x.spatial, self._output(x))) + peak)
