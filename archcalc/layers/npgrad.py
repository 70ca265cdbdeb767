"""NumPy helpers shared by the layer backwards (``Layer.backward_numpy``).

A layer's training forward (``Layer.train_forward``) returns its output and a cache of the
extras its :meth:`~archcalc.layers.base.Layer.saved` names, each under its ``Extra.what``
(max pooling's ``indices``, dropout's ``mask``, a folded activation's ``pre-activation``,
a normalisation's ``mean and 1/std``).  The runner
(:mod:`archcalc.numeric.backward`) keeps, per node, a :class:`Tape` of exactly what
``saved()`` says autograd keeps — the inputs and output it names, and that cache — so a
backward that reads anything else fails: the NumPy backward proves the saved rules
sufficient as well as the gradient formulas right.

Products of a gradient with weights (the input's gradient) go through ``ops.input``, with
the saved input (the weights' gradient) through ``ops.weights``
(:class:`archcalc.numeric.tally.GradOps`), so ``verify --train`` tallies each side's
MACs from the real calls.  Everything else (activation derivatives, routing, sums) goes
straight to NumPy.  A gradient handed to a backward is never written to (several tensors
may share one: an add gives its output's gradient to every input).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .npkit import _lifted_geometry, chunk_rows, im2col_slab, lifted, tap_range, window_pads
from .npact import BLOCK, normal_cdf


@dataclass(frozen=True)
class Tape:
    """What one node's forward left for its backward, as ``Layer.saved`` names it."""

    #: the input array, or for a merge the tuple of them; None where not kept
    x: object
    #: the output array, or None where not kept
    y: object
    #: the extras (indices, mask, noise, statistics, pre-activation) by name
    cache: dict
    #: per-sample Shape of the input (the tuple of them for a merge): sizes are always known
    in_shape: object
    batch: int
    #: for a merge, whether each input's gradient is wanted (autograd's needs_input_grad);
    #: None: every one
    wants: tuple | None = None

    def wanted(self, j: int) -> bool:
        return self.wants is None or self.wants[j]

    def dims(self, j: int | None = None) -> tuple:
        """The input's array shape, batch first (input ``j`` of a merge)."""
        shape = self.in_shape if j is None else self.in_shape[j]
        return (self.batch,) + tuple(shape.dims)


def make_tape(layer, in_shape, needs, arrays: tuple, y, cache: dict, batch: int,
              wants: tuple | None = None) -> Tape:
    """The :class:`Tape` of what ``layer.saved(in_shape, …, needs)`` says autograd keeps of
    one forward: the inputs (``arrays``, one per input) and output it names, and the cache
    entries named by its extras' ``what`` — nothing else, so a backward that needs more
    fails (KeyError, or None for an input or output)."""
    saved = layer.saved(in_shape, layer.out_shape(in_shape), needs)
    kept = tuple(a if j in saved.inputs else None for j, a in enumerate(arrays))
    named = {e.what for e in saved.extras}
    return Tape(layer.take(kept), y if saved.output else None,
                {k: v for k, v in cache.items() if k in named}, in_shape, batch, wants)


# --- activation derivatives, block by block -------------------------------------------------

_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_TWO_OVER_PI = math.sqrt(2 / math.pi)


def _sigmoid(a):
    s = np.negative(a)
    np.exp(s, out=s)
    s += 1
    np.reciprocal(s, out=s)
    return s


def _relu(v, g, out):              # v: the output; threshold_backward(g, y, 0)
    np.multiply(g, v > 0, out=out)


def _relu6(v, g, out):             # v: the input; hardtanh_backward(g, x, 0, 6)
    np.multiply(g, (v > 0) & (v < 6), out=out)


def _tanh(v, g, out):              # v: the output; g·(1 − y²)
    np.multiply(v, v, out=out)
    np.subtract(1, out, out=out)
    out *= g


def _sigmoid_grad(v, g, out):      # v: the output; g·y·(1 − y)
    np.subtract(1, v, out=out)
    out *= v
    out *= g


def _silu(v, g, out):              # g·σ(x)·(1 + x·(1 − σ(x)))
    s = _sigmoid(v)
    np.subtract(1, s, out=out)
    out *= v
    out += 1
    out *= s
    out *= g


def _hardsigmoid(v, g, out):       # −3 < x < 3 ? g/6 : 0
    np.multiply(g, (v > -3) & (v < 3), out=out)
    out /= 6


def _hardswish(v, g, out):         # x < −3 ? 0 : x ≤ 3 ? g·(x/3 + ½) : g
    np.divide(v, 3, out=out)
    out += 0.5
    out[v < -3] = 0
    out[v > 3] = 1
    out *= g


def _gelu(v, g, out, approximate="none"):
    if approximate == "tanh":      # ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²)
        x2 = np.multiply(v, v)
        t = np.multiply(x2, 0.044715)
        t += 1
        t *= v
        t *= _SQRT_TWO_OVER_PI
        np.tanh(t, out=t)
        np.multiply(t, t, out=out)
        np.subtract(1, out, out=out)           # 1 − t²
        x2 *= 3 * 0.044715
        x2 += 1
        x2 *= _SQRT_TWO_OVER_PI
        out *= x2
        out *= v
        out += t
        out += 1
        out *= 0.5
    else:                          # Φ(x) + x·φ(x)
        phi = normal_cdf(v)
        np.multiply(v, v, out=out)
        out *= -0.5
        np.exp(out, out=out)
        out *= _INV_SQRT_2PI                   # φ(x)
        out *= v
        out += phi
    out *= g


def _leaky_relu(v, g, out, slope=0.01):   # x > 0 ? g : slope·g
    np.multiply(g, np.where(v > 0, 1.0, slope).astype(out.dtype, copy=False), out=out)


def _elu(v, g, out, alpha=1.0):           # x > 0 ? g : g·α·eˣ
    np.minimum(v, 0, out=out)
    np.exp(out, out=out)
    out *= alpha
    out[v > 0] = 1
    out *= g


def _mish(v, g, out):                     # tanh(sp) + x·σ(x)·(1 − tanh²(sp))
    t = np.logaddexp(v, 0)
    np.tanh(t, out=t)
    s = _sigmoid(v)
    np.multiply(t, t, out=out)
    np.subtract(1, out, out=out)
    out *= s
    out *= v
    out += t
    out *= g


#: the derivative of each activation, written ``f(value, g, out, **attrs)`` for one block;
#: ``value`` is what autograd keeps for it (activation.GRADIENTS: its result or argument)
DERIVATIVES = {"relu": _relu, "relu6": _relu6, "tanh": _tanh, "sigmoid": _sigmoid_grad,
               "silu": _silu, "hardsigmoid": _hardsigmoid, "hardswish": _hardswish,
               "gelu": _gelu, "leaky_relu": _leaky_relu, "elu": _elu, "mish": _mish}


#: block-sized temporaries each derivative holds at its peak (in the gradient's dtype;
#: the byte masks of relu, relu6, hardsigmoid, hardswish and elu round up to one)
GRAD_SCRATCH = {"relu": 1, "relu6": 1, "tanh": 0, "sigmoid": 0, "silu": 1, "hardsigmoid": 1,
                "hardswish": 1, "gelu": 3, "leaky_relu": 2, "elu": 1, "mish": 2}


def grad_scratch(name, elements: int, itemsize: int) -> int:
    """Bytes :func:`activation_grad` holds for ``name`` over ``elements`` (softmax: its
    sum over the channels, one value per cell of the other axes, is the caller's)."""
    return GRAD_SCRATCH.get(name, 0) * min(BLOCK, elements) * itemsize


def activation_grad(name, g, value, **attrs):
    """The gradient of activation ``name``'s argument: a new array, evaluated block by
    block (:data:`npact.BLOCK` elements) so its temporaries never grow with the tensor.
    ``value``: the activation's output or its argument, as autograd keeps it.  Softmax
    normalises over axis 1 and is not elementwise: :func:`softmax_grad`."""
    if name == "softmax":
        return softmax_grad(g, value)
    f = DERIVATIVES[name]
    out = np.empty(np.broadcast_shapes(g.shape, value.shape), dtype=g.dtype)
    with np.nditer([value, g, out], flags=["external_loop", "buffered", "zerosize_ok"],
                   op_flags=[["readonly"], ["readonly"], ["writeonly"]], buffersize=BLOCK,
                   order="K") as it:
        for v, gb, ob in it:
            f(v, gb, ob, **attrs)
    return out


def softmax_grad(g, y):
    """softmax_backward_data: y·(g − Σ_c g·y), the sum over axis 1 (one value per cell of
    the other axes, made without a product temporary)."""
    s = np.einsum("nc...,nc...->n...", g, y)
    dx = g - np.expand_dims(s, 1)
    del s
    dx *= y
    return dx


def activation_value(name, tape: Tape):
    """What a folded activation's derivative reads: the row's output, or the argument its
    training forward kept as ``pre-activation``."""
    from .activation import GRADIENTS

    return tape.y if GRADIENTS[name][1] == "output" else tape.cache["pre-activation"]


def folded_forward(layer, x, weights, ops):
    """(output, cache) of a conv, dense, subsample or add row in training: when autograd
    keeps its folded activation's argument, the forward runs without the activation, keeps
    a copy of the result as ``pre-activation``, then applies the activation in place."""
    from .activation import GRADIENTS
    from .npkit import activate

    name = layer.activation
    if name is None or GRADIENTS[name][1] == "output":
        return layer.forward(x, weights, ops), {}
    y = replace(layer, activation=None).forward(x, weights, ops)
    pre = y.copy()
    return activate(name, y), {"pre-activation": pre}


def folded_train_workspace(layer, x, batch: int, itemsize: int) -> int:
    """Bytes :func:`folded_forward` holds beyond its output and cache: the bare forward's
    workspace, gone before the pre-activation's copy is made (which the timeline counts)."""
    from .activation import GRADIENTS

    name = layer.activation
    if name is None or GRADIENTS[name][1] == "output":
        return itemsize * layer.workspace(x, batch)
    bare = replace(layer, activation=None)
    y = layer.out_shape(x)
    return max(0, itemsize * (bare.workspace(x, batch) - batch * y.numel))


def folded_grad(layer, tape: Tape, g):
    """The gradient of a row's pre-activation: ``g`` itself without a folded activation."""
    if layer.activation is None:
        return g
    return activation_grad(layer.activation, g, activation_value(layer.activation, tape))


def folded_workspace(layer, y, batch: int, itemsize: int) -> int:
    """Bytes of the pre-activation's gradient a folded activation's backward makes (softmax:
    and its per-position sum)."""
    if layer.activation is None:
        return 0
    extra = batch * y.numel // y.channels if layer.activation == "softmax" else 0
    return (batch * y.numel + extra) * itemsize + grad_scratch(layer.activation, batch * y.numel, itemsize)


def product_to(a, b, shape):
    """a·b summed over the axes along which an operand of ``shape`` was broadcast: a new
    array of ``shape``, by one einsum when a sum is needed (no product temporary)."""
    full = np.broadcast_shapes(a.shape, b.shape)
    if tuple(full) == tuple(shape):
        return a * b
    letters = "abcdefghij"[:len(full)]
    kept = "".join(c for c, n, m in zip(letters, shape, full) if n == m)
    return np.einsum(f"{letters},{letters}->{kept}", a, b).reshape(shape)


def channel_dot(a, b):
    """Σ a·b over every axis but 1, per channel (an einsum: no product temporary)."""
    n, c = a.shape[:2]
    return np.einsum("ncp,ncp->c", a.reshape(n, c, -1), b.reshape(n, c, -1))


def channel_sum(g):
    """Σ over every axis but 1 (a bias's or a per-channel factor's gradient)."""
    return g.sum(axis=(0,) + tuple(range(2, g.ndim)))


# --- convolution: the transposed im2col ------------------------------------------------------

def col2im_rows(cols, dx, kernel, stride, dilation, pads, r0):
    """Add the taps ``cols`` (C, kh, kw, rows, Wo) of output rows r0… into ``dx`` (C, H, W):
    the transpose of :func:`npkit.im2col_rows` (taps that read padding are dropped)."""
    (kh, kw), (sh, sw), (dh, dw), ((top, _), (left, _)) = kernel, stride, dilation, pads
    rows, out_w = cols.shape[3:]
    h, w = dx.shape[1:]
    for a in range(kh):
        i0, i1 = tap_range(r0, rows, a * dh - top, sh, h)
        if i1 == i0:
            continue
        for b in range(kw):
            j0, j1 = tap_range(0, out_w, b * dw - left, sw, w)
            if j1 == j0:
                continue
            q = i0 * sh + a * dh - top
            p = j0 * sw + b * dw - left
            dx[:, q:q + (i1 - i0 - 1) * sh + 1:sh, p:p + (j1 - j0 - 1) * sw + 1:sw] += \
                cols[:, a, b, i0 - r0:i1 - r0, j0:j1]


def col2im_slab(cols, dx, kernel, stride, dilation, pads, od, r0):
    """The transpose of :func:`npkit.im2col_slab`: ``cols`` (C, kd, kh, kw, rows, Wo) of
    output depth ``od`` added into the 3-D ``dx`` (C, D, H, W)."""
    (kd, _, _), (sd, _, _), (dd, _, _), (front, _) = kernel, stride, dilation, pads[0]
    depth = dx.shape[1]
    for a in range(kd):
        z = od * sd + a * dd - front
        if 0 <= z < depth:
            col2im_rows(cols[:, a], dx[:, z], kernel[1:], stride[1:], dilation[1:], pads[1:], r0)


def col2im(cols, dx, g):
    """Add ``cols`` (C, *kernel, *out) into the sample ``dx`` (C, *spatial) under geometry
    ``g``: the transpose of :func:`npkit.im2col`."""
    kernel, stride, dilation, pads, out = _lifted_geometry(g)
    c = dx.shape[0]
    dx3 = dx.reshape((c,) + lifted(dx.shape[1:], 1))
    cols3 = cols.reshape((c,) + kernel + out)
    for od in range(out[0]):
        col2im_slab(cols3[..., od, :, :], dx3, kernel, stride, dilation, pads, od, 0)


def conv_direct_backward(x, grad, weight, ops, g, dims, need_input: bool, need_weights: bool):
    """(dx, dweight) of :func:`npkit.conv_direct`, by the same chunks of output rows:

    weights  per chunk the columns of the saved input (im2col, as the forward) and one
             ``ops.weights.matmul`` G·colsᵀ per group, added into dw;
    input    per chunk one ``ops.input.matmul`` Wᵀ·G per group into the column buffer,
             then col2im adds the columns into dx.

    Each performs the forward's products, chunk by chunk.  ``dims``: the input's array
    shape.  Workspace: the one column buffer and a weight-sized product."""
    n, c = dims[:2]
    k, cg = weight.shape[:2]
    kernel, stride, dilation, pads, out = _lifted_geometry(g)
    groups, (do, ho, wo) = c // cg, out
    depth = c * math.prod(kernel)
    spatial3 = lifted(tuple(dims[2:]), 1)
    g3 = np.ascontiguousarray(grad).reshape((n, k) + out)
    kernel_t = weight.reshape(groups, k // groups, depth // groups).transpose(0, 2, 1)
    rows = chunk_rows(ho, wo, depth)
    buffer = np.empty(depth * rows * wo, dtype=grad.dtype)
    dx = np.zeros((n, c) + spatial3, dtype=grad.dtype) if need_input else None
    if need_weights:
        x3 = x.reshape((n, c) + spatial3)
        dw = np.zeros((groups, k // groups, depth // groups), dtype=grad.dtype)
        product = np.empty_like(dw)
    for i in range(n):
        for od in range(do):
            flat = g3[i, :, od].reshape(groups, k // groups, ho * wo)
            for r0 in range(0, ho, rows):
                r1 = min(ho, r0 + rows)
                cols = buffer[:depth * (r1 - r0) * wo].reshape((c,) + kernel + (r1 - r0, wo))
                columns = cols.reshape(groups, depth // groups, -1)
                chunk = flat[:, :, r0 * wo:r1 * wo]
                if need_weights:
                    im2col_slab(x3[i], cols, kernel, stride, dilation, pads, od, r0)
                    ops.weights.matmul(chunk, columns.transpose(0, 2, 1), out=product)
                    dw += product
                if need_input:
                    ops.input.matmul(kernel_t, chunk, out=columns)
                    col2im_slab(cols, dx[i], kernel, stride, dilation, pads, od, r0)
    return (dx.reshape(dims) if need_input else None,
            dw.reshape(weight.shape) if need_weights else None)


def conv_direct_workspace(g, channels: int, weight_elements: int, need_input, need_weights,
                          itemsize: int) -> int:
    """Bytes :func:`conv_direct_backward` holds besides its operands and results."""
    from .npkit import direct_workspace

    cols = direct_workspace(channels, g.kernel, g.out_size) if need_input or need_weights else 0
    return itemsize * (cols + (weight_elements if need_weights else 0))


# --- windows: routing a gradient back to the cells each window read -------------------------

def window_slices(g, offset) -> tuple:
    """Per spatial axis, the padded input's cells that kernel ``offset`` reads across the
    output (a strided slice)."""
    return tuple(slice(k * d, k * d + s * (o - 1) + 1, s)
                 for k, d, s, o in zip(offset, g.dilation, g.stride, g.out_size))


def padded_grad(dims, g, dtype):
    """(zeros of the padded input's shape, the slices that crop it back to the input)."""
    spatial = dims[2:]
    full = window_pads(spatial, g.kernel, g.stride, g.dilation, g.padding, g.out_size)
    shape = tuple(b + n + max(a, 0) for n, (b, a) in zip(spatial, full))
    crop = tuple(slice(b, b + n) for n, (b, _) in zip(spatial, full))
    return np.zeros(tuple(dims[:2]) + shape, dtype=dtype), (slice(None), slice(None)) + crop


def scatter_windows(dims, g, dtype, per_offset):
    """The input's gradient when every window cell at kernel offset ``o`` receives
    ``per_offset(o)`` (an output-shaped array): the sum over offsets, written into a padded
    buffer and cut to the input (a copy when there is padding)."""
    dxp, crop = padded_grad(dims, g, dtype)
    every = (slice(None), slice(None))
    for offset in np.ndindex(*g.kernel):
        dxp[every + window_slices(g, offset)] += per_offset(offset)
    if all(s.start == 0 and s.stop == n for s, n in zip(crop[2:], dxp.shape[2:])):
        return dxp
    return np.ascontiguousarray(dxp[crop])


def padded_bytes(dims_per_sample, g, batch: int, itemsize: int) -> int:
    """Bytes of :func:`padded_grad`'s buffer beyond the input's own size (the buffer is the
    result when nothing is padded)."""
    spatial = dims_per_sample[1:]
    full = window_pads(spatial, g.kernel, g.stride, g.dilation, g.padding, g.out_size)
    padded = math.prod(b + n + max(a, 0) for n, (b, a) in zip(spatial, full))
    if padded == math.prod(spatial):
        return 0
    return batch * dims_per_sample[0] * padded * itemsize


def max_with_indices(x, g):
    """(max over each window, int64 index of the winning cell in its map, flattened over
    the spatial axes: PyTorch's ``max_pool2d_with_indices`` return).  Padding is −∞ and
    the first maximum in the window's row-major order wins, as PyTorch's CPU kernel."""
    from .npkit import padded_windows

    win = padded_windows(x, g, -np.inf)
    offsets = list(np.ndindex(*g.kernel))
    y = win[(Ellipsis,) + offsets[0]].copy()
    arg = np.zeros(y.shape, dtype=np.int64)
    better = np.empty(y.shape, dtype=bool)
    for t, offset in enumerate(offsets[1:], 1):
        v = win[(Ellipsis,) + offset]
        np.greater(v, y, out=better)
        np.copyto(y, v, where=better)
        np.copyto(arg, t, where=better)
        del v  # the last view would keep the padded copy alive
    del better, win
    spatial = x.shape[2:]
    strides = [math.prod(spatial[a + 1:]) for a in range(len(spatial))]
    table = np.array([sum(k * d * m for k, d, m in zip(o, g.dilation, strides)) for o in offsets],
                     dtype=np.int64)
    idx = np.take(table, arg)
    del arg
    for a, (o, s, (before, _), m) in enumerate(zip(g.out_size, g.stride, g.padding, strides)):
        shape = [1] * len(spatial)
        shape[a] = o
        idx += ((np.arange(o, dtype=np.int64) * s - before) * m).reshape(shape)
    return y, idx


def max_unpool(grad, idx, dims):
    """max_pool_with_indices_backward: each output's gradient added to the input cell its
    index names (overlapping windows may name a cell twice)."""
    n, c = dims[:2]
    plane = math.prod(dims[2:])
    flat = idx.reshape(n * c, -1) + (np.arange(n * c, dtype=np.int64) * plane)[:, None]
    dx = np.zeros(n * c * plane, dtype=grad.dtype)
    np.add.at(dx, flat.ravel(), np.ascontiguousarray(grad).ravel())
    return dx.reshape(dims)


# --- normalisation ---------------------------------------------------------------------------

def normalise_backward(x, g, mean, rstd, gamma, view, axes, need_input, need_weights):
    """Backward of y = x̂·γ + β, x̂ = (x − μ)·rstd over sets spanning ``axes`` of the
    ``view`` (the array seen set by set): with h = g·γ,

        dx = rstd · (h − mean(h) − x̂ · mean(h·x̂))     over each set
        dγ = Σ g·x̂,  dβ = Σ g                          per channel (axis 1)

    ``gamma`` None: not affine.  Returns (dx, {"gamma", "beta"}); workspace: x̂."""
    xhat = np.empty(x.shape, dtype=g.dtype)
    xv = view(xhat)
    np.subtract(view(x), mean, out=xv)
    xv *= rstd
    weights = {}
    if gamma is not None and need_weights:
        weights = {"gamma": channel_dot(g, xhat), "beta": channel_sum(g)}
    dx = None
    if need_input:
        h = g * gamma.reshape((1, -1) + (1,) * (g.ndim - 2)) if gamma is not None else g.copy()
        hv = view(h)
        count = math.prod(hv.shape[a] for a in axes)
        m1 = hv.mean(axis=axes, keepdims=True)
        letters = "abcdefghij"[:hv.ndim]
        kept = "".join(c for i, c in enumerate(letters) if i not in axes)
        m2 = np.expand_dims(np.einsum(f"{letters},{letters}->{kept}", hv, xv), axes)
        m2 /= count
        xv *= m2
        del m2
        hv -= m1
        hv -= xv
        hv *= rstd
        dx = h
    return dx, weights


# --- resampling: transposed convolution, padding, upsampling -------------------------------

def _transpose_slices(in_size, out_size, tap, offsets):
    """(source slices of the input, strided destination slices of the output) where kernel
    offset ``tap`` lands inside the output, or None (as npresample.conv_transpose)."""
    from .npresample import scatter_range

    src, dst = [], []
    for axis, t in enumerate(tap):
        offset, s = offsets[axis][t]
        lo, hi = scatter_range(in_size[axis], out_size[axis], offset, s)
        if lo == hi:
            return None
        src.append(slice(lo, hi))
        first = lo * s + offset
        dst.append(slice(first, first + (hi - lo - 1) * s + 1, s))
    return tuple(src), tuple(dst)


def conv_transpose_backward(x, grad, weight, ops, stride, dilation, padding, dims, groups,
                            need_input: bool, need_weights: bool):
    """(dx, dweight) of npresample.conv_transpose.  Per sample, the output's gradient is
    gathered back into the forward's columns (C_out·Πk, Πin) — every product's landing
    cell, zeros for those cropped —, then per group ``ops.input.matmul`` W·cols gives the
    input's gradient (an ordinary convolution) and ``ops.weights.matmul`` x·colsᵀ the
    weights' (summed over the batch): each the forward's products.  Workspace: the one
    columns buffer and a weight-sized product."""
    n, cin = dims[:2]
    cg_in, cg_out = weight.shape[0] // groups, weight.shape[1]
    kernel, in_size, out_size = weight.shape[2:], tuple(dims[2:]), grad.shape[2:]
    taps, pixels = math.prod(kernel), math.prod(in_size)
    kernel_g = weight.reshape(groups, cg_in, cg_out * taps)
    buffer = np.empty(groups * cg_out * taps * pixels, dtype=grad.dtype)
    cols = buffer.reshape(groups, cg_out * taps, pixels)
    spread = buffer.reshape((groups * cg_out,) + tuple(kernel) + in_size)
    offsets = [[(t * d - p, s) for t in range(k)]
               for k, s, d, p in zip(kernel, stride, dilation, padding)]
    landing = [_transpose_slices(in_size, out_size, tap, offsets) for tap in np.ndindex(*kernel)]
    dx = np.empty(dims, dtype=grad.dtype) if need_input else None
    if need_weights:
        dw, part = np.zeros_like(kernel_g), np.empty_like(kernel_g)
    for i in range(n):
        buffer[...] = 0
        for tap, where in zip(np.ndindex(*kernel), landing):
            if where is not None:
                src, dst = where
                spread[(slice(None),) + tap + src] = grad[(i, slice(None)) + dst]
        if need_input:
            ops.input.matmul(kernel_g, cols, out=dx[i].reshape(groups, cg_in, pixels))
        if need_weights:
            ops.weights.matmul(x[i].reshape(groups, cg_in, pixels), cols.transpose(0, 2, 1), out=part)
            dw += part
    return dx, (dw.reshape(weight.shape) if need_weights else None)


def pad_backward(grad, pads, mode: str, dims):
    """The input's gradient of npresample.pad: constant, the middle of the output's (a
    copy); reflect, replicate and circular, axis by axis from the last, the middle plus
    every border cell's gradient added into the cell it copied (slices, no index arrays)."""
    middle = (slice(None), slice(None)) + tuple(slice(b, b + n) for n, (b, _) in zip(dims[2:], pads))
    if mode == "constant":
        return np.ascontiguousarray(grad[middle])
    g = grad
    for axis in reversed(range(len(pads))):
        n, (before, after) = dims[2 + axis], pads[axis]
        if before == after == 0:
            continue
        t = np.array(_along(g, axis, slice(before, before + n)), copy=True)
        m = n + before + after
        source = np.pad(np.arange(n), (before, after), mode={"reflect": "reflect", "replicate": "edge",
                                                              "circular": "wrap"}[mode])
        for j in list(range(before)) + list(range(before + n, m)):
            _along(t, axis, slice(source[j], source[j] + 1))[...] += _along(g, axis, slice(j, j + 1))
        g = t
    return g if g is not grad else np.array(grad, copy=True)


def pad_workspace(dims_per_sample, pads, mode: str, batch: int, itemsize: int) -> int:
    """Bytes :func:`pad_backward` holds besides its result: each axis's pass is a new array
    made while the previous one (not the output's gradient) is alive."""
    if mode == "constant":
        return 0
    sizes = [n + b + a for n, (b, a) in zip(dims_per_sample[1:], pads)]
    stages = []
    for axis in reversed(range(len(pads))):
        if pads[axis] == (0, 0):
            continue
        sizes[axis] = dims_per_sample[1 + axis]
        stages.append(batch * dims_per_sample[0] * math.prod(sizes))
    held = stages[:-1]
    return itemsize * max((a + b for a, b in zip(held, held[1:])), default=held[0] if held else 0)


def _along(a, axis: int, index):
    """a[..., index, ...] with ``index`` on spatial axis ``axis`` (a is (N, C, *spatial))."""
    return a[(slice(None),) * (2 + axis) + (index,)]


def upsample_backward(grad, pairs, mode: str, aligned: bool):
    """The input's gradient of npresample's resampling, axis by axis from the last (the
    forward's passes in reverse), each pass a new array: nearest, every output's gradient
    added into the cell it copied (per residue class, one strided slice, cells distinct);
    linear, each output's gradient times (1 − λ) into its lower cell and times λ into its
    upper (per run of one λ; a run reading one cell for all its outputs adds their sum)."""
    from .npresample import _classes, _run, linear_segments

    g = grad
    for axis in reversed(range(len(pairs))):
        n, m = pairs[axis]
        if n == m:
            continue
        sizes = list(g.shape)
        sizes[2 + axis] = n
        t = np.zeros(sizes, dtype=grad.dtype)
        if mode == "nearest":
            for out, src in _classes(n, m):
                _along(t, axis, src)[...] += _along(g, axis, out)
        else:
            for j0, jstep, low, step, high, count, lam in linear_segments(n, m, aligned):
                part = _along(g, axis, _run(j0, jstep, count))
                for cell, weight in ((low, 1 - lam), (high, lam)):
                    if weight == 0:
                        continue
                    share = part * grad.dtype.type(weight)
                    if step == 0:  # one cell for the whole run: its gradient sums them
                        share = share.sum(axis=2 + axis, keepdims=True)
                    _along(t, axis, _run(cell, step, count))[...] += share
                    del share
                del part
        g = t
    return g if g is not grad else np.array(grad, copy=True)


def upsample_workspace(x, pairs, mode: str, batch: int, itemsize: int) -> int:
    """Bytes :func:`upsample_backward` holds besides its result: the pass being made and
    the previous one (the output's gradient excepted), and, for the linear modes, one
    run's weighted share (at most the pass's input)."""
    sizes = [m for _, m in pairs]
    stages, shares = [], []
    for axis in reversed(range(len(pairs))):
        n, m = pairs[axis]
        if n == m:
            continue
        shares.append(batch * x.channels * math.prod(sizes))
        sizes[axis] = n
        stages.append(batch * x.channels * math.prod(sizes))
    last = len(stages) - 1
    peak = 0
    for k, (made, share) in enumerate(zip(stages, shares)):
        previous = stages[k - 1] if k else 0            # the first pass reads the gradient
        peak = max(peak, previous + (made if k < last else 0) + (share if mode != "nearest" else 0))
    return itemsize * peak


__all__ = ["DERIVATIVES", "Tape", "make_tape", "conv_transpose_backward", "pad_backward",
           "upsample_backward", "activation_grad", "col2im", "conv_direct_backward",
           "folded_forward", "folded_grad", "max_unpool", "max_with_indices",
           "normalise_backward", "scatter_windows", "softmax_grad"]
