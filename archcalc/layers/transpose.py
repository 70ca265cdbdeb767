"""Transposed convolution in 1-D, 2-D and 3-D: PyTorch's ``nn.ConvTranspose1d/2d/3d``
(U-Net's up-convolutions, decoder upsampling), with a folded activation like conv."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..core.shapes import Shape, ceildiv, is_known, per_axis, product
from ..core.backward import Backward, Needs, Saved
from ..core.windows import Refine
from ..core.work import Work
from ..errors import ArchcalcError, ShapeError, SpecError
from ..spec.fields import (MAX_SPATIAL_AXES, attr, axes, boolean, non_negative_int, padding,
                           positive_int)
from .activation import activation_work
from .base import Layer, register, require_map
from .folded import activation_attr, linear_backward, linear_saved

#: Most kernel taps along an axis whose products are partly cropped by the padding
#: (each becomes one ``Max`` term of the connection count) when the input size is a symbol;
#: integer sizes use a closed form and have no such limit.
MAX_SYMBOLIC_TAPS = 64


def transpose_padding(value):
    """p (both sides of every axis) or [p, …] (both sides of each axis): PyTorch's
    ConvTranspose crops the same number of cells at both ends and has no 'same'."""
    if isinstance(value, str):
        raise SpecError("conv_transpose takes explicit padding, p or [p, …] (PyTorch's "
                        "ConvTranspose has no 'same' or 'valid'; 0 is the default)")
    parsed = padding(value)
    if isinstance(parsed, tuple) and any(isinstance(p, tuple) for p in parsed):
        raise SpecError("conv_transpose crops both ends of an axis alike (PyTorch): give p or "
                        "[p, …], not [[before, after], …]")
    return parsed


def non_negative_axes(value):
    """A non-negative int n (every spatial axis) or a list of them, one per axis."""
    if isinstance(value, (list, tuple)):
        if not 1 <= len(value) <= MAX_SPATIAL_AXES:
            raise SpecError(f"expected an integer or a list of 1 to {MAX_SPATIAL_AXES} integers "
                            f"≥ 0 (one per spatial axis), got a list of {len(value)}")
        return tuple(non_negative_int(v) for v in value)
    return non_negative_int(value)


def check_output_padding(output_padding, stride, dilation, rank: int | None = None):
    """PyTorch's rule: on each axis output_padding < stride or < dilation.  Without a
    rank (when the layer is built) the declared lists give it; lists of different lengths
    wait for the input, whose rank says which one is wrong."""
    values = (output_padding, stride, dilation)
    if rank is None:
        lengths = {len(v) for v in values if isinstance(v, tuple)}
        if len(lengths) > 1:
            return
        rank = lengths.pop() if lengths else 1
    names = ("output_padding", "stride", "dilation")
    for op, s, d in zip(*(per_axis(v, rank, name) for v, name in zip(values, names))):
        if op >= s and op >= d:
            raise SpecError(f"output_padding {op} must be smaller than the stride ({s}) or "
                            f"the dilation ({d}) of its axis (PyTorch's rule)", key="output_padding")


@register
@dataclass(frozen=True)
class ConvTranspose(Layer):
    """The adjoint of a strided convolution: every input cell multiplies the whole kernel
    and the products are added into the output, cropped by the padding (PyTorch):

        y[o, u] = b[o] + Σ_{c ∈ group(o)} Σ_{i, t : i·s + t·d − p = u} w[c, o, t] · x[c, i]
        out = (in − 1)·s − 2p + d·(k − 1) + output_padding + 1 per axis.

    weight (C_in, C_out/groups, *k) as PyTorch's, bias (C_out,).
    params = C_in·(C_out/g)·Πk + C_out·bias.  MACs = input elements × (C_out/g) × Πk:
    every input cell meets every kernel tap of its group's output maps, products that land
    in the cropped border included (PyTorch computes them all; each MAC's addition is its
    accumulation into an output cell).  Work: the bias add per output, then the folded
    activation (the accumulations are the MACs' own).  Connections (LeNet's sense): the
    (input cell, output cell) edges that exist, C_in·(C_out/g)·Π_axis E_axis with E the
    (input index, tap) pairs landing inside the output, + one per output with a bias.
    """
    type_name = "conv_transpose"
    filters: int = attr(positive_int, doc="number of output maps")
    kernel: object = attr(axes, doc="kernel size, k or one per spatial axis")
    stride: object = attr(axes, 1, "stride (the upsampling factor), s or one per axis")
    padding: object = attr(transpose_padding, 0, "cells cropped at both ends, p or one per axis")
    output_padding: object = attr(non_negative_axes, 0,
                                  "cells added at the end, one per axis or one for all "
                                  "(smaller than the stride or the dilation)")
    dilation: object = attr(axes, 1, "dilation, d or one per axis")
    groups: int = attr(positive_int, 1, "channel groups")
    bias: bool = attr(boolean, True, "whether each output map has a trainable bias")
    activation: object = activation_attr()

    def __post_init__(self):
        if self.filters % self.groups:
            raise SpecError(f"filters {self.filters} are not divisible by groups {self.groups}",
                            key="groups")
        check_output_padding(self.output_padding, self.stride, self.dilation)

    def resolved(self, x: Shape) -> tuple:
        """(kernel, stride, dilation, padding, output_padding), one value per spatial axis."""
        rank = len(x.spatial)
        check_output_padding(self.output_padding, self.stride, self.dilation, rank)
        return tuple(per_axis(v, rank, name) for v, name in (
            (self.kernel, "kernel"), (self.stride, "stride"), (self.dilation, "dilation"),
            (self.padding, "padding"), (self.output_padding, "output_padding")))

    def out_size(self, x: Shape) -> tuple:
        require_map(self, x)
        if x.channels % self.groups:
            raise ShapeError(f"input channels {x.channels} are not divisible by groups {self.groups}")
        kernel, stride, dilation, pads, extra = self.resolved(x)
        out = []
        for n, k, s, d, p, op in zip(x.spatial, kernel, stride, dilation, pads, extra):
            m = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
            if is_known(m) and m < 1:
                raise ShapeError(f"padding {p} crops the whole output: ({n} − 1)·{s} − 2·{p} + "
                                 f"{d}·({k} − 1) + {op} + 1 = {m} cells")
            out.append(m)
        return tuple(out)

    def out_shape(self, x: Shape) -> Shape:
        return Shape.of(self.filters, *self.out_size(x))

    def taps(self, x: Shape) -> int:
        """Kernel elements Πk."""
        return product(self.resolved(x)[0])

    def weight_count(self, x: Shape) -> int:
        """C_in·(C_out/g)·Πk: the weights (without bias)."""
        return x.channels * (self.filters // self.groups) * self.taps(x)

    def params(self, x: Shape):
        return self.weight_count(x) + (self.filters if self.bias else 0)

    def macs(self, x: Shape, y: Shape):
        """Input elements × C_out/g × Πk (each input cell times every tap of its group)."""
        return x.numel * (self.filters // self.groups) * self.taps(x)

    def connections(self, x: Shape, y: Shape):
        kernel, stride, dilation, pads, extra = self.resolved(x)
        edges = x.channels * (self.filters // self.groups)
        for n, k, s, d, p, op in zip(x.spatial, kernel, stride, dilation, pads, extra):
            edges = edges * landing_pairs(n, k, s, d, p, op)
        return edges + (y.numel if self.bias else 0)

    def work(self, x: Shape, y: Shape) -> Work:
        """A bias add per output, then the folded activation."""
        return Work(additions=y.numel if self.bias else 0) + activation_work(self.activation, y.numel)

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        """convolution_backward with transposed=True: the input's gradient is the ordinary
        convolution of the output's gradient with the weights, over every product the
        forward made (as many MACs, cropped border included: the gradient is zero there);
        the weights' gradient as many again; a bias add per output
        (:func:`folded.linear_backward`)."""
        return linear_backward(self.macs(x, y), y.numel if self.bias else 0, self.activation,
                               y.numel, needs)

    def saved(self, x: Shape, y: Shape, needs: Needs) -> Saved:
        return linear_saved(self.activation, y.numel, needs)

    def field_rule(self, x: Shape):
        """Zero insertion by s (input unit i at position i·s of a grid of pitch J/s), then a
        stride-1 window of extent e = d·(k − 1) + 1 with leading padding d·(k − 1) − p
        (docs/receptive-fields.md): pitch 1/s, shift (p − d·(k − 1)/2)/s, grow d·(k − 1)/s."""
        kernel, stride, dilation, pads, _ = self.resolved(x)
        return Refine(tuple(Fraction(1, s) for s in stride),
                      tuple((p - Fraction(d * (k - 1), 2)) / s
                            for k, s, d, p in zip(kernel, stride, dilation, pads)),
                      tuple(Fraction(d * (k - 1), s) for k, s, d in zip(kernel, stride, dilation)))

    # --- numeric core -------------------------------------------------------------------

    def init_weights(self, x: Shape, rng, dtype) -> dict:
        """weight (C_in, C_out/groups, *k) and bias (C_out,), PyTorch's layout."""
        from .npkit import normal

        kernel = self.resolved(x)[0]
        cg = x.channels // self.groups
        weights = {"weight": normal(rng, (x.channels, self.filters // self.groups) + tuple(kernel),
                                    dtype, (cg * self.taps(x)) ** -0.5)}
        if self.bias:
            weights["bias"] = normal(rng, (self.filters,), dtype, 0.1)
        return weights

    def workspace(self, x: Shape, batch: int = 1) -> int:
        """One sample's columns, C_out·Πk·Πin, reused by every sample (the output is
        zeroed and accumulated in place: no uncropped buffer).  A folded softmax adds its
        maximum, then sum, over the maps, one value per output pixel, after the columns
        are freed."""
        from .npresample import transpose_columns

        cols = transpose_columns(self.filters, self.resolved(x)[0], x.spatial)
        if self.activation != "softmax":
            return cols
        return max(cols, batch * product(self.out_size(x)))

    def forward(self, x, weights, ops):
        """One GEMM per group and sample into reused columns, then col2im by strided slices
        per kernel offset (npresample.conv_transpose); bias and activation in place."""
        from .npkit import finish
        from .npresample import conv_transpose

        shape = Shape.of(*x.shape[1:])
        _, stride, dilation, pads, _ = self.resolved(shape)
        y = conv_transpose(x, weights["weight"], ops, stride, dilation, pads,
                           self.out_size(shape), self.groups)
        return finish(y, weights.get("bias"), self.activation)

    # --- numeric training step ----------------------------------------------------------

    def train_forward(self, x, weights, ops):
        """The forward, keeping a folded activation's argument when autograd keeps it."""
        from .npgrad import folded_forward

        return folded_forward(self, x, weights, ops)

    def train_workspace(self, x, batch, itemsize) -> int:
        from .npgrad import folded_train_workspace

        return folded_train_workspace(self, x, batch, itemsize)

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """After the folded activation's derivative, the output's gradient gathered into
        the forward's columns, then W·cols (the input's, an ordinary convolution) and
        x·colsᵀ (the weights') per group and sample (npgrad.conv_transpose_backward); the
        bias's Σ g."""
        from . import npgrad

        g = npgrad.folded_grad(self, tape, grad)
        _, stride, dilation, pads, _ = self.resolved(tape.in_shape)
        dx, dw = npgrad.conv_transpose_backward(tape.x, g, weights["weight"], ops, stride,
                                                dilation, pads, tape.dims(), self.groups,
                                                needs.input, needs.weights)
        grads = {}
        if needs.weights:
            grads["weight"] = dw
            if self.bias:
                grads["bias"] = npgrad.channel_sum(g)
        return dx, grads

    def backward_workspace(self, x, y, needs, batch, itemsize) -> int:
        """The folded activation's gradient, one sample's columns (as the forward) and a
        weight-sized product for the weights' gradient."""
        from .npgrad import folded_workspace
        from .npresample import transpose_columns

        cols = transpose_columns(self.filters, self.resolved(x)[0], x.spatial)
        return (folded_workspace(self, y, batch, itemsize)
                + itemsize * (cols + (self.weight_count(x) if needs.weights else 0)))


# --- exact counting of the (input index, tap) pairs that land inside the output ----------

def floor_sum(n: int, m: int, a: int, b: int) -> int:
    """Σ_{i=0}^{n−1} ⌊(a·i + b)/m⌋ for m > 0 and any integers a, b, in O(log) steps (the
    classic reduction: take out the whole parts of a/m and b/m, then swap the roles of
    the two axes of the lattice under the line)."""
    if n <= 0:
        return 0
    total = 0
    if a < 0:
        a2 = a % m
        total -= n * (n - 1) // 2 * ((a2 - a) // m)
        a = a2
    if b < 0:
        b2 = b % m
        total -= n * ((b2 - b) // m)
        b = b2
    while True:
        if a >= m:
            total += n * (n - 1) // 2 * (a // m)
            a %= m
        if b >= m:
            total += n * (b // m)
            b %= m
        top = a * n + b
        if top < m:
            return total
        n, b, m, a = top // m, top % m, a, m


def _cropped(t: int, k: int, s: int, d: int, p: int, op: int) -> int:
    """c_t: the input cells whose product with tap t lands in a cropped border, at the
    start (⌈(p − t·d)/s⌉ of them) and at the end (⌈(t·d − D)/s⌉, D = d·(k − 1) − p + op)."""
    end = d * (k - 1) - p + op
    return max(0, ceildiv(p - t * d, s)) + max(0, ceildiv(t * d - end, s))


def landing_pairs(n, k: int, s: int, d: int, p: int, op: int):
    """E = Σ_{t=0}^{k−1} max(0, n − c_t): the pairs (input index i < n, tap t < k) with
    0 ≤ i·s + t·d − p < out along one axis.  Tap t reaches every input but the c_t whose
    products fall in the cropped borders (``_cropped``); taps p/d ≤ t ≤ D/d crop nothing.

    Integers: the cropped taps are summed in closed form (``floor_sum``), so a kernel or a
    padding of 10⁹ costs nothing.  A symbolic n keeps one Max(0, n − c_t) per cropped tap."""
    end = d * (k - 1) - p + op                  # D
    first_clean = min(k, ceildiv(p, d)) if p > 0 else 0  # taps t < A crop at the start
    dirty_end = max(0, min(k, end // d + 1))    # taps t ≥ B crop at the end
    start_only = (0, min(first_clean, dirty_end))
    both = (dirty_end, first_clean)
    end_only = (max(dirty_end, first_clean), k)
    clean = max(0, min(dirty_end, k) - first_clean)
    if not is_known(n):
        cropped = [t for lo, hi in (start_only, both, end_only) for t in range(lo, max(lo, hi))]
        if len(cropped) > MAX_SYMBOLIC_TAPS:
            raise ArchcalcError(f"a transposed convolution cropping {len(cropped):,} kernel taps "
                                f"along an axis has no formula in the input size here (at most "
                                f"{MAX_SYMBOLIC_TAPS}); use integer sizes")
        import sympy  # symbolic path only

        return clean * n + sum((sympy.Max(0, n - _cropped(t, k, s, d, p, op)) for t in cropped),
                               start=0)
    total = clean * n
    # start only: n − ⌈(p − t·d)/s⌉ = n + ⌊(t·d − p)/s⌋, increasing in t, positive for
    # t·d ≥ p − (n − 1)·s
    lo, hi = start_only
    lo = max(lo, ceildiv(p - (n - 1) * s, d))
    if hi > lo:
        total += (hi - lo) * n + floor_sum(hi - lo, s, d, d * lo - p)
    # end only: n + ⌊(D − t·d)/s⌋, decreasing in t, positive for t·d ≤ D + (n − 1)·s
    lo, hi = end_only
    hi = min(hi, (end + (n - 1) * s) // d + 1)
    if hi > lo:
        total += (hi - lo) * n + floor_sum(hi - lo, s, -d, end - d * lo)
    # both borders: c_t = ⌈(p − t·d)/s⌉ + ⌈(t·d − D)/s⌉ is ⌈(p − D)/s⌉ or one more, so
    # either every term is n − c_t ≥ 0 or every one is clipped to 0
    lo, hi = both
    if hi > lo and n >= ceildiv(p - end, s) + 1:
        total += ((hi - lo) * n + floor_sum(hi - lo, s, d, d * lo - p)
                  + floor_sum(hi - lo, s, -d, end - d * lo))
    return total


__all__ = ["ConvTranspose", "MAX_SYMBOLIC_TAPS", "floor_sum", "landing_pairs"]
