"""Convolution over 1, 2 or 3 spatial axes: stride, padding (incl. TensorFlow 'same'),
dilation, groups, connection tables (LeNet-5's C3) and an optional activation folded
into the row."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ShapeError, SpecError
from ..spec.fields import attr, axes, boolean, connection_table, optional, padding, positive_int
from ..core.shapes import Shape, product
from ..core.windows import Geometry, window_geometry
from ..core.work import Work
from ..core.backward import Backward, Needs, Saved
from .activation import activation_work
from .base import Layer, register, require_map
from .folded import activation_attr, linear_backward, linear_saved


@register
@dataclass(frozen=True)
class Conv(Layer):
    """y[o] = b[o] + Σ_{i ∈ in(o)} Σ_{kh,kw} w[o,i,kh,kw] · x[i, s·h + d·kh - p, s·w + d·kw - p]
    (2-D; the same sum over one tap index per spatial axis in 1-D and 3-D).

    out = (in + pad_before + pad_after - d·(k-1) - 1) // s + 1 per axis.
    Fan-in per output map: (C_in / groups)·Πk, or |table[o]|·Πk with a connection table
    (Πk: the kernel's taps, kh·kw in 2-D).  params = Σ_o fan_in(o) + filters·bias;
    MACs = Σ_o fan_in(o) · output positions; connections = (Σ_o fan_in(o) +
    filters·bias) · output positions (LeNet-5's count).
    """
    type_name = "conv"
    ceil_mode = False  # convolutions always round down
    filters: int = attr(positive_int, doc="number of output maps")
    kernel: object = attr(axes, doc="kernel size: n, or one per spatial axis ([k], [kh, kw], [kd, kh, kw])")
    stride: object = attr(axes, 1, "stride: n, or one per spatial axis")
    padding: object = attr(padding, 0, "p, one per axis, [[before, after], …], 'valid' or 'same'")
    dilation: object = attr(axes, 1, "dilation: n, or one per spatial axis")
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

    def kernel_taps(self, x: Shape) -> int:
        """Taps of one kernel on input ``x``: kh·kw in 2-D (k in 1-D, kd·kh·kw in 3-D)."""
        return product(self.geometry(x).kernel)

    def weight_taps(self, x: Shape) -> int:
        """Σ over output maps of the weights each one applies (without bias)."""
        taps = self.kernel_taps(x)
        if self.connection_table is not None:
            return sum(len(row) for row in self.connection_table) * taps
        return self.filters * (x.channels // self.groups) * taps

    def geometry(self, x: Shape) -> Geometry:
        return window_geometry(x.spatial, self.kernel, self.stride, self.padding, self.dilation)

    def out_shape(self, x: Shape) -> Shape:
        require_map(self, x)
        self._check_channels(x)
        return Shape.of(self.filters, *self.geometry(x).out_size)

    def params(self, x: Shape):
        return self.weight_taps(x) + (self.filters if self.bias else 0)

    def macs(self, x: Shape, y: Shape):
        return self.weight_taps(x) * product(y.spatial)

    def connections(self, x: Shape, y: Shape):
        return self.params(x) * product(y.spatial)

    def work(self, x: Shape, y: Shape) -> Work:
        """A bias add per output, then the folded activation."""
        return Work(additions=y.numel if self.bias else 0) + activation_work(self.activation, y.numel)

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        """convolution_backward: the input's gradient is the transposed convolution of the
        output's, the weights' the correlation of the input with it (as many MACs as the
        forward each), a bias add per output (:func:`folded.linear_backward`)."""
        return linear_backward(self.macs(x, y), y.numel if self.bias else 0, self.activation,
                               y.numel, needs)

    def saved(self, x: Shape, y: Shape, needs: Needs) -> Saved:
        return linear_saved(self.activation, y.numel, needs)

    # --- numeric core -------------------------------------------------------------------

    def init_weights(self, x: Shape, rng, dtype) -> dict:
        """weight (out, in/groups, *kernel) as in PyTorch and ONNX, bias (out,).  A
        connection table keeps a dense (out, in, *kernel) kernel, zero outside its
        (out, in) boolean ``mask``."""
        import numpy as np

        from .npkit import normal

        kernel, taps = self.geometry(x).kernel, self.kernel_taps(x)
        if self.connection_table is not None:
            mask = np.zeros((self.filters, x.channels), dtype=bool)
            for o, row in enumerate(self.connection_table):
                mask[o, list(row)] = True
            fan_in = max(len(row) for row in self.connection_table) * taps
            weight = normal(rng, (self.filters, x.channels) + kernel, dtype, fan_in ** -0.5)
            weight *= mask.reshape(mask.shape + (1,) * len(kernel))
            weights = {"weight": weight, "mask": mask}
        else:
            cg = x.channels // self.groups
            weights = {"weight": normal(rng, (self.filters, cg) + kernel, dtype, (cg * taps) ** -0.5)}
        if self.bias:
            weights["bias"] = normal(rng, (self.filters,), dtype, 0.1)
        return weights

    @staticmethod
    def _is_pointwise(g: Geometry) -> bool:
        return all(k == 1 for k in g.kernel) and all(s == 1 for s in g.stride) and \
            all(p == (0, 0) for p in g.padding)

    def kernel_path(self, x: Shape) -> str:
        """Which forward runs on input ``x``: 'table' (connection table), 'pointwise' (an
        unpadded 1×1 stride-1 conv: one GEMM on a view of the input) or 'direct' (im2col by
        chunks of output rows).  A function of the layer and the input shape only, so
        :meth:`workspace` predicts the path's allocations."""
        if self.connection_table is not None:
            return "table"
        if self._is_pointwise(self.geometry(x)):
            return "pointwise"
        return "direct"

    def workspace(self, x: Shape, batch: int = 1) -> int:
        """Elements a forward on a batch of ``x`` holds besides its input and output.

        pointwise: 0 (the GEMM reads a view of the input and writes the output).
        direct: one chunk of im2col columns (:func:`npkit.direct_workspace`), reused by
        every chunk and sample; padding is written into it, never copied.
        table: the batch's full im2col columns (none for 1×1 stride 1) and, one fan-in class
        at a time, that class's gathered columns and products.
        A folded softmax adds its maximum and sum over the maps: one value per position
        of what it normalises at once (the whole output, or one chunk of rows).
        """
        from . import npkit

        path, g = self.kernel_path(x), self.geometry(x)
        positions = product(g.out_size)
        softmax = self.activation == "softmax"
        if path == "pointwise":
            return batch * positions if softmax else 0
        if path == "direct":
            chunk = npkit.direct_chunk(x.channels, g.kernel, g.out_size)
            return npkit.direct_workspace(x.channels, g.kernel, g.out_size) + (chunk if softmax else 0)
        return max(self._table_workspace(x, batch, g), batch * positions if softmax else 0)

    def _table_workspace(self, x: Shape, batch: int, g: Geometry) -> int:
        taps, positions = product(g.kernel), product(g.out_size)
        cols = 0 if self._is_pointwise(g) else x.channels * taps * positions
        sizes = [len(row) for row in self.connection_table]
        # per class of n maps reading k inputs: gathered taps n·k·taps·positions and
        # products n·positions per sample, with the gathered kernel n·k·taps
        widest = max(sizes.count(s) * (batch * (s * taps * positions + positions) + s * taps)
                     for s in set(sizes))
        return batch * cols + widest

    def forward(self, x, weights, ops):
        """The path :meth:`kernel_path` names (docs/conventions.md, "Fast paths"); every
        product with the weights goes through ``ops``."""
        from . import npkit

        n = x.shape[0]
        shape = Shape.of(*x.shape[1:])
        g = self.geometry(shape)
        path = self.kernel_path(shape)
        bias = weights.get("bias")
        if path == "direct":
            return npkit.conv_direct(x, weights["weight"], ops, g, bias, self.activation)
        c, positions = shape.channels, product(g.out_size)
        if path == "pointwise":
            groups = self.groups
            kernel = weights["weight"].reshape(groups, self.filters // groups, -1)
            y = ops.matmul(kernel, x.reshape(n, groups, c // groups, positions))
        else:
            cols = self._table_columns(x, g)
            y = self._table_forward(cols, weights, ops, n, positions)
            del cols  # before the activation, which may hold temporaries (softmax)
        return npkit.finish(y.reshape((n, self.filters) + g.out_size), bias, self.activation)

    def _table_columns(self, x, g: Geometry):
        """(N, C, taps·positions) columns of a connection-table conv: a view of the input
        for 1×1 stride 1, else every sample's taps (padding written as zeros, as in the
        direct path)."""
        import numpy as np

        from .npkit import im2col

        n, c = x.shape[:2]
        if self._is_pointwise(g):
            return x.reshape(n, c, product(g.out_size))
        cols = np.empty((n, c) + g.kernel + g.out_size, dtype=x.dtype)
        for i in range(n):
            im2col(x[i], cols[i], g)
        return cols.reshape(n, c, -1)

    def _table_forward(self, cols, weights, ops, n, positions):
        """Output maps that read k inputs share one matmul over their gathered columns, so
        the products performed are exactly Σ_o |table[o]|·taps per position."""
        import numpy as np

        mask, weight = weights["mask"], weights["weight"]
        taps = weight[0, 0].size
        cols = cols.reshape(n, mask.shape[1], taps, positions)
        y = np.empty((n, self.filters, positions), dtype=weight.dtype)
        fan_in = mask.sum(axis=1)
        for k in np.unique(fan_in):  # a handful of classes (LeNet-5 C3: 3, 4 and 6 inputs)
            outs = np.flatnonzero(fan_in == k)
            ins = np.nonzero(mask[outs])[1].reshape(len(outs), k)
            gathered = np.take(cols, ins, axis=1).reshape(n, len(outs), k * taps, positions)
            kernel = weight[outs[:, None], ins].reshape(len(outs), 1, k * taps)
            y[:, outs] = ops.matmul(kernel, gathered)[:, :, 0]
            del gathered  # before the next class's gather, so only one is held at a time
        return y

    # --- numeric training step ----------------------------------------------------------

    def train_forward(self, x, weights, ops):
        """The forward, keeping a folded activation's argument when autograd keeps it."""
        from .npgrad import folded_forward

        return folded_forward(self, x, weights, ops)

    def train_workspace(self, x, batch, itemsize) -> int:
        from .npgrad import folded_train_workspace

        return folded_train_workspace(self, x, batch, itemsize)

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """convolution_backward on the path the forward took (:meth:`kernel_path`), after
        the folded activation's derivative: the input's gradient is the transposed
        convolution of the output's (Wᵀ·G, then col2im), the weights' the correlation of
        the saved input with it (G·colsᵀ), the bias's Σ G — each the forward's products."""
        from . import npgrad

        g = npgrad.folded_grad(self, tape, grad)
        shape, dims = tape.in_shape, tape.dims()
        geo = self.geometry(shape)
        path = self.kernel_path(shape)
        if path == "direct":
            dx, dw = npgrad.conv_direct_backward(tape.x, g, weights["weight"], ops, geo, dims,
                                                 needs.input, needs.weights)
        elif path == "pointwise":
            dx, dw = self._pointwise_backward(tape.x, g, weights["weight"], ops, dims, needs)
        else:
            dx, dw = self._table_backward(tape.x, g, weights, ops, geo, dims, needs)
        grads = {}
        if needs.weights:
            grads["weight"] = dw
            if self.bias:
                grads["bias"] = npgrad.channel_sum(g)
        return dx, grads

    def _pointwise_backward(self, x, g, weight, ops, dims, needs):
        """One GEMM per group for the input (Wᵀ·G), one per sample and group for the
        weights (G·Xᵀ, added up)."""
        import numpy as np

        n, c = dims[:2]
        groups, k = self.groups, self.filters
        positions = product(dims[2:])
        gg = np.ascontiguousarray(g).reshape(n, groups, k // groups, positions)
        kernel = weight.reshape(groups, k // groups, c // groups)
        dx = dw = None
        if needs.input:
            dx = ops.input.matmul(kernel.transpose(0, 2, 1), gg).reshape(dims)
        if needs.weights:
            xg = x.reshape(n, groups, c // groups, positions)
            dw, part = np.zeros_like(kernel), np.empty_like(kernel)
            for i in range(n):
                ops.weights.matmul(gg[i], xg[i].transpose(0, 2, 1), out=part)
                dw += part
            dw = dw.reshape(weight.shape)
        return dx, dw

    def _table_backward(self, x, g, weights, ops, geo: Geometry, dims, needs):
        """Per fan-in class, as the forward: the gradient of its gathered columns
        (kernelᵀ·G) scattered back to the maps they came from, then col2im; its kernel's
        gradient G·gatheredᵀ summed over the batch, written into the unmasked entries."""
        import numpy as np

        from .npgrad import col2im

        n, c = dims[:2]
        mask, weight = weights["mask"], weights["weight"]
        kernel = weight.shape[2:]
        taps, positions = product(kernel), product(geo.out_size)
        every = np.ascontiguousarray(g).reshape(n, self.filters, 1, positions)
        fan_in = mask.sum(axis=1)
        cols = self._table_columns(x, geo).reshape(n, c, taps, positions) if needs.weights else None
        dcols = np.zeros((n, c, taps, positions), dtype=g.dtype) if needs.input else None
        dw = np.zeros_like(weight) if needs.weights else None
        for k in np.unique(fan_in):
            outs = np.flatnonzero(fan_in == k)
            ins = np.nonzero(mask[outs])[1].reshape(len(outs), k)
            go = every[:, outs]
            if needs.weights:
                gathered = np.take(cols, ins, axis=1).reshape(n, len(outs), k * taps, positions)
                part = ops.weights.matmul(go, gathered.transpose(0, 1, 3, 2))
                del gathered
                dw[outs[:, None], ins] = part.sum(axis=0).reshape((len(outs), k) + kernel)
            if needs.input:
                kernel_t = weight[outs[:, None], ins].reshape(len(outs), k * taps, 1)
                part = ops.input.matmul(kernel_t, go)
                for o, maps in enumerate(ins):  # distinct maps per output: += is exact
                    dcols[:, maps] += part[:, o].reshape(n, k, taps, positions)
            del part
        if not needs.input:
            return None, dw
        if self._is_pointwise(geo):
            return dcols.reshape(dims), dw
        dx = np.zeros(dims, dtype=g.dtype)
        for i in range(n):
            col2im(dcols[i].reshape((c,) + kernel + tuple(geo.out_size)), dx[i], geo)
        return dx, dw

    def backward_workspace(self, x, y, needs, batch, itemsize) -> int:
        """The folded activation's gradient (an output-sized array), and per path:
        direct, the one chunk of columns (as the forward) and a weight-sized product;
        pointwise, that product; table, the batch's columns (for the weights) and their
        gradient (for the input), with one fan-in class's gathered columns or products."""
        from . import npgrad

        geo, path = self.geometry(x), self.kernel_path(x)
        act = npgrad.folded_workspace(self, y, batch, itemsize)
        if path == "direct":
            return act + npgrad.conv_direct_workspace(geo, x.channels, self.weight_taps(x),
                                                      needs.input, needs.weights, itemsize)
        if path == "pointwise":
            return act + (self.weight_taps(x) * itemsize if needs.weights else 0)
        taps, positions = product(geo.kernel), product(geo.out_size)
        full = batch * x.channels * taps * positions
        pointwise = self._is_pointwise(geo)
        cols = full if needs.weights and not pointwise else 0
        dcols = full if needs.input and not pointwise else 0
        sizes = [len(row) for row in self.connection_table]
        widest = max(sizes.count(s) * s for s in set(sizes))
        gather = batch * max(sizes) * taps * positions if needs.input else 0  # one map's, gathered
        return act + itemsize * (cols + dcols + batch * widest * taps * positions + gather)


__all__ = ["Conv"]
