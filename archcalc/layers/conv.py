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

    def kernel_path(self, x: Shape) -> str:
        """Which forward runs on input ``x``: 'table' (connection table), 'pointwise' (an
        unpadded 1×1 stride-1 conv: one GEMM on a view of the input) or 'direct' (im2col by
        chunks of output rows).  A function of the layer and the input shape only, so
        :meth:`workspace` predicts the path's allocations."""
        if self.connection_table is not None:
            return "table"
        if self._is_pointwise(self.geometry(x).padding):
            return "pointwise"
        return "direct"

    def workspace(self, x: Shape, batch: int = 1) -> int:
        """Elements a forward on a batch of ``x`` holds besides its input and output.

        pointwise: 0 (the GEMM reads a view of the input and writes the output).
        direct: one chunk of im2col columns (:func:`npkit.direct_workspace`), reused by
        every chunk and sample; padding is written into it, never copied.
        table: the batch's full im2col columns (none for 1×1 stride 1) and, one fan-in class
        at a time, that class's gathered columns and products.
        A folded softmax adds its maximum and sum over the maps: one value per pixel of
        what it normalises at once (the whole output, or one chunk of rows).
        """
        from . import npkit

        path = self.kernel_path(x)
        (ho, wo) = out_hw = self.geometry(x).out_size
        softmax = self.activation == "softmax"
        if path == "pointwise":
            return batch * ho * wo if softmax else 0
        if path == "direct":
            rows = npkit.chunk_rows(ho, wo, x.channels * self.kernel[0] * self.kernel[1])
            return npkit.direct_workspace(x.channels, self.kernel, out_hw) + (rows * wo if softmax else 0)
        return max(self._table_workspace(x, batch, out_hw), batch * ho * wo if softmax else 0)

    def _table_workspace(self, x: Shape, batch: int, out_hw) -> int:
        (kh, kw), (ho, wo) = self.kernel, out_hw
        pixels = ho * wo
        cols = 0 if self._is_pointwise(self.geometry(x).padding) else x.channels * kh * kw * pixels
        sizes = [len(row) for row in self.connection_table]
        # per class of n maps reading k inputs: gathered taps n·k·kh·kw·pixels and products
        # n·pixels per sample, with the gathered kernel n·k·kh·kw
        widest = max(sizes.count(s) * (batch * (s * kh * kw * pixels + pixels) + s * kh * kw)
                     for s in set(sizes))
        return batch * cols + widest

    def forward(self, x, weights, ops):
        """The path :meth:`kernel_path` names (docs/conventions.md, "Fast paths"); every
        product with the weights goes through ``ops``."""
        from . import npkit

        n = x.shape[0]
        shape = Shape.of(*x.shape[1:])
        pads = self.geometry(shape).padding
        out_hw = self.geometry(shape).out_size
        path = self.kernel_path(shape)
        bias = weights.get("bias")
        if path == "direct":
            return npkit.conv_direct(x, weights["weight"], ops, self, pads, out_hw, bias)
        (kh, kw), c, (ho, wo) = self.kernel, shape.channels, out_hw
        if path == "pointwise":
            g = self.groups
            kernel = weights["weight"].reshape(g, self.filters // g, -1)
            y = ops.matmul(kernel, x.reshape(n, g, c // g, ho * wo))
        else:
            cols = self._table_columns(x, pads, out_hw)
            y = self._table_forward(cols, weights, ops, n, ho * wo)
            del cols  # before the activation, which may hold temporaries (softmax)
        return npkit.finish(y.reshape(n, self.filters, ho, wo), bias, self.activation)

    def _table_columns(self, x, pads, out_hw):
        """(N, C, kh·kw·pixels) columns of a connection-table conv: a view of the input for
        1×1 stride 1, else every sample's taps (padding written as zeros, as in the direct
        path)."""
        import numpy as np

        from .npkit import im2col_rows

        n, c = x.shape[:2]
        kk = self.kernel[0] * self.kernel[1]
        if self._is_pointwise(pads):
            return x.reshape(n, c, kk * out_hw[0] * out_hw[1])
        cols = np.empty((n, c) + self.kernel + tuple(out_hw), dtype=x.dtype)
        for i in range(n):
            im2col_rows(x[i], cols[i], self.kernel, self.stride, self.dilation, pads, 0)
        return cols.reshape(n, c, -1)

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


__all__ = ["Conv"]
