"""Naive, loop-based reference implementations of every layer forward.

Written from the definitions (PyTorch/Caffe docs, the LeNet-5 and AlexNet papers), one
output cell at a time, with their own output-size rule, so they share no code with
archcalc.  Slow on purpose: use small sizes.
"""
from __future__ import annotations

import math

import numpy as np


def window_starts(size, k, s, pad_before, pad_after, d=1, ceil_mode=False):
    """Input coordinate of the first tap of each window along one axis.

    floor mode: every window fits inside the padded input.  ceil mode: a window may hang
    over the end of the padded input, as long as it starts inside the input or its
    leading padding, and no more than one stride's worth of positions is added.
    """
    extent = d * (k - 1) + 1
    padded = size + pad_before + pad_after
    starts = []
    p = 0
    while True:
        at = p * s
        if ceil_mode:
            fits = at + extent - padded < s and at < size + pad_before
        else:
            fits = at + extent <= padded
        if not fits:
            return starts
        starts.append(at - pad_before)
        p += 1


def conv(x, weight, bias, stride, pads, dilation, groups=1, table=None):
    """y[n,o,i,j] = b[o] + Σ_c Σ_a Σ_b w[o,c,a,b] · x[n, c_in, i·s + a·d − p, j·s + b·d − p]."""
    n_, c_, h, w = x.shape
    o_, _, kh, kw = weight.shape
    rows = window_starts(h, kh, stride[0], *pads[0], dilation[0])
    cols = window_starts(w, kw, stride[1], *pads[1], dilation[1])
    y = np.zeros((n_, o_, len(rows), len(cols)), dtype=x.dtype)
    per_group_out = o_ // groups
    per_group_in = c_ // groups
    for n in range(n_):
        for o in range(o_):
            if table is not None:
                inputs = [(c, c) for c in table[o]]
            else:
                g = o // per_group_out
                inputs = [(g * per_group_in + ci, ci) for ci in range(per_group_in)]
            for i, r0 in enumerate(rows):
                for j, q0 in enumerate(cols):
                    acc = 0.0 if bias is None else float(bias[o])
                    for c, ci in inputs:
                        for a in range(kh):
                            for b in range(kw):
                                r, q = r0 + a * dilation[0], q0 + b * dilation[1]
                                if 0 <= r < h and 0 <= q < w:
                                    acc += float(weight[o, ci, a, b]) * float(x[n, c, r, q])
                    y[n, o, i, j] = acc
    return y


def _pool(x, kernel, stride, pads, dilation, ceil_mode, reduce):
    n_, c_, h, w = x.shape
    (kh, kw), (sh, sw) = kernel, stride
    rows = window_starts(h, kh, sh, *pads[0], dilation[0], ceil_mode)
    cols = window_starts(w, kw, sw, *pads[1], dilation[1], ceil_mode)
    y = np.zeros((n_, c_, len(rows), len(cols)), dtype=x.dtype)
    for n in range(n_):
        for c in range(c_):
            for i, r0 in enumerate(rows):
                for j, q0 in enumerate(cols):
                    cells = [(r0 + a * dilation[0], q0 + b * dilation[1])
                             for a in range(kh) for b in range(kw)]
                    y[n, c, i, j] = reduce(x[n, c], cells, r0, q0)
    return y


def maxpool(x, kernel, stride, pads, dilation=(1, 1), ceil_mode=False):
    """Max over the window cells that lie in the input (padding never wins)."""
    h, w = x.shape[2:]

    def reduce(plane, cells, r0, q0):
        inside = [float(plane[r, q]) for r, q in cells if 0 <= r < h and 0 <= q < w]
        return max(inside) if inside else -math.inf
    return _pool(x, kernel, stride, pads, dilation, ceil_mode, reduce)


def avgpool(x, kernel, stride, pads, ceil_mode=False, count_include_pad=True):
    """Sum over the window cells in the input, divided by (PyTorch/Caffe) the window's
    cells within the padded input when padding counts, else its cells within the input."""
    h, w = x.shape[2:]
    (_, pb), (_, pr) = pads

    def reduce(plane, cells, r0, q0):
        total = sum(float(plane[r, q]) for r, q in cells if 0 <= r < h and 0 <= q < w)
        if count_include_pad:
            count = sum(1 for r, q in cells if r < h + pb and q < w + pr)
        else:
            count = sum(1 for r, q in cells if 0 <= r < h and 0 <= q < w)
        return total / count
    return _pool(x, kernel, stride, pads, (1, 1), ceil_mode, reduce)


def subsample(x, coef, bias, kernel, stride, pads):
    """LeNet-5: y = a[c] · Σ_window x + b[c]."""
    h, w = x.shape[2:]
    rows = window_starts(h, kernel[0], stride[0], *pads[0])
    cols = window_starts(w, kernel[1], stride[1], *pads[1])
    out = np.zeros(x.shape[:2] + (len(rows), len(cols)), dtype=x.dtype)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i, r0 in enumerate(rows):
                for j, q0 in enumerate(cols):
                    s = sum(float(x[n, c, r, q]) for r in range(r0, r0 + kernel[0])
                            for q in range(q0, q0 + kernel[1]) if 0 <= r < h and 0 <= q < w)
                    out[n, c, i, j] = float(coef[c]) * s + float(bias[c])
    return out


def lrn(x, size, alpha, beta, k):
    """AlexNet §3.3 with Caffe's α/n: y_c = x_c / (k + α/n Σ_{c'} x_{c'}²)^β, window of
    ``size`` maps centred on c and clipped at the first and last map."""
    n_, c_ = x.shape[:2]
    y = np.zeros_like(x)
    half = size // 2
    for n in range(n_):
        for c in range(c_):
            lo, hi = max(0, c - half), min(c_ - 1, c + size - 1 - half)
            s = sum(x[n, cc] ** 2 for cc in range(lo, hi + 1))
            y[n, c] = x[n, c] / (k + alpha / size * s) ** beta
    return y


def adaptive_avgpool(x, out):
    """PyTorch's adaptive windows: [floor(i·H/oh), ceil((i+1)·H/oh))."""
    n_, c_, h, w = x.shape
    oh, ow = out
    y = np.zeros((n_, c_, oh, ow), dtype=x.dtype)
    for i in range(oh):
        r0, r1 = math.floor(i * h / oh), math.ceil((i + 1) * h / oh)
        for j in range(ow):
            q0, q1 = math.floor(j * w / ow), math.ceil((j + 1) * w / ow)
            y[:, :, i, j] = x[:, :, r0:r1, q0:q1].sum(axis=(2, 3)) / ((r1 - r0) * (q1 - q0))
    return y


def dense(x, weight, bias):
    flat = x.reshape(x.shape[0], -1)
    y = np.zeros((flat.shape[0], weight.shape[0]), dtype=x.dtype)
    for n in range(flat.shape[0]):
        for o in range(weight.shape[0]):
            acc = 0.0 if bias is None else float(bias[o])
            for i in range(flat.shape[1]):
                acc += float(weight[o, i]) * float(flat[n, i])
            y[n, o] = acc
    return y


def rbf(x, weight):
    """LeNet-5's Euclidean RBF: y_j = Σ_i (x_i − w_ji)²."""
    flat = x.reshape(x.shape[0], -1)
    y = np.zeros((flat.shape[0], weight.shape[0]), dtype=x.dtype)
    for n in range(flat.shape[0]):
        for o in range(weight.shape[0]):
            y[n, o] = sum((float(flat[n, i]) - float(weight[o, i])) ** 2 for i in range(flat.shape[1]))
    return y


def batchnorm(x, gamma, beta, mean, var, eps):
    y = np.zeros_like(x)
    for c in range(x.shape[1]):
        y[:, c] = gamma[c] * (x[:, c] - mean[c]) / math.sqrt(var[c] + eps) + beta[c]
    return y


def softmax(x):
    """exp(x_c − m) / Σ exp(x_c' − m) over axis 1, m the maximum (the shift cancels)."""
    y = np.zeros_like(x)
    for index in np.ndindex(x.shape[:1] + x.shape[2:]):
        n, rest = index[0], index[1:]
        column = [float(x[(n, c) + rest]) for c in range(x.shape[1])]
        m = max(column)
        e = [math.exp(v - m) for v in column]
        for c in range(x.shape[1]):
            y[(n, c) + rest] = e[c] / sum(e)
    return y


def _softplus(v):
    return v + math.log1p(math.exp(-v)) if v > 0 else math.log1p(math.exp(v))


ACTIVATIONS = {
    "relu": lambda v: max(v, 0.0),
    "relu6": lambda v: min(max(v, 0.0), 6.0),
    "tanh": math.tanh,
    "sigmoid": lambda v: 1.0 / (1.0 + math.exp(-v)),
    # the definitions as PyTorch's documentation states them
    "silu": lambda v: v / (1.0 + math.exp(-v)),
    "hardsigmoid": lambda v: 0.0 if v <= -3 else 1.0 if v >= 3 else v / 6 + 0.5,
    "hardswish": lambda v: 0.0 if v <= -3 else v if v >= 3 else v * (v + 3) / 6,
    "gelu": lambda v: 0.5 * v * (1 + math.erf(v / math.sqrt(2))),
    "gelu_tanh": lambda v: 0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v ** 3))),
    "leaky_relu": lambda v, slope=0.01: v if v >= 0 else slope * v,
    "elu": lambda v, alpha=1.0: v if v > 0 else alpha * (math.exp(v) - 1),
    "mish": lambda v: v * math.tanh(_softplus(v)),
}


def elementwise(x, name, **attrs):
    if name == "softmax":
        return softmax(x)
    f = ACTIVATIONS[name]
    return np.vectorize(lambda v: f(float(v), **attrs), otypes=[x.dtype])(x)


def prelu(x, slopes):
    """x ≥ 0: x, else a_c · x, a_c the channel's slope (one shared slope: every channel's)."""
    y = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        a = slopes[0] if len(slopes) == 1 else slopes[index[1]]
        y[index] = x[index] if x[index] >= 0 else a * x[index]
    return y


def normalise(x, members, eps, gamma=None, beta=None):
    """Each output cell normalised by the mean and biased variance of the cells
    ``members(index)`` lists (its normalisation set), then γ_c · x̂ + β_c."""
    y = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        values = [float(x[i]) for i in members(index)]
        mean = sum(values) / len(values)
        var = sum((v - mean) ** 2 for v in values) / len(values)
        v = (float(x[index]) - mean) / math.sqrt(var + eps)
        if gamma is not None:
            v = v * gamma[index[1]] + beta[index[1]]
        y[index] = v
    return y


def layernorm_members(shape):
    """Every channel at the cell's position (the features of a vector)."""
    return lambda index: [(index[0], c) + index[2:] for c in range(shape[1])]


def groupnorm_members(shape, groups):
    """Every cell of the channels in the cell's group, at every position."""
    per = shape[1] // groups

    def members(index):
        g = index[1] // per
        return [(index[0], c) + rest for c in range(g * per, (g + 1) * per)
                for rest in np.ndindex(shape[2:])]
    return members


def instancenorm_members(shape):
    """Every position of the cell's channel."""
    return lambda index: [index[:2] + rest for rest in np.ndindex(shape[2:])]


def channel_shuffle(x, groups):
    """ShuffleNet: output channel j·g + i is input channel i·(C/g) + j."""
    c = x.shape[1]
    per = c // groups
    y = np.zeros_like(x)
    for i in range(groups):
        for j in range(per):
            y[:, j * groups + i] = x[:, i * per + j]
    return y


# --- any number of spatial axes (1-D, 2-D, 3-D), one output position at a time -----------

def _taps(starts, kernel, dilation, sizes):
    """The input cells (per axis coordinates) one window reads, and whether each lies in
    the input."""
    import itertools

    cells = []
    for offset in itertools.product(*(range(k) for k in kernel)):
        cell = tuple(s + o * d for s, o, d in zip(starts, offset, dilation))
        cells.append((offset, cell, all(0 <= c < n for c, n in zip(cell, sizes))))
    return cells


def conv_nd(x, weight, bias, stride, pads, dilation, groups=1):
    """The convolution of the definition on (N, C, *spatial), any number of axes."""
    import itertools

    n_, c_, *sizes = x.shape
    o_, cg, *kernel = weight.shape
    starts = [window_starts(n, k, s, *p, d) for n, k, s, p, d
              in zip(sizes, kernel, stride, pads, dilation)]
    y = np.zeros((n_, o_) + tuple(len(a) for a in starts), dtype=x.dtype)
    per_group_out = o_ // groups
    for position in itertools.product(*(range(len(a)) for a in starts)):
        origin = [a[i] for a, i in zip(starts, position)]
        for o in range(o_):
            g = o // per_group_out
            acc = np.zeros(n_) if bias is None else np.full(n_, float(bias[o]))
            for offset, cell, inside in _taps(origin, kernel, dilation, sizes):
                if inside:
                    for ci in range(cg):
                        acc += weight[(o, ci) + offset] * x[(slice(None), g * cg + ci) + cell]
            y[(slice(None), o) + position] = acc
    return y


def pool_nd(x, kernel, stride, pads, dilation, ceil_mode, kind, count_include_pad=True):
    """Max or average pooling of the definition on (N, C, *spatial)."""
    import itertools

    n_, c_, *sizes = x.shape
    starts = [window_starts(n, k, s, *p, d, ceil_mode) for n, k, s, p, d
              in zip(sizes, kernel, stride, pads, dilation)]
    y = np.zeros((n_, c_) + tuple(len(a) for a in starts), dtype=x.dtype)
    for position in itertools.product(*(range(len(a)) for a in starts)):
        origin = [a[i] for a, i in zip(starts, position)]
        taps = _taps(origin, kernel, dilation, sizes)
        values = [x[(slice(None), slice(None)) + cell] for _, cell, inside in taps if inside]
        if kind == "max":  # a window wholly in padding (dilated taps) gives −∞, as in the 2-D case
            out = np.max(values, axis=0) if values else -math.inf
        else:
            if count_include_pad:  # cells within the padded input
                count = sum(1 for _, cell, _ in taps
                            if all(c < n + p[1] for c, n, p in zip(cell, sizes, pads)))
            else:
                count = len(values)
            out = np.sum(values, axis=0) / count
        y[(slice(None), slice(None)) + position] = out
    return y


def adaptive_avgpool_nd(x, out):
    """PyTorch's adaptive windows along every spatial axis."""
    import itertools

    n_, c_, *sizes = x.shape
    y = np.zeros((n_, c_) + tuple(out), dtype=x.dtype)
    for position in itertools.product(*(range(o) for o in out)):
        box = tuple(slice(math.floor(i * n / o), math.ceil((i + 1) * n / o))
                    for i, n, o in zip(position, sizes, out))
        y[(slice(None), slice(None)) + position] = x[(slice(None), slice(None)) + box].mean(
            axis=tuple(range(2, 2 + len(sizes))))
    return y
