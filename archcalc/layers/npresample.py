"""NumPy forwards of the layers that resample a grid: upsampling (nearest and linear
modes), transposed convolution (GEMM then col2im) and padding, in 1-D, 2-D and 3-D.

Only the layers' ``forward`` methods import this module, so ``archcalc table`` never
loads NumPy.  Arrays are (N, C, *spatial).
"""
from __future__ import annotations

import itertools
import math

import numpy as np


def period(n: int, m: int) -> tuple[int, int]:
    """(a, b) = (n, m)/gcd: nearest's source advances by a cells every b outputs,
    ⌊(j + b)·n/m⌋ = ⌊j·n/m⌋ + a."""
    g = math.gcd(n, m)
    return n // g, m // g


def _run(start: int, step: int, count: int):
    """A slice of ``count`` cells from ``start`` by ``step`` (a step of 0: one cell)."""
    return slice(start, start + step * (count - 1) + 1, step) if step else slice(start, start + 1)


def _along(x, axis: int, index):
    """x[..., index, ...] with ``index`` on spatial axis ``axis`` (x is (N, C, *spatial))."""
    return x[(slice(None),) * (2 + axis) + (index,)]


def interpolate_nearest(x, pairs, separable: bool = False):
    """x resampled to the sizes m of ``pairs`` ((n, m) per spatial axis), PyTorch's legacy
    nearest ⌊j·n/m⌋ per axis.  Integer scales are one broadcast copy into the output.
    Other sizes copy residue classes: outputs j ≡ r (mod b) read every a-th cell from
    ⌊r·n/m⌋ (``period``): one strided copy per combination of classes of the resized axes,
    straight into the output, or, when ``separable``, one pass per resized axis, each a new
    array (Upsample.workspace says which runs).  No index arrays are made."""
    lead = x.shape[:2]
    if all(m % n == 0 for n, m in pairs):
        y = np.empty(lead + tuple(m for _, m in pairs), dtype=x.dtype)
        split = lead + tuple(v for n, m in pairs for v in (n, m // n))
        # each cell repeated m/n times along its axis (a reshape of a broadcast view would
        # alias the input where a factor is 1, and be read-only)
        spread = (slice(None), slice(None)) + tuple(v for _ in pairs for v in (slice(None), None))
        y.reshape(split)[...] = x[spread]
        return y
    if not separable:
        y = np.empty(lead + tuple(m for _, m in pairs), dtype=x.dtype)
        classes = [list(_classes(n, m)) for n, m in pairs]  # at most NEAREST_COPIES in all
        for combo in itertools.product(*classes):
            y[(slice(None), slice(None)) + tuple(out for out, _ in combo)] = \
                x[(slice(None), slice(None)) + tuple(src for _, src in combo)]
        return y
    y = x
    for axis, (n, m) in enumerate(pairs):
        if n != m:
            sizes = list(y.shape)
            sizes[2 + axis] = m
            z = np.empty(sizes, dtype=x.dtype)
            for out, src in _classes(n, m):  # made one at a time: b may be m itself
                _along(z, axis, out)[...] = _along(y, axis, src)
            y = z
    return y


def _classes(n: int, m: int):
    """(output slice, source slice) of each residue class of nearest along one axis."""
    a, b = period(n, m)
    for r in range(b):
        yield slice(r, m, b), _run((r * n) // m, a, -(-(m - r) // b))


def linear_segments(n: int, m: int, aligned: bool):
    """Runs of outputs along one axis (n cells resized to m) that share one weight λ:
    (first output, output step, lower cell, cell step, upper cell, count, λ), output
    j₀ + step·t reading cells i₀ + a·t and i₁ + a·t, σ by Upsample's exact rule; made one
    at a time (a class per residue of the output index: there may be m of them).

    σ is an arithmetic progression: with q = a/b in lowest terms (q = n/m, or
    (n − 1)/(m − 1) with align_corners), outputs j ≡ r (mod b) read cells a apart with
    one λ; only a class's first output can be clamped at 0 (λ = 0) and only its last can
    have both neighbours at the last cell n − 1 (all of them when a = 0: n = 1)."""
    if aligned and m == 1:
        yield 0, 1, 0, 1, min(1, n - 1), 1, 0.0
        return
    if aligned:
        g = math.gcd(n - 1, m - 1)
        a, b = (n - 1) // g, (m - 1) // g
        num, step, den = 0, b * (n - 1), m - 1          # σ(j) = j·(n − 1)/(m − 1)
        first = lambda r: r * (n - 1)  # noqa: E731
    else:
        a, b = period(n, m)
        step, den = 2 * b * n, 2 * m                    # σ(j) = ((2j + 1)·n − m)/(2m)
        first = lambda r: (2 * r + 1) * n - m  # noqa: E731
    for r in range(b):
        count = -(-(m - r) // b)
        t, num = 0, first(r)
        if num < 0:  # clamped at 0: reads cell 0 with weight 1
            yield r, b, 0, a, min(1, n - 1), 1, 0.0
            t, num = 1, num + step
        if t == count:
            continue
        low, lam = num // den, (num % den) / den
        last = low + a * (count - 1 - t)
        border = 0 if last < n - 1 else (count - t if a == 0 else 1)
        inner = count - t - border
        if inner:
            yield r + b * t, b, low, a, low + 1, inner, lam
        if border:
            yield r + b * (t + inner), b, n - 1, a, n - 1, border, lam


def interpolate_linear(x, pairs, aligned: bool):
    """Separable linear interpolation: one pass per resized axis, first axis first, each
    writing a new array (the last one the output).  Per run of ``linear_segments``, the
    lerp x₀ + λ·(x₁ − x₀) on strided views, in place in the pass's array: a subtraction,
    a multiply and an add per element written (Upsample.work), and no index arrays or
    temporaries.  A kept axis is skipped; if every axis is kept the output is a copy."""
    y = x
    for axis, (n, m) in enumerate(pairs):
        if n == m:
            continue
        sizes = list(y.shape)
        sizes[2 + axis] = m
        z = np.empty(sizes, dtype=x.dtype)
        for j0, jstep, low, step, high, count, lam in linear_segments(n, m, aligned):
            out = _along(z, axis, _run(j0, jstep, count))
            lower = _along(y, axis, _run(low, step, count))
            upper = _along(y, axis, _run(high, step, count))
            if step == 0 and count > 1:  # every output of the run reads the same cells
                lower = np.broadcast_to(lower, out.shape)
                upper = np.broadcast_to(upper, out.shape)
            np.subtract(upper, lower, out=out)
            np.multiply(out, x.dtype.type(lam), out=out)
            np.add(out, lower, out=out)
            del out, lower, upper  # views: they would keep the previous pass's array alive
        y = z
    return x.copy() if y is x else y


# --- transposed convolution ------------------------------------------------------------

def scatter_range(size: int, out: int, offset: int, step: int) -> tuple[int, int]:
    """The inputs [lo, hi) of an axis of ``size`` whose product with a tap of ``offset``
    (t·d − p) lands inside an output of ``out`` cells: 0 ≤ i·step + offset < out."""
    lo = max(0, -(offset // step))                  # i ≥ ⌈−offset / step⌉
    hi = min(size, (out - 1 - offset) // step + 1)  # i ≤ ⌊(out − 1 − offset) / step⌋
    return lo, max(lo, hi)


def transpose_columns(channels_out: int, kernel: tuple, in_size: tuple) -> int:
    """Elements of one sample's columns: (C_out·Πk) × Πin (conv_transpose's workspace)."""
    n = channels_out
    for v in tuple(kernel) + tuple(in_size):
        n *= v
    return n


def conv_transpose(x, weight, ops, stride, dilation, padding, out_size, groups):
    """y = the transposed convolution of x (N, C_in, *in) with weight (C_in, C_out/g, *k),
    cropped by ``padding`` (before, per axis) to ``out_size``.

    Per sample: one ``ops.matmul`` per group, (C_out/g·Πk, C_in/g) × (C_in/g, Πin), writes
    every product into one reused columns buffer (g, C_out/g·Πk, Πin); then, per kernel
    offset, one strided slice of the columns is added into the output cells it lands on
    (products landing in the cropped border are computed and dropped, as PyTorch's
    col2im does).  The MACs tallied are N·C_in·(C_out/g)·Πk·Πin, the engine's."""
    n, cin = x.shape[:2]
    cg_in, cg_out = weight.shape[0] // groups, weight.shape[1]
    kernel, in_size = weight.shape[2:], x.shape[2:]
    taps, pixels = int(np.prod(kernel, dtype=np.int64)), int(np.prod(in_size, dtype=np.int64))
    rank = len(kernel)
    # (g, C_in/g, C_out/g·Πk) → its transpose per group, a view
    kernel_t = weight.reshape(groups, cg_in, cg_out * taps).transpose(0, 2, 1)
    y = np.zeros((n, groups * cg_out) + tuple(out_size), dtype=x.dtype)
    buffer = np.empty(groups * cg_out * taps * pixels, dtype=x.dtype)
    cols = buffer.reshape(groups, cg_out * taps, pixels)
    spread = buffer.reshape((groups * cg_out,) + tuple(kernel) + tuple(in_size))
    offsets = [[(t * d - p, s) for t in range(k)]
               for k, s, d, p in zip(kernel, stride, dilation, padding)]
    for i in range(n):
        ops.matmul(kernel_t, x[i].reshape(groups, cg_in, pixels), out=cols)
        for tap in np.ndindex(*kernel):
            src, dst = [], []
            for axis in range(rank):
                offset, s = offsets[axis][tap[axis]]
                lo, hi = scatter_range(in_size[axis], out_size[axis], offset, s)
                if lo == hi:
                    break
                src.append(slice(lo, hi))
                first = lo * s + offset
                dst.append(slice(first, first + (hi - lo - 1) * s + 1, s))
            else:
                y[(i, slice(None)) + tuple(dst)] += spread[(slice(None),) + tap + tuple(src)]
    return y


# --- padding ---------------------------------------------------------------------------

#: archcalc's pad modes as NumPy's: PyTorch's reflect excludes the edge cell as NumPy's
#: 'reflect' does, replicate repeats it ('edge'), circular wraps around ('wrap')
NUMPY_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
                   "circular": "wrap"}


def pad(x, pads, mode: str, value: float = 0.0):
    """x with ((before, after), …) cells around its spatial axes, filled per ``mode``."""
    widths = ((0, 0), (0, 0)) + tuple(pads)
    if mode == "constant":
        return np.pad(x, widths, mode="constant", constant_values=x.dtype.type(value))
    return np.pad(x, widths, mode=NUMPY_PAD_MODES[mode])
