"""NumPy helpers shared by the layer forwards.

Only layer methods that compute numbers import this module, so ``archcalc table``
never loads NumPy.  Arrays are (N, C, …) for maps of any spatial rank and (N, F) for features.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..core.shapes import product

#: Weight entries that are held but not trained: batch norm's running statistics and the
#: mask of a connection table.
BUFFERS = ("running_mean", "running_var", "mask")


def normal(rng, shape, dtype, scale=1.0):
    """Zero-mean draws with standard deviation ``scale``, made directly in ``dtype`` (no
    float64 temporary).  Uniform on [−√3, √3)·scale: the variance of a normal at half the
    cost, which matters for VGG's 100-million-weight fc6."""
    a = rng.random(shape, dtype=dtype)
    t = a.dtype.type
    half_width = 3 ** 0.5 * scale
    a *= t(2 * half_width)
    a -= t(half_width)
    return a


def trainable_count(weights: dict) -> int:
    """Trainable numbers held: every array but the buffers; a masked weight counts its
    unmasked entries only (a connection table's trainable count is the mask's count)."""
    total = 0
    for name, array in weights.items():
        if name in BUFFERS:
            continue
        if name == "weight" and "mask" in weights:
            mask = weights["mask"]
            taps = array.size // mask.size  # kh·kw: the mask is (out, in)
            total += int(np.count_nonzero(mask)) * taps
        else:
            total += int(array.size)
    return total


def activate(name, y, **attrs):
    """Apply a folded activation in place (the layer's output buffer is reused); the
    functions that need temporaries run block by block (:mod:`archcalc.layers.npact`),
    so their scratch stays a few blocks whatever the tensor.  ``attrs``: the function's
    parameters (leaky_relu's slope, elu's alpha, gelu's approximate); a folded activation
    uses their defaults."""
    if name is None:
        return y
    if name == "relu":
        np.maximum(y, 0, out=y)
    elif name == "relu6":
        np.clip(y, 0, 6, out=y)
    elif name == "tanh":
        np.tanh(y, out=y)
    elif name == "sigmoid":
        # 1 / (1 + exp(-y)), in place
        np.negative(y, out=y)
        np.exp(y, out=y)
        y += 1
        np.reciprocal(y, out=y)
    elif name == "softmax":
        softmax_(y)
    else:
        from . import npact

        if name not in npact.FUNCTIONS:  # pragma: no cover - the spec parser admits only these
            raise AssertionError(name)
        npact.blockwise(name, y, y, **attrs)
    return y


def applied(name, x, **attrs):
    """A new array holding the activation of ``x``, in one pass where NumPy has the
    function (relu, relu6, tanh) or block by block into a new array (npact's functions),
    else a copy then the function in place."""
    if name == "relu":
        return np.maximum(x, x.dtype.type(0))
    if name == "relu6":
        return np.clip(x, x.dtype.type(0), x.dtype.type(6))
    if name == "tanh":
        return np.tanh(x)
    from . import npact

    if name in npact.FUNCTIONS:
        return npact.blockwise(name, x, np.empty(x.shape, dtype=x.dtype), **attrs)
    return activate(name, x.copy())


def softmax_(y):
    """Numerically stable softmax over axis 1, in place: exp(y − max) / Σ exp(y − max)."""
    y -= y.max(axis=1, keepdims=True)
    np.exp(y, out=y)
    y /= y.sum(axis=1, keepdims=True)
    return y


def finish(y, bias, activation):
    """Add the bias (per map, axis 1) and apply a folded activation, in place on ``y``,
    an (N, K, …) array or view — a chunk of an output while it is still in cache."""
    if bias is not None:
        y += bias.reshape((-1,) + (1,) * (y.ndim - 2))
    return activate(activation, y)


def padded(x, pads, fill=0.0):
    """x with ((before, after), …) cells of ``fill`` around its spatial axes; no copy when
    there is nothing to pad.  Negative 'after' pads crop (unused trailing cells)."""
    if any(after < 0 for _, after in pads):
        x = x[(slice(None), slice(None)) + tuple(slice(0, size + min(after, 0))
                                                 for size, (_, after) in zip(x.shape[2:], pads))]
        pads = tuple((before, max(after, 0)) for before, after in pads)
    if all(p == (0, 0) for p in pads):
        return x
    return np.pad(x, ((0, 0), (0, 0)) + tuple(pads), constant_values=fill)


def window_pads(sizes, kernel, stride, dilation, pads, out_size):
    """Padding that makes exactly ``out_size`` windows fit: the declared padding, with the
    trailing side grown when ceil mode lets the last window hang over the end."""
    result = []
    for size, k, s, d, (before, after), out in zip(sizes, kernel, stride, dilation, pads, out_size):
        need = (out - 1) * s + d * (k - 1) + 1  # padded length the windows span
        result.append((before, need - size - before))
    return tuple(result)


def windows(xp, kernel, stride, dilation, out_size):
    """A view (N, C, *out, *kernel) of every window of the padded input ``xp``."""
    rank = len(kernel)
    extents = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    v = sliding_window_view(xp, extents, axis=tuple(range(2, 2 + rank)))
    every = (slice(None), slice(None))
    v = v[every + tuple(slice(None, None, s) for s in stride) + tuple(slice(None, None, d) for d in dilation)]
    return v[every + tuple(slice(0, o) for o in out_size)]


def padded_windows(x, g, fill=0.0):
    """Pad ``x`` for the windows of geometry ``g`` and return the window view."""
    full = window_pads(x.shape[2:], g.kernel, g.stride, g.dilation, g.padding, g.out_size)
    return windows(padded(x, full, fill), g.kernel, g.stride, g.dilation, g.out_size)


def window_counts(size, kernel, stride, before, after, out, include_pad, dtype="float64"):
    """Cells each average-pooling window divides by along one axis (PyTorch and Caffe):
    the window clipped to the padded input when padding counts, else to the input.
    Computed in ``dtype`` (small integers, exact) with two arrays of ``out`` cells."""
    start = np.arange(out, dtype=dtype)
    start *= stride
    start -= before
    end = start + kernel
    np.minimum(end, size + after, out=end)
    if not include_pad:
        np.minimum(end, size, out=end)
        np.maximum(start, 0, out=start)
    end -= start
    return end


def reduce_windows(win, ufunc):
    """Reduce a window view (…, *kernel) over its kernel axes (the last ``rank``) with a
    binary ufunc (``np.maximum``, ``np.add``), one strided slice per kernel offset: a loop
    over a handful of offsets, several times faster than a reduction over the view."""
    rank = (win.ndim - 2) // 2
    offsets = np.ndindex(*win.shape[win.ndim - rank:])
    y = win[(Ellipsis,) + next(offsets)].copy()
    for offset in offsets:
        ufunc(y, win[(Ellipsis,) + offset], out=y)
    return y


# --- direct convolution: im2col a few output rows at a time --------------------------------

#: Elements of im2col columns a direct convolution builds at a time (16 MiB in float32): the
#: GEMM reads them back from cache instead of memory, and the buffer does not grow with the
#: map (VGG-16's conv1_2 would otherwise build 115 MB of columns).
COLUMN_ELEMENTS = 1 << 22


def chunk_rows(out_h: int, out_w: int, depth: int) -> int:
    """Output rows per chunk: as many as keep ``depth``·rows·out_w within COLUMN_ELEMENTS."""
    return max(1, min(out_h, COLUMN_ELEMENTS // (depth * out_w)))


def tap_range(first, count, start, step, size) -> tuple[int, int]:
    """The outputs [lo, hi) among ``first`` … ``first + count − 1`` whose tap, at input
    index o·step + start, lies inside an input of ``size``; the others read padding."""
    lo = max(first, -(start // step))                          # o ≥ ⌈−start / step⌉
    hi = min(first + count, (size - 1 - start) // step + 1)    # o ≤ ⌊(size − 1 − start) / step⌋
    return lo, max(lo, hi)


def im2col_rows(x, cols, kernel, stride, dilation, pads, r0):
    """Fill ``cols`` (C, kh, kw, rows, Wo) with the taps of output rows r0… of the unpadded
    sample ``x`` (C, H, W) under ``pads`` ((top, _), (left, _)): per kernel offset one
    strided copy of the cells inside the input, zeros where the tap reads padding (no
    padded copy of the input is made)."""
    (kh, kw), (sh, sw), (dh, dw), ((top, _), (left, _)) = kernel, stride, dilation, pads
    rows, out_w = cols.shape[3:]
    h, w = x.shape[1:]
    for a in range(kh):
        i0, i1 = tap_range(r0, rows, a * dh - top, sh, h)
        for b in range(kw):
            j0, j1 = tap_range(0, out_w, b * dw - left, sw, w)
            tap = cols[:, a, b]
            if i1 == i0 or j1 == j0:
                tap[...] = 0
                continue
            q = i0 * sh + a * dh - top
            p = j0 * sw + b * dw - left
            tap[:, i0 - r0:i1 - r0, j0:j1] = x[:, q:q + (i1 - i0 - 1) * sh + 1:sh, p:p + (j1 - j0 - 1) * sw + 1:sw]
            # padding cells (rows above and below, columns left and right of that block);
            # most taps have none, and a no-op assignment still costs a NumPy call
            if i0 > r0:
                tap[:, :i0 - r0] = 0
            if i1 < r0 + rows:
                tap[:, i1 - r0:] = 0
            if j0 > 0:
                tap[:, i0 - r0:i1 - r0, :j0] = 0
            if j1 < out_w:
                tap[:, i0 - r0:i1 - r0, j1:] = 0


def lifted(values: tuple, fill) -> tuple:
    """Per-axis values of a 1-D or 2-D layer as 3-D ones (leading axes of size 1, kernel
    1, stride 1, no padding): every convolution runs as a 3-D one."""
    return (fill,) * (3 - len(values)) + tuple(values)


def im2col_slab(x, cols, kernel, stride, dilation, pads, od, r0):
    """Fill ``cols`` (C, kd, kh, kw, rows, Wo) with the taps of output depth ``od``, rows
    r0…, of the unpadded 3-D sample ``x`` (C, D, H, W): one 2-D :func:`im2col_rows` per
    kernel depth offset on the input slice it reads, zeros where that slice is padding."""
    (kd, _, _), (sd, _, _), (dd, _, _), (front, _) = kernel, stride, dilation, pads[0]
    depth = x.shape[1]
    for a in range(kd):
        z = od * sd + a * dd - front
        if 0 <= z < depth:
            im2col_rows(x[:, z], cols[:, a], kernel[1:], stride[1:], dilation[1:], pads[1:], r0)
        else:
            cols[:, a] = 0


def _lifted_geometry(g):
    return (lifted(g.kernel, 1), lifted(g.stride, 1), lifted(g.dilation, 1),
            lifted(g.padding, (0, 0)), lifted(g.out_size, 1))


def im2col(x, cols, g):
    """Fill ``cols`` (C, *kernel, *out) with every tap of the sample ``x`` (C, *spatial)
    under the window geometry ``g`` (1-D, 2-D or 3-D; padding written as zeros)."""
    kernel, stride, dilation, pads, out = _lifted_geometry(g)
    c = x.shape[0]
    x3 = x.reshape((c,) + lifted(x.shape[1:], 1))
    cols3 = cols.reshape((c,) + kernel + out)
    for od in range(out[0]):
        im2col_slab(x3, cols3[..., od, :, :], kernel, stride, dilation, pads, od, 0)


def direct_chunk(channels, kernel, out_size) -> int:
    """Output positions :func:`conv_direct` computes at once: a chunk of rows of one
    output depth slice (2-D: of the map; 1-D: of the one row)."""
    _, ho, wo = lifted(out_size, 1)
    return chunk_rows(ho, wo, channels * product(kernel)) * wo


def direct_workspace(channels, kernel, out_size) -> int:
    """Elements :func:`conv_direct` holds besides input and output: one chunk of columns,
    reused by every chunk and sample (padding is written into it, never copied)."""
    return channels * product(kernel) * direct_chunk(channels, kernel, out_size)


def conv_direct(x, weight, ops, g, bias=None, activation=None):
    """y = the convolution of geometry ``g`` by im2col and GEMM, chunk by chunk of output
    rows (per output depth slice in 3-D; 1-D and 2-D run as 3-D with unit axes).

    Per sample and chunk: the columns (C·Πk, rows·Wo) are copied into one reused buffer,
    one ``ops.matmul`` per chunk writes the (groups × maps per group) products straight
    into the output, then bias and activation run on that chunk while it is in cache.
    """
    n, c = x.shape[:2]
    k, cg = weight.shape[:2]
    kernel, stride, dilation, pads, out = _lifted_geometry(g)
    x3 = x.reshape((n, c) + lifted(x.shape[2:], 1))
    groups, (do, ho, wo) = c // cg, out
    depth = c * product(kernel)
    y = np.empty((n, k) + out, dtype=x.dtype)
    kernel_matrix = weight.reshape(groups, k // groups, depth // groups)
    rows = chunk_rows(ho, wo, depth)
    buffer = np.empty(depth * rows * wo, dtype=x.dtype)
    for i in range(n):
        for od in range(do):
            flat = y[i, :, od].reshape(groups, k // groups, ho * wo)
            for r0 in range(0, ho, rows):
                r1 = min(ho, r0 + rows)
                cols = buffer[:depth * (r1 - r0) * wo].reshape((c,) + kernel + (r1 - r0, wo))
                im2col_slab(x3[i], cols, kernel, stride, dilation, pads, od, r0)
                ops.matmul(kernel_matrix, cols.reshape(groups, depth // groups, -1),
                           out=flat[:, :, r0 * wo:r1 * wo])
                finish(y[i:i + 1, :, od, r0:r1], bias, activation)
    return y.reshape((n, k) + tuple(g.out_size))
