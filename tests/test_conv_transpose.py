"""Transposed convolution in 1-D, 2-D and 3-D: hand arithmetic, a naive scatter-loop
reference written from PyTorch's definition, the engine's shape, params and MACs against
what the NumPy forward produces and performs, connections by brute force, the closed-form
count at huge sizes, and receptive fields against what each output really reads."""
import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from archcalc.analyses.receptive import receptive_fields
from archcalc.core.shapes import Shape
from archcalc.core.work import Work
from archcalc.errors import ShapeError, SpecError
from archcalc.layers import REGISTRY
from archcalc.layers.npkit import trainable_count
from archcalc.layers.transpose import floor_sum, landing_pairs
from archcalc.numeric.tally import Ops
from archcalc.spec.build import build_model
from archcalc.spec.fields import build

from .strategies import transpose_cases

TOL = dict(rtol=1e-10, atol=1e-10)


def per_axis(value, rank):
    return list(value) if isinstance(value, list) else [value] * rank


def reference(x, weight, bias, stride, dilation, pads, extra, groups, activation):
    """Scatter form of PyTorch's ConvTranspose: every input cell times every tap is added
    to output (i·s + t·d − p) when that lands inside out = (n − 1)·s − 2p + d·(k − 1) + op
    + 1; then bias and activation."""
    batch, cin, *sizes = x.shape
    _, per_group, *kernel = weight.shape
    cout = per_group * groups
    out = [(n - 1) * s - 2 * p + d * (k - 1) + e + 1
           for n, k, s, d, p, e in zip(sizes, kernel, stride, dilation, pads, extra)]
    y = np.zeros((batch, cout) + tuple(out))
    for b, c in itertools.product(range(batch), range(cin)):
        g = c // (cin // groups)
        for i in itertools.product(*(range(n) for n in sizes)):
            for t in itertools.product(*(range(k) for k in kernel)):
                u = tuple(ii * s + tt * d - p for ii, tt, s, d, p in zip(i, t, stride, dilation, pads))
                if all(0 <= uu < m for uu, m in zip(u, out)):
                    for o in range(per_group):
                        y[(b, g * per_group + o) + u] += weight[(c, o) + t] * x[(b, c) + i]
    if bias is not None:
        y += bias.reshape((1, cout) + (1,) * len(sizes))
    return {None: y, "relu": np.maximum(y, 0), "tanh": np.tanh(y)}[activation]


def run(raw, dims, batch, seed=0):
    """(layer, x, weights, y, ops, counts) with the engine's shape and MACs checked."""
    layer = build(REGISTRY["conv_transpose"], raw)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch,) + tuple(dims))
    weights = layer.init_weights(Shape(tuple(dims)), rng, np.float64)
    ops = Ops()
    y = layer.forward(x, weights, ops)
    counts = layer.counts(Shape(tuple(dims)))
    assert y.shape == (batch,) + tuple(counts.out_shape.dims), "shape differs from the engine's"
    assert ops.macs == batch * counts.macs, "performed MACs differ from the engine's"
    return layer, x, weights, y, ops, counts


@given(transpose_cases())
def test_conv_transpose_matches_reference(case):
    """Any rank, kernel, stride, dilation, padding, output_padding, groups, bias and folded
    activation: the output shape and values equal the scatter loop's; the MACs the GEMMs
    performed equal the engine's N·C_in·(C_out/g)·Πk·Πin; params = trainable numbers."""
    raw, dims, batch = case
    layer, x, w, y, ops, counts = run(raw, dims, batch)
    rank = len(dims) - 1
    stride, dilation = per_axis(raw["stride"], rank), per_axis(raw["dilation"], rank)
    pads, extra = per_axis(raw["padding"], rank), per_axis(raw["output_padding"], rank)
    expected = reference(x, w["weight"], w.get("bias"), stride, dilation, pads, extra,
                         raw["groups"], raw["activation"])
    assert expected.shape == y.shape
    np.testing.assert_allclose(y, expected, **TOL)
    kernel = math.prod(raw["kernel"])
    assert counts.macs == math.prod(dims) * (raw["filters"] // raw["groups"]) * kernel
    assert counts.params == trainable_count(w) == (dims[0] * (raw["filters"] // raw["groups"]) * kernel
                                                   + (raw["filters"] if raw["bias"] else 0))


@given(transpose_cases())
def test_connections_and_work_by_brute_force(case):
    """Connections = the (input cell, output cell) edges, counted by enumerating every
    input position and tap whose product lands inside the output, times C_in·C_out/g,
    plus one per output with a bias; work = the bias adds and the folded activation."""
    raw, dims, _ = case
    layer = build(REGISTRY["conv_transpose"], raw)
    x = Shape(tuple(dims))
    counts = layer.counts(x)
    rank = len(dims) - 1
    stride, dilation = per_axis(raw["stride"], rank), per_axis(raw["dilation"], rank)
    pads = per_axis(raw["padding"], rank)
    out = counts.out_shape.spatial
    landing = 0
    for i in itertools.product(*(range(n) for n in dims[1:])):
        for t in itertools.product(*(range(k) for k in raw["kernel"])):
            landing += all(0 <= ii * s + tt * d - p < m
                           for ii, tt, s, d, p, m in zip(i, t, stride, dilation, pads, out))
    ny = counts.out_shape.numel
    edges = dims[0] * (raw["filters"] // raw["groups"]) * landing
    assert counts.connections == edges + (ny if raw["bias"] else 0)
    act = {None: Work(), "relu": Work(comparisons=ny), "tanh": Work(exponentials=ny)}[raw["activation"]]
    assert layer.work(x, counts.out_shape) == Work(additions=ny if raw["bias"] else 0) + act


@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 4), st.integers(1, 3),
       st.integers(0, 12), st.data())
def test_landing_pairs_closed_form_equals_the_enumeration(n, k, s, d, p, data):
    """E = Σ_t max(0, n − c_t) in closed form equals counting every (i, t) with
    0 ≤ i·s + t·d − p < out, including paddings that crop whole taps."""
    op = data.draw(st.integers(0, max(s, d) - 1))
    out = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
    if out < 1:
        return
    brute = sum(1 for i in range(n) for t in range(k) if 0 <= i * s + t * d - p < out)
    assert landing_pairs(n, k, s, d, p, op) == brute


@given(st.integers(0, 40), st.integers(1, 25), st.integers(-40, 40), st.integers(-60, 60))
def test_floor_sum(n, m, a, b):
    """Σ_{i<n} ⌊(a·i + b)/m⌋ for negative and positive a, b."""
    assert floor_sum(n, m, a, b) == sum((a * i + b) // m for i in range(n))


def test_huge_kernel_and_padding_count_in_closed_form():
    """A kernel of 10⁹ taps cropped by 4·10⁸ cells on an input of 10⁹: counted without a
    loop over taps.  With s = 1, d = 1, k = n = 10⁹, p = 4·10⁸, op = 0, tap t reaches
    n − max(0, p − t) − max(0, t − (k − 1 − p)) inputs: the p start taps lose
    p + (p − 1) + … + 1 = p(p + 1)/2 in all, the p end taps as many, so
    E = k·n − p·(p + 1)."""
    n = k = 10**9
    p = 4 * 10**8
    assert landing_pairs(n, k, 1, 1, p, 0) == k * n - p * (p + 1)


def test_unet_up_convolution_by_hand():
    """U-Net's 2×2 stride-2 up-convolution, 2 → 1 maps on 2×2: out (2 − 1)·2 + 1 + 1 = 4
    per axis; params 2·1·4 + 1 = 9; MACs = 8 input elements × 1 × 4 taps = 32; every
    product lands inside, so connections = 2·1·(2·2)·(2·2) + 16 = 48 (the MACs and
    the biased outputs, as for a conv).  With unit weights
    each 2×2 output block is the sum of the two maps' cells: maps arange(4) and 10 + it."""
    layer = build(REGISTRY["conv_transpose"], {"filters": 1, "kernel": 2, "stride": 2})
    x = Shape.of(2, 2, 2)
    counts = layer.counts(x)
    assert counts.out_shape == Shape.of(1, 4, 4)
    assert (counts.params, counts.macs, counts.connections, counts.flops) == (9, 32, 48, 2 * 32 + 16)
    data = np.stack([np.arange(4.0).reshape(2, 2), 10 + np.arange(4.0).reshape(2, 2)])[None]
    y = layer.forward(data, {"weight": np.ones((2, 1, 2, 2)), "bias": np.zeros(1)}, Ops())
    sums = data[0, 0] + data[0, 1]  # 10, 12, 14, 16
    np.testing.assert_array_equal(y[0, 0], np.kron(sums, np.ones((2, 2))))


def test_cropping_and_output_padding_by_hand():
    """1-D, k 3, s 2, p 1, output_padding 1 on 4 cells: out (4 − 1)·2 − 2 + 2 + 1 + 1 = 8.
    Taps land at 2i + t − 1: tap 0 at −1 (cropped for i = 0), 1, 3, 5; tap 1 at 0, 2, 4, 6;
    tap 2 at 1, 3, 5, 7: 3 + 4 + 4 = 11 pairs.  MACs 4·3 = 12 (the cropped product too)."""
    layer = build(REGISTRY["conv_transpose"], {"filters": 1, "kernel": 3, "stride": 2, "padding": 1,
                                               "output_padding": 1, "bias": False})
    counts = layer.counts(Shape.of(1, 4))
    assert counts.out_shape == Shape.of(1, 8)
    assert (counts.macs, counts.connections, counts.flops) == (12, 11, 24)
    y = layer.forward(np.arange(1.0, 5.0).reshape(1, 1, 4), {"weight": np.array([[[1.0, 10.0, 100.0]]])}, Ops())
    # out[u] = Σ x[i]·w[t] over 2i + t − 1 = u: u=0: 10·1; u=1: 100·1 + 1·2; u=2: 10·2; …
    np.testing.assert_array_equal(y[0, 0], [10, 102, 20, 203, 30, 304, 40, 400])


@pytest.mark.parametrize("raw, dims, error, fragment", [
    ({"filters": 2, "kernel": 3, "stride": 2, "output_padding": 2}, None, SpecError,
     "output_padding 2 must be smaller than the stride (2) or the dilation (1) of its axis"),
    ({"filters": 2, "kernel": 3, "stride": [2, 1], "output_padding": [1, 1]}, None, SpecError,
     "output_padding 1 must be smaller than the stride (1) or the dilation (1)"),
    ({"filters": 2, "kernel": 3, "padding": "same"}, None, SpecError, "no 'same'"),
    ({"filters": 2, "kernel": 3, "padding": [[1, 0]]}, None, SpecError, "not [[before, after], …]"),
    ({"filters": 3, "kernel": 3, "groups": 2}, None, SpecError, "filters 3 are not divisible by groups 2"),
    ({"filters": 2, "kernel": 3, "groups": 2}, (3, 4), ShapeError, "input channels 3 are not divisible"),
    ({"filters": 2, "kernel": 1, "padding": 1}, (1, 1), ShapeError, "padding 1 crops the whole output"),
    ({"filters": 2, "kernel": [3, 3]}, (1, 4), ShapeError, "kernel [3, 3] gives 2 values for a 1-D input"),
    ({"filters": 2, "kernel": 2}, (5,), ShapeError, "needs a map"),
])
def test_bad_conv_transpose_is_one_line(raw, dims, error, fragment):
    """Attribute mistakes fail when the layer is built, shape mistakes when it meets its
    input, each as one line saying what was expected."""
    with pytest.raises(error) as caught:
        build(REGISTRY["conv_transpose"], raw).out_shape(Shape(dims))
    assert fragment in caught.value.message and "\n" not in caught.value.message


# --- receptive fields --------------------------------------------------------------------

def first_field(raw, dims):
    model = build_model({"name": "t", "input": list(dims),
                         "layers": [dict(raw, name="up", type="conv_transpose")]})
    return receptive_fields(model)[-1]


def test_unet_up_convolution_field():
    """Zero insertion by 2 then a stride-1 2-tap window with leading padding 1: jump ½,
    rf 1 + 1·½ = 3/2 (the window's span; each output actually reads one cell), start
    (0 − ½)/2 = −¼ (output 0 reads cell 0, output 1 cell 0 too: their mean 0 … the grid
    −¼, +¼)."""
    f = first_field({"filters": 1, "kernel": 2, "stride": 2}, (1, 8, 8))
    assert (f.rf, f.jump, f.start) == ((Fraction(3, 2),) * 2, (Fraction(1, 2),) * 2, (Fraction(-1, 4),) * 2)


@given(transpose_cases(max_size=6))
def test_field_contains_what_each_output_reads(case):
    """Per axis (1-D layers on impulses through the real forward, positive weights, no
    bias): the cells each output reads lie within start + o·jump ± (rf − 1)/2; when the
    stride divides d·(k − 1) and nothing is cropped, some output reads across the whole
    field (the cell under tap 0 and the one d·(k − 1)/s cells before, under tap k − 1)."""
    raw, dims, _ = case
    rank = len(dims) - 1
    for axis in range(rank):
        n = dims[1 + axis]
        sub = {key: (v[axis] if isinstance(v, list) and key != "activation" else v) for key, v in raw.items()}
        sub.update(filters=1, groups=1, bias=False, activation=None)
        layer = build(REGISTRY["conv_transpose"], sub)
        weight = {"weight": np.ones((1, 1, sub["kernel"]))}
        y = layer.forward(np.eye(n).reshape(n, 1, n), weight, Ops())[:, 0, :]
        f = first_field(sub, (1, n))
        spans = []
        for o in range(y.shape[1]):
            cells = np.flatnonzero(y[:, o])
            if not cells.size:
                continue  # an output only cropped or zero-inserted cells reach
            centre = f.start[0] + o * f.jump[0]
            half = Fraction(f.rf[0] - 1, 2)
            assert centre - half <= cells.min() and cells.max() <= centre + half, (sub, n, o)
            spans.append(cells.max() - cells.min() + 1)
        k, s, d = sub["kernel"], sub["stride"], sub["dilation"]
        if (d * (k - 1)) % s == 0 and n > d * (k - 1) // s and sub["padding"] == 0:
            assert max(spans) == f.rf[0], (sub, n)


FORWARD_CASES = {"conv_transpose": test_conv_transpose_matches_reference}
