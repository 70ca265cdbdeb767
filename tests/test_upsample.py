"""Upsampling in 1-D, 2-D and 3-D (nearest, linear, bilinear, trilinear; scale or size;
align_corners): hand arithmetic, a naive reference written from PyTorch's index rules,
the engine's shape, connections and work against brute force, and receptive fields
against the cells each output really reads."""
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
from archcalc.numeric.tally import Ops
from archcalc.spec.build import build_model
from archcalc.spec.fields import build

from .strategies import upsample_cases

TOL = dict(rtol=1e-12, atol=1e-12)


# --- an independent reference: PyTorch's rules, one output cell at a time ---------------

def taps(n, m, j, mode, aligned):
    """[(source cell, weight)] of output j along one axis of n cells resized to m, from
    PyTorch's UpSample.h: nearest ⌊j·n/m⌋; linear σ = (j + ½)·n/m − ½ clamped at 0, or
    j·(n − 1)/(m − 1) with align_corners; neighbours ⌊σ⌋ and min(⌊σ⌋ + 1, n − 1)."""
    if mode == "nearest":
        return [((j * n) // m, Fraction(1))]
    if aligned:
        sigma = Fraction(j * (n - 1), m - 1) if m > 1 else Fraction(0)
    else:
        sigma = max((j + Fraction(1, 2)) * Fraction(n, m) - Fraction(1, 2), Fraction(0))
    low = math.floor(sigma)
    lam = sigma - low
    return [(low, 1 - lam), (min(low + 1, n - 1), lam)]


def reference(x, out_sizes, mode, aligned):
    """y[..., j₁, …] = Σ over the neighbour combinations of the product of the per-axis
    weights times the input cell (the tensor-product form, not separable passes)."""
    spatial = x.shape[2:]
    y = np.zeros(x.shape[:2] + tuple(out_sizes))
    for out_index in itertools.product(*(range(m) for m in out_sizes)):
        per_axis = [taps(n, m, j, mode, aligned) for n, m, j in zip(spatial, out_sizes, out_index)]
        for combo in itertools.product(*per_axis):
            weight = math.prod(float(w) for _, w in combo)
            y[(slice(None), slice(None)) + out_index] += weight * x[(slice(None), slice(None))
                                                                   + tuple(i for i, _ in combo)]
    return y


def out_sizes(raw, spatial):
    if "size" in raw:
        size = raw["size"]
        return tuple(size if isinstance(size, list) else [size] * len(spatial))
    scale = raw["scale"]
    scale = scale if isinstance(scale, list) else [scale] * len(spatial)
    return tuple(n * s for n, s in zip(spatial, scale))


def forward(raw, dims, batch, seed=0):
    layer = build(REGISTRY["upsample"], raw)
    x = np.random.default_rng(seed).standard_normal((batch,) + tuple(dims))
    ops = Ops()
    y = layer.forward(x, {}, ops)
    counts = layer.counts(Shape(tuple(dims)))
    assert y.shape == (batch,) + tuple(counts.out_shape.dims), "shape differs from the engine's"
    assert ops.macs == counts.macs == 0 and counts.params == 0
    return layer, x, y, counts


@given(upsample_cases())
def test_upsample_matches_reference(case):
    """Every mode, rank, scale or size (growing, shrinking or keeping an axis) and
    align_corners: the forward equals the reference; no params, no MACs tallied or
    counted; the output is a new array."""
    raw, dims, batch = case
    layer, x, y, counts = forward(raw, dims, batch)
    sizes = out_sizes(raw, dims[1:])
    assert counts.out_shape == Shape((dims[0],) + sizes)
    np.testing.assert_allclose(y, reference(x, sizes, raw["mode"], raw.get("align_corners", False)), **TOL)
    assert not np.shares_memory(x, y)


@given(upsample_cases())
def test_connections_and_work_by_brute_force(case):
    """Connections = Σ over outputs of the distinct cells read (per resized axis the set
    {⌊σ⌋, min(⌊σ⌋ + 1, n − 1)}, one cell along a kept axis), times the channels.  Work of
    a linear mode = the lerp's subtraction, multiply and add per element written by each
    pass over a resized axis, first axis first; nearest none.  FLOPs = that work."""
    raw, dims, batch = case
    layer = build(REGISTRY["upsample"], raw)
    x = Shape(tuple(dims))
    counts = layer.counts(x)
    spatial, sizes = dims[1:], out_sizes(raw, dims[1:])
    mode, aligned = raw["mode"], raw.get("align_corners", False)
    reads = 0
    for out_index in itertools.product(*(range(m) for m in sizes)):
        cells = 1
        for n, m, j in zip(spatial, sizes, out_index):
            if mode != "nearest" and n != m:
                cells *= len({i for i, _ in taps(n, m, j, mode, aligned)})
        reads += cells
    assert counts.connections == dims[0] * reads
    written, current = 0, list(spatial)
    for axis, m in enumerate(sizes):
        if current[axis] != m:
            current[axis] = m
            written += dims[0] * math.prod(current)
    expected = Work() if mode == "nearest" else Work(additions=2 * written, multiplications=written)
    assert layer.work(x, counts.out_shape) == expected
    assert counts.flops == expected.total


def test_hand_computed_linear_1d():
    """[0, 1] linear ×2 (align_corners false): σ = −¼ → 0, ¼, ¾, 5/4 (its upper neighbour
    is the last cell again), so y = 0, ¼, ¾, 1; with align_corners to 3 cells, σ = 0, ½,
    1: y = 0, ½, 1.  Connections 2 + 2 + 2 + 1 = 7; work one pass of 4 elements, each
    x₀ + λ·(x₁ − x₀): 8 additions (a subtraction counts as one) + 4 multiplies = 12 FLOPs."""
    x = np.array([[[0.0, 1.0]]])
    layer = build(REGISTRY["upsample"], {"scale": 2, "mode": "linear"})
    np.testing.assert_allclose(layer.forward(x, {}, Ops()), [[[0, 0.25, 0.75, 1]]], **TOL)
    counts = layer.counts(Shape.of(1, 2))
    assert (counts.connections, counts.flops) == (7, 12)
    assert layer.work(Shape.of(1, 2), counts.out_shape) == Work(additions=8, multiplications=4)
    aligned = build(REGISTRY["upsample"], {"size": 3, "mode": "linear", "align_corners": True})
    np.testing.assert_allclose(aligned.forward(x, {}, Ops()), [[[0, 0.5, 1]]], **TOL)
    assert aligned.counts(Shape.of(1, 2)).connections == 2 + 2 + 1


def test_hand_computed_bilinear_counts():
    """3×4×5 bilinear ×2: passes write 3·8·5 = 120 then 3·8·10 = 240 elements: 360
    multiplies and 720 additions, 1,080 FLOPs.  Connections per axis 2m − ⌊(s + 1)/2⌋:
    16 − 1 = 15 and 20 − 1 = 19, so 3·15·19 = 855."""
    layer = build(REGISTRY["upsample"], {"scale": 2, "mode": "bilinear"})
    counts = layer.counts(Shape.of(3, 4, 5))
    assert counts.out_shape == Shape.of(3, 8, 10)
    assert layer.work(Shape.of(3, 4, 5), counts.out_shape) == Work(additions=720, multiplications=360)
    assert (counts.flops, counts.connections, counts.activations) == (1080, 855, 240)


def test_nearest_hand_cases():
    """Nearest 2× on rows 0..2 of a 3×2 map repeats each cell; 10 → 6 cells reads
    ⌊j·10/6⌋ = 0, 1, 3, 5, 6, 8; one connection per output, no work."""
    x = np.arange(6, dtype=float).reshape(1, 1, 3, 2)
    y = build(REGISTRY["upsample"], {"scale": [2, 1]}).forward(x, {}, Ops())
    np.testing.assert_array_equal(y[0, 0], [[0, 1], [0, 1], [2, 3], [2, 3], [4, 5], [4, 5]])
    line = np.arange(10, dtype=float).reshape(1, 1, 10)
    layer = build(REGISTRY["upsample"], {"size": 6})
    np.testing.assert_array_equal(layer.forward(line, {}, Ops())[0, 0], [0, 1, 3, 5, 6, 8])
    counts = layer.counts(Shape.of(1, 10))
    assert (counts.connections, counts.flops) == (6, 0)


def test_3d_trilinear_kept_axis_is_a_copy():
    """2×3×4×5 trilinear to size [3, 8, 5]: the depth and width axes keep their size, so
    only one pass (over the height) runs: 2·3·8·5 = 240 elements, 240 multiplies and 480
    additions; along the kept axes each output reads one cell."""
    layer = build(REGISTRY["upsample"], {"size": [3, 8, 5], "mode": "trilinear"})
    x = Shape.of(2, 3, 4, 5)
    counts = layer.counts(x)
    assert layer.work(x, counts.out_shape) == Work(additions=480, multiplications=240)
    # height 4 → 8: 2·8 − 1 = 15 edges; depth 3 and width 5 kept
    assert counts.connections == 2 * 3 * 15 * 5


@pytest.mark.parametrize("raw, dims, error, fragment", [
    ({"scale": 2, "size": 4}, None, SpecError, "not both"),
    ({}, None, SpecError, "missing 'scale'"),
    ({"scale": 2, "align_corners": True}, None, SpecError, "linear modes only"),
    ({"scale": 2, "mode": "bilinear"}, (3, 8), ShapeError, "mode bilinear interpolates a 2-D map; "
                                                          "the input 3×8 is 1-D (use mode linear)"),
    ({"scale": 2, "mode": "linear"}, (1, 4, 4, 4), ShapeError, "use mode trilinear"),
    ({"scale": [2, 2]}, (1, 4, 4, 4), ShapeError, "scale [2, 2] gives 2 values for a 3-D input"),
    ({"size": [3]}, (1, 4, 4), ShapeError, "size [3] gives 1 value for a 2-D input"),
    ({"scale": 1.5}, None, SpecError, "expected an integer"),
])
def test_bad_upsample_is_one_line(raw, dims, error, fragment):
    """Attribute mistakes fail when the layer is built, rank mistakes when it meets its
    input; each message is one line saying what was expected."""
    with pytest.raises(error) as caught:
        layer = build(REGISTRY["upsample"], raw)
        layer.out_shape(Shape(dims))
    assert fragment in caught.value.message and "\n" not in caught.value.message


# --- receptive fields --------------------------------------------------------------------

def field_after(raw, dims):
    model = build_model({"name": "u", "input": list(dims),
                         "layers": [dict(raw, name="up", type="upsample")]})
    return receptive_fields(model)[-1]


@pytest.mark.parametrize("raw, n, rf, jump, start", [
    ({"scale": 2}, 6, 1, Fraction(1, 2), Fraction(-1, 4)),           # the mean of 0 and ½
    ({"scale": 3}, 6, 1, Fraction(1, 3), Fraction(-1, 3)),
    ({"size": 4}, 6, 1, Fraction(3, 2), Fraction(-1, 4)),            # q = 3/2, b = 2
    ({"scale": 2, "mode": "linear"}, 6, 2, Fraction(1, 2), Fraction(-1, 4)),  # σ(0) = −¼
    ({"size": 5, "mode": "linear", "align_corners": True}, 3, 2, Fraction(1, 2), 0),
    ({"size": 3, "mode": "linear"}, 9, 1, 3, 1),                      # σ(j) = 3j + 1: cells
    ({"size": 3, "mode": "linear"}, 6, 2, 2, Fraction(1, 2)),         # σ(j) = 2j + ½
    ({"size": 6}, 6, 1, 1, 0),                                        # kept: identity
])
def test_field_hand_cases(raw, n, rf, jump, start):
    """Nearest to m from n (q = n/m = a/b): jump q, start −(b − 1)/(2b), rf kept.  Linear:
    jump q (align_corners: (n − 1)/(m − 1)), start σ(0) unclamped, rf + 1 when some output
    mixes two cells (shrinking by an odd factor samples cell centres: no growth)."""
    f = field_after(raw, (1, n))
    assert (f.rf, f.jump, f.start) == ((rf,), (jump,), (start,))


@given(upsample_cases(max_size=9))
def test_field_bounds_what_each_output_reads(case):
    """Per axis, impulses through the real forward give the cells each output reads (with
    a nonzero weight).  Every output's span fits in rf, some output's span is rf, and its
    centre lies within the stated distance of the grid (start + j·jump): (b − 1)/(2b) for
    nearest (q = a/b), ½ for the linear modes; nearest's offsets average 0 over a period."""
    raw, dims, _ = case
    rank = len(dims) - 1
    for axis in range(rank):
        n = dims[1 + axis]
        sub = {k: (v[axis] if isinstance(v, list) else v) for k, v in raw.items()}
        sub["mode"] = "linear" if raw["mode"] != "nearest" else "nearest"
        layer = build(REGISTRY["upsample"], sub)
        impulses = np.eye(n).reshape(n, 1, n)
        out = layer.forward(impulses, {}, Ops())[:, 0, :]     # (source cell, output)
        f = field_after(sub, (1, n))
        m = out.shape[1]
        spans, offsets = [], []
        for j in range(m):
            cells = np.flatnonzero(out[:, j] != 0)
            spans.append(cells.max() - cells.min() + 1)
            offsets.append(Fraction(int(cells.min() + cells.max()), 2) - (f.start[0] + j * f.jump[0]))
        assert max(spans) == f.rf[0]
        q = Fraction(n, m)
        bound = Fraction(q.denominator - 1, 2 * q.denominator) if sub["mode"] == "nearest" else Fraction(1, 2)
        if n == m:
            bound = 0
        assert max(abs(o) for o in offsets) <= bound, (sub, n, offsets)
        if sub["mode"] == "nearest" and n != m and m % q.denominator == 0:
            assert sum(offsets[:q.denominator]) == 0


FORWARD_CASES = {"upsample": test_upsample_matches_reference}
