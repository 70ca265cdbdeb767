"""NumPy helpers shared by the layer forwards.

Only layer methods that compute numbers import this module, so ``archcalc table``
never loads NumPy.  Arrays are (N, C, …) for maps of any spatial rank and (N, F) for features.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

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
    """x with ((top, bottom), (left, right)) cells of ``fill`` around H and W; no copy when
    there is nothing to pad.  Negative 'after' pads crop (unused trailing cells)."""
    (top, bottom), (left, right) = pads
    h, w = x.shape[2], x.shape[3]
    if bottom < 0 or right < 0:
        x = x[:, :, :h + min(bottom, 0), :w + min(right, 0)]
        bottom, right = max(bottom, 0), max(right, 0)
    if top == bottom == left == right == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=fill)


def window_pads(size_hw, kernel, stride, dilation, pads, out_hw):
    """Padding that makes exactly ``out_hw`` windows fit: the declared padding, with the
    trailing side grown when ceil mode lets the last window hang over the end."""
    result = []
    for size, k, s, d, (before, after), out in zip(size_hw, kernel, stride, dilation, pads, out_hw):
        need = (out - 1) * s + d * (k - 1) + 1  # padded length the windows span
        result.append((before, need - size - before))
    return tuple(result)


def windows(xp, kernel, stride, dilation, out_hw):
    """A view (N, C, Ho, Wo, kh, kw) of every window of the padded input ``xp``."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    v = sliding_window_view(xp, (eh, ew), axis=(2, 3))
    return v[:, :, ::sh, ::sw, ::dh, ::dw][:, :, :out_hw[0], :out_hw[1]]


def padded_windows(x, layer, pads, out_hw, fill=0.0):
    """Pad ``x`` for ``out_hw`` windows of ``layer`` and return the window view."""
    dilation = layer.dilation  # every windowed layer has one (pools without it: 1)
    full = window_pads(x.shape[2:], layer.kernel, layer.stride, dilation, pads, out_hw)
    xp = padded(x, full, fill)
    return windows(xp, layer.kernel, layer.stride, dilation, out_hw)


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
    """Reduce a window view (…, kh, kw) over its last two axes with a binary ufunc
    (``np.maximum``, ``np.add``), one strided slice per kernel offset: a loop over a
    handful of offsets, several times faster than a reduction over the 6-D view."""
    kh, kw = win.shape[-2:]
    y = win[..., 0, 0].copy()
    for a in range(kh):
        for b in range(kw):
            if a or b:
                ufunc(y, win[..., a, b], out=y)
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


def direct_workspace(channels, kernel, out_hw) -> int:
    """Elements :func:`conv_direct` holds besides input and output: one chunk of columns,
    reused by every chunk and sample (padding is written into it, never copied)."""
    (kh, kw), (ho, wo) = kernel, out_hw
    depth = channels * kh * kw
    return depth * chunk_rows(ho, wo, depth) * wo


def conv_direct(x, weight, ops, layer, pads, out_hw, bias=None):
    """y = the layer's convolution by im2col and GEMM, chunk by chunk of output rows.

    Per sample and chunk: the columns (C·kh·kw, rows·Wo) are copied into one reused buffer,
    one ``ops.matmul`` per chunk writes the (groups × maps per group) products straight
    into the output, then bias and activation run on that chunk while it is in cache.
    ``pads`` are the explicit ((top, bottom), (left, right)) of the layer.
    """
    n, c = x.shape[:2]
    k, cg, kh, kw = weight.shape
    groups, (ho, wo) = c // cg, out_hw
    y = np.empty((n, k, ho, wo), dtype=x.dtype)
    kernel = weight.reshape(groups, k // groups, cg * kh * kw)
    rows = chunk_rows(ho, wo, c * kh * kw)
    buffer = np.empty(c * kh * kw * rows * wo, dtype=x.dtype)
    for i in range(n):
        flat = y[i].reshape(groups, k // groups, ho * wo)
        for r0 in range(0, ho, rows):
            r1 = min(ho, r0 + rows)
            cols = buffer[:c * kh * kw * (r1 - r0) * wo].reshape(c, kh, kw, r1 - r0, wo)
            im2col_rows(x[i], cols, (kh, kw), layer.stride, layer.dilation, pads, r0)
            ops.matmul(kernel, cols.reshape(groups, cg * kh * kw, -1), out=flat[:, :, r0 * wo:r1 * wo])
            finish(y[i:i + 1, :, r0:r1], bias, layer.activation)
    return y
