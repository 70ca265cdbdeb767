"""Pooling: max and average windows, LeNet's trainable subsampling, global and adaptive
average pooling.  All windows go through the one rule in :func:`shapes.window_out`."""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..core.shapes import Shape, ceildiv
from ..core.windows import Geometry, Keep, Whole, window_geometry
from ..core.work import Work
from ..errors import ArchcalcError, SpecError
from ..spec.fields import attr, boolean, optional, pair, padding
from .activation import activation_work
from .base import Layer, register, require_map
from .folded import activation_attr


class Window(Layer):
    """Shared shape rule of the windowed pools; ``stride`` defaults to the kernel."""

    #: pools without the attribute have no dilation and round down
    dilation = (1, 1)
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

    @property
    def taps(self) -> int:
        kh, kw = self.kernel
        return kh * kw

    def workspace(self, x: Shape, batch: int = 1) -> int:
        """Elements held besides the output: the padded copy of the input, made only when a
        window reaches padding (ceil mode whose windows tile exactly pads nothing)."""
        g = self.geometry(x)
        if not g.reads_padding:
            return 0
        return batch * x.channels * g.span[0] * g.span[1]

    def _windows(self, x, fill):
        """(view of the windows (N, C, Ho, Wo, kh, kw), explicit padding, (Ho, Wo))."""
        from .npkit import padded_windows

        shape = Shape.of(*x.shape[1:])
        pads = self.geometry(shape).padding
        out = self.geometry(shape).out_size
        return padded_windows(x, self, pads, out, fill), pads, out


@register
@dataclass(frozen=True)
class MaxPool(Window):
    """y = max over a kh×kw window; padded cells never win (PyTorch, Caffe).

    FLOPs: kh·kw − 1 comparisons per output; connections: kh·kw edges per output.
    """
    type_name = "maxpool"
    kernel: tuple = attr(pair, doc="window, n or [kh, kw]")
    stride: tuple = attr(optional(pair), None, "stride (default: the kernel)")
    padding: object = attr(padding, ((0, 0), (0, 0)), "p, [ph, pw], 'valid' or 'same'")
    dilation: tuple = attr(pair, (1, 1), "dilation (PyTorch)")
    ceil_mode: bool = attr(boolean, False, "round the output size up (Caffe) instead of down (PyTorch)")

    def connections(self, x: Shape, y: Shape):
        return self.taps * y.numel

    def work(self, x: Shape, y: Shape) -> Work:
        return Work(comparisons=(self.taps - 1) * y.numel)

    def forward(self, x, weights, ops):
        """Padding is −∞, so a padded cell never wins; ceil mode's overhang likewise."""
        import numpy as np

        from .npkit import reduce_windows

        win, _, _ = self._windows(x, -float("inf"))
        return reduce_windows(win, np.maximum)


@register
@dataclass(frozen=True)
class AvgPool(Window):
    """y = mean over a kh×kw window.

    ``count_include_pad`` (PyTorch default true; Caffe also divides by the padded window)
    says whether zero padding counts in the divisor.  FLOPs: kh·kw − 1 adds and one divide
    per output; connections: kh·kw edges per output.
    """
    type_name = "avgpool"
    kernel: tuple = attr(pair, doc="window, n or [kh, kw]")
    stride: tuple = attr(optional(pair), None, "stride (default: the kernel)")
    padding: object = attr(padding, ((0, 0), (0, 0)), "p, [ph, pw], 'valid' or 'same'")
    ceil_mode: bool = attr(boolean, False, "round the output size up (Caffe) instead of down (PyTorch)")
    count_include_pad: bool = attr(boolean, True, "divide by the full window, padding included")

    def connections(self, x: Shape, y: Shape):
        return self.taps * y.numel

    def work(self, x: Shape, y: Shape) -> Work:
        return Work(additions=(self.taps - 1) * y.numel, divisions=y.numel)

    def workspace(self, x: Shape, batch: int = 1) -> int:
        """The padded copy (as every window pool), held while the divisors are made: the
        row counts (Ho), then the column counts (two arrays of Wo while computed), then
        their (Ho, Wo) outer product; all shared by the batch."""
        (ho, wo) = self.geometry(x).out_size
        return super().workspace(x, batch) + max(ho + 2 * wo, ho + wo + ho * wo)

    def forward(self, x, weights, ops):
        """Window sums over zero padding, divided per output cell by
        :func:`npkit.window_counts` (docs/conventions.md, "Padded cells in an average")."""
        import numpy as np

        from .npkit import reduce_windows, window_counts

        win, pads, (ho, wo) = self._windows(x, 0.0)
        y = reduce_windows(win, np.add)
        (h, w), (kh, kw), (sh, sw) = x.shape[2:], self.kernel, self.stride
        rows = window_counts(h, kh, sh, *pads[0], ho, self.count_include_pad, y.dtype)
        cols = window_counts(w, kw, sw, *pads[1], wo, self.count_include_pad, y.dtype)
        y /= np.outer(rows, cols)  # one (Ho, Wo) divisor
        return y


@register
@dataclass(frozen=True)
class Subsample(Window):
    """LeNet-5's subsampling: y = a[c] · Σ_window x + b[c] (then its squashing function).

    params = 2 per map.  The shared coefficient is applied to every tap, so
    MACs = kh·kw per output and connections = (kh·kw + 1) per output, as in the paper.
    """
    type_name = "subsample"
    kernel: tuple = attr(pair, (2, 2), "window, n or [kh, kw] (LeNet-5: 2)")
    stride: tuple = attr(optional(pair), None, "stride (default: the kernel)")
    padding: object = attr(padding, ((0, 0), (0, 0)), "p, [ph, pw] or 'valid'")
    activation: object = activation_attr()

    def params(self, x: Shape):
        return 2 * x.channels

    def macs(self, x: Shape, y: Shape):
        return self.taps * y.numel

    def connections(self, x: Shape, y: Shape):
        return (self.taps + 1) * y.numel

    def work(self, x: Shape, y: Shape) -> Work:
        """The bias add per output, then the squashing function."""
        return Work(additions=y.numel) + activation_work(self.activation, y.numel)

    def workspace(self, x: Shape, batch: int = 1) -> int:
        """The padded copy (as every window pool), or, later, a folded softmax's maximum
        and sum (one value per output pixel)."""
        (ho, wo) = self.geometry(x).out_size
        return max(super().workspace(x, batch), batch * ho * wo if self.activation == "softmax" else 0)

    def init_weights(self, x: Shape, rng, dtype) -> dict:
        """weight (C,) and bias (C,): one trainable coefficient and one bias per map."""
        from .npkit import normal

        return {"weight": normal(rng, (x.channels,), dtype, self.taps ** -0.5),
                "bias": normal(rng, (x.channels,), dtype, 0.1)}

    def forward(self, x, weights, ops):
        """Every tap multiplied by its map's coefficient and accumulated (one einsum)."""
        from .npkit import activate

        win, _, _ = self._windows(x, 0.0)
        y = ops.einsum("nchwij,c->nchw", win, weights["weight"])
        del win  # the padded copy goes before the activation's temporaries (softmax)
        y += weights["bias"][:, None, None]
        return activate(self.activation, y)


@register
@dataclass(frozen=True)
class GlobalAvgPool(Layer):
    """C×H×W → C×1×1, the mean of each map.  FLOPs: H·W per map (adds and one divide)."""
    type_name = "gap"

    def out_shape(self, x: Shape) -> Shape:
        require_map(self, x)
        return Shape.of(x.channels, 1, 1)

    def connections(self, x: Shape, y: Shape):
        return x.numel

    def work(self, x: Shape, y: Shape) -> Work:
        return Work(additions=x.numel - x.channels, divisions=x.channels)

    def field_rule(self, x: Shape):
        return Whole()

    def forward(self, x, weights, ops):
        return x.mean(axis=(2, 3), keepdims=True)


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
    """C×H×W → C×oh×ow with PyTorch's adaptive windows (they may overlap or vary in size).

    FLOPs and connections: the exact total of the window sizes (adds plus one divide).
    """
    type_name = "adaptive_avgpool"
    output: tuple = attr(pair, doc="output size, n or [oh, ow]")

    def out_shape(self, x: Shape) -> Shape:
        require_map(self, x)
        return Shape.of(x.channels, *self.output)

    def _taps(self, x: Shape):
        (h, w), (oh, ow) = x.spatial, self.output
        return x.channels * adaptive_window_total(h, oh) * adaptive_window_total(w, ow)

    def connections(self, x: Shape, y: Shape):
        return self._taps(x)

    def work(self, x: Shape, y: Shape) -> Work:
        return Work(additions=self._taps(x) - y.numel, divisions=y.numel)

    def field_rule(self, x: Shape):
        """The largest window along each axis, with no grid left; none when the size is kept."""
        if tuple(x.spatial) == tuple(self.output):
            return Keep()
        return Whole(tuple(largest_adaptive_window(n, o) for n, o in zip(x.spatial, self.output)))

    def workspace(self, x: Shape, batch: int = 1) -> int:
        """The two averaging matrices (oh·H + ow·W, shared by the batch) and the
        half-pooled (C, H, ow) intermediate of every sample."""
        (h, w), (oh, ow) = x.spatial, self.output
        return oh * h + ow * w + batch * x.channels * h * ow

    def forward(self, x, weights, ops):
        """Two averaging matrices, one per axis: y = A_h · x · A_wᵀ (averaging weights
        are fixed, not trainable, so these products are not MACs)."""
        import numpy as np

        (h, w), (oh, ow) = x.shape[2:], self.output
        rows = adaptive_windows(h, oh, x.dtype)
        cols = adaptive_windows(w, ow, x.dtype)
        return np.matmul(rows, np.matmul(x, cols.T))
