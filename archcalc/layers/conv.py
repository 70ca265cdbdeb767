"""2-D convolution: stride, padding (incl. TensorFlow 'same'), dilation, groups,
connection tables (LeNet-5's C3) and an optional activation folded into the row."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ShapeError, SpecError
from ..spec.fields import attr, boolean, connection_table, optional, pair, padding, positive_int
from ..core.shapes import Shape
from ..core.windows import Geometry, window_geometry
from ..core.work import Work
from .activation import activation_work
from .base import Layer, register, require_map
from .folded import activation_attr


def resolve_padding(layer, x: Shape) -> tuple[tuple, tuple]:
    """Explicit ((top, bottom), (left, right)) padding of a windowed layer for input ``x``."""
    return layer.geometry(x).padding


def window_shape(layer, x: Shape, ceil_mode: bool = False) -> tuple:
    """Output (H, W) of a windowed layer (its own ceil mode; the argument is ignored)."""
    return layer.geometry(x).out_size


@register
@dataclass(frozen=True)
class Conv(Layer):
    """y[o] = b[o] + Σ_{i ∈ in(o)} Σ_{kh,kw} w[o,i,kh,kw] · x[i, s·h + d·kh - p, s·w + d·kw - p]

    out = (in + pad_before + pad_after - d·(k-1) - 1) // s + 1 per axis.
    Fan-in per output map: (C_in / groups)·kh·kw, or |table[o]|·kh·kw with a connection table.
    params = Σ_o fan_in(o) + filters·bias;  MACs = Σ_o fan_in(o) · H_out·W_out;
    connections = (Σ_o fan_in(o) + filters·bias) · H_out·W_out (LeNet-5's count).
    """
    type_name = "conv"
    ceil_mode = False  # convolutions always round down
    filters: int = attr(positive_int, doc="number of output maps")
    kernel: tuple = attr(pair, doc="kernel size, n or [kh, kw]")
    stride: tuple = attr(pair, (1, 1), "stride, n or [sh, sw]")
    padding: object = attr(padding, ((0, 0), (0, 0)), "p, [ph, pw], [[t, b], [l, r]], 'valid' or 'same'")
    dilation: tuple = attr(pair, (1, 1), "dilation, n or [dh, dw]")
    groups: int = attr(positive_int, 1, "channel groups (AlexNet's two towers: 2; depthwise: C_in)")
    bias: bool = attr(boolean, True, "whether each output map has a trainable bias")
    connection_table: tuple = attr(optional(connection_table), None,
                                   "for each output map, the input maps it reads (LeNet-5 C3)")
    activation: object = activation_attr()

    def __post_init__(self):
        if self.connection_table is not None:
            if self.groups != 1:
                raise SpecError("a connection table replaces groups; remove 'groups'", key="groups")
            if len(self.connection_table) != self.filters:
                raise SpecError(f"connection table has {len(self.connection_table)} entries "
                                f"for {self.filters} filters", key="connection_table")
        elif self.filters % self.groups:
            raise SpecError(f"filters {self.filters} are not divisible by groups {self.groups}",
                            key="groups")

    def _check_channels(self, x: Shape) -> None:
        c = x.channels
        if self.connection_table is not None:
            worst = max(max(row) for row in self.connection_table)
            if worst >= c:
                raise ShapeError(f"connection table names input map {worst}, "
                                 f"but the input has only {c} maps (0..{c - 1})")
        elif c % self.groups:
            raise ShapeError(f"input channels {c} are not divisible by groups {self.groups}")

    def weight_taps(self, x: Shape) -> int:
        """Σ over output maps of the weights each one applies (without bias)."""
        kh, kw = self.kernel
        if self.connection_table is not None:
            return sum(len(row) for row in self.connection_table) * kh * kw
        return self.filters * (x.channels // self.groups) * kh * kw

    def geometry(self, x: Shape) -> Geometry:
        return window_geometry(x.spatial, self.kernel, self.stride, self.padding, self.dilation)

    def out_shape(self, x: Shape) -> Shape:
        require_map(self, x)
        self._check_channels(x)
        return Shape.of(self.filters, *self.geometry(x).out_size)

    def params(self, x: Shape):
        return self.weight_taps(x) + (self.filters if self.bias else 0)

    def macs(self, x: Shape, y: Shape):
        return self.weight_taps(x) * y.spatial[0] * y.spatial[1]

    def connections(self, x: Shape, y: Shape):
        return self.params(x) * y.spatial[0] * y.spatial[1]

    def work(self, x: Shape, y: Shape) -> Work:
        """A bias add per output, then the folded activation."""
        return Work(additions=y.numel if self.bias else 0) + activation_work(self.activation, y.numel)

    # --- numeric core -------------------------------------------------------------------

    def init_weights(self, x: Shape, rng, dtype) -> dict:
        """weight (out, in/groups, kh, kw) as in PyTorch and ONNX, bias (out,).  A
        connection table keeps a dense (out, in, kh, kw) kernel, zero outside its
        (out, in) boolean ``mask``."""
        import numpy as np

        from .npkit import normal

        kh, kw = self.kernel
        if self.connection_table is not None:
            mask = np.zeros((self.filters, x.channels), dtype=bool)
            for o, row in enumerate(self.connection_table):
                mask[o, list(row)] = True
            fan_in = max(len(row) for row in self.connection_table) * kh * kw
            weight = normal(rng, (self.filters, x.channels, kh, kw), dtype, fan_in ** -0.5)
            weight *= mask[:, :, None, None]
            weights = {"weight": weight, "mask": mask}
        else:
            cg = x.channels // self.groups
            weights = {"weight": normal(rng, (self.filters, cg, kh, kw), dtype, (cg * kh * kw) ** -0.5)}
        if self.bias:
            weights["bias"] = normal(rng, (self.filters,), dtype, 0.1)
        return weights

    def _is_pointwise(self, pads) -> bool:
        return self.kernel == (1, 1) and self.stride == (1, 1) and pads == ((0, 0), (0, 0))

    def workspace(self, x: Shape) -> int:
        """Elements per sample a forward holds besides its output: the padded input (when
        padded) and the im2col buffer (C·kh·kw)·(Ho·Wo); none for an unpadded 1×1 stride-1
        conv, whose im2col matrix is a view of the input.  A connection table also gathers
        the columns of its widest fan-in class."""
        pads = resolve_padding(self, x)
        if self._is_pointwise(pads):
            return 0
        (ho, wo), (kh, kw) = window_shape(self, x), self.kernel
        c, h, w = x.dims
        pad = 0 if pads == ((0, 0), (0, 0)) else c * (h + sum(pads[0])) * (w + sum(pads[1]))
        cols = c * kh * kw * ho * wo
        if self.connection_table is not None:
            sizes = [len(row) for row in self.connection_table]
            cols += max(s * sizes.count(s) for s in set(sizes)) * kh * kw * ho * wo
        return pad + cols

    def forward(self, x, weights, ops):
        """im2col through a strided window view, then one batched ``matmul`` over the
        groups (BLAS); a connection table runs one matmul per distinct fan-in."""
        from .npkit import activate, padded_windows

        n = x.shape[0]
        shape = Shape.of(*x.shape[1:])
        pads = resolve_padding(self, shape)
        ho, wo = window_shape(self, shape)
        (kh, kw), c = self.kernel, shape.channels
        if self.connection_table is not None:
            win = padded_windows(x, self, pads, (ho, wo))
            cols = win.transpose(0, 1, 4, 5, 2, 3).reshape(n, c, kh * kw * ho * wo)
            y = self._table_forward(cols, weights, ops, n, ho * wo)
        else:
            g = self.groups
            if self._is_pointwise(pads):
                cols = x.reshape(n, g, c // g, ho * wo)
            else:
                win = padded_windows(x, self, pads, (ho, wo))
                cols = win.transpose(0, 1, 4, 5, 2, 3).reshape(n, g, (c // g) * kh * kw, ho * wo)
            kernel = weights["weight"].reshape(g, self.filters // g, -1)
            y = ops.matmul(kernel, cols)
        y = y.reshape(n, self.filters, ho, wo)
        if self.bias:
            y += weights["bias"][:, None, None]
        return activate(self.activation, y)

    def _table_forward(self, cols, weights, ops, n, pixels):
        """Output maps that read k inputs share one matmul over their gathered columns, so
        the products performed are exactly Σ_o |table[o]|·kh·kw per pixel."""
        import numpy as np

        mask, weight = weights["mask"], weights["weight"]
        kk = weight.shape[2] * weight.shape[3]
        cols = cols.reshape(n, mask.shape[1], kk, pixels)
        y = np.empty((n, self.filters, pixels), dtype=weight.dtype)
        fan_in = mask.sum(axis=1)
        for k in np.unique(fan_in):  # a handful of classes (LeNet-5 C3: 3, 4 and 6 inputs)
            outs = np.flatnonzero(fan_in == k)
            ins = np.nonzero(mask[outs])[1].reshape(len(outs), k)
            taps = np.take(cols, ins, axis=1).reshape(n, len(outs), k * kk, pixels)
            kernel = weight[outs[:, None], ins].reshape(len(outs), 1, k * kk)
            y[:, outs] = ops.matmul(kernel, taps)[:, :, 0]
            del taps  # before the next class's gather, so only one is held at a time
        return y


__all__ = ["Conv", "resolve_padding", "window_shape"]
