"""Padding in 1-D, 2-D and 3-D (constant, reflect, replicate, circular): hand cases, a
reference written from PyTorch's index rules, shapes and connections, the limits PyTorch
puts on reflect and circular padding, and the receptive field's shift."""
import itertools

import numpy as np
import pytest
from hypothesis import given

from archcalc.analyses.receptive import receptive_fields
from archcalc.core.shapes import Shape
from archcalc.core.work import Work
from archcalc.errors import ShapeError, SpecError
from archcalc.layers import REGISTRY
from archcalc.numeric.tally import Ops
from archcalc.spec.build import build_model
from archcalc.spec.fields import build

from .strategies import pad_cases


def sides(padding, rank):
    """((before, after), …) from p, [p, …] or [[before, after], …], independently of archcalc."""
    if isinstance(padding, int):
        return [(padding, padding)] * rank
    return [tuple(p) if isinstance(p, list) else (p, p) for p in padding]


def source(j, n, before, mode):
    """The input cell output j copies along an axis of n cells (None: the fill value).
    reflect mirrors about the edge cell without repeating it; replicate clamps; circular
    wraps."""
    i = j - before
    if 0 <= i < n:
        return i
    if mode == "constant":
        return None
    if mode == "replicate":
        return min(max(i, 0), n - 1)
    if mode == "circular":
        return i % n
    return -i if i < 0 else 2 * (n - 1) - i  # reflect (pad < n)


def reference(x, pads, mode, value):
    spatial = x.shape[2:]
    out = [n + b + a for n, (b, a) in zip(spatial, pads)]
    y = np.full(x.shape[:2] + tuple(out), value, dtype=float)
    for j in itertools.product(*(range(m) for m in out)):
        i = [source(jj, n, b, mode) for jj, n, (b, _) in zip(j, spatial, pads)]
        if None not in i:
            y[(slice(None), slice(None)) + j] = x[(slice(None), slice(None)) + tuple(i)]
    return y


@given(pad_cases())
def test_pad_matches_reference(case):
    """Every mode and padding form in 1-D, 2-D and 3-D: the output shape is the engine's,
    the values the reference's; no params, MACs or work; connections count the outputs
    that copy an input cell (constant: the input elements; the other modes: every output)."""
    raw, dims, batch = case
    layer = build(REGISTRY["pad"], raw)
    x = np.random.default_rng(0).standard_normal((batch,) + tuple(dims))
    ops = Ops()
    y = layer.forward(x, {}, ops)
    counts = layer.counts(Shape(tuple(dims)))
    assert y.shape == (batch,) + tuple(counts.out_shape.dims)
    pads = sides(raw["padding"], len(dims) - 1)
    np.testing.assert_array_equal(y, reference(x, pads, raw["mode"], raw.get("value", 0.0)))
    assert (ops.macs, counts.macs, counts.params, counts.flops) == (0, 0, 0, 0)
    assert layer.work(Shape(tuple(dims)), counts.out_shape) == Work()
    copies = np.prod(dims) if raw["mode"] == "constant" else counts.out_shape.numel
    assert counts.connections == copies


def test_hand_cases():
    """[1, 2, 3] padded by (2, 1): constant 0 gives 0 0 1 2 3 0; reflect 3 2 1 2 3 2;
    replicate 1 1 1 2 3 3; circular 2 3 1 2 3 1.  Connections: 3 (constant) or 6."""
    x = np.array([[[1.0, 2.0, 3.0]]])
    expected = {"constant": [0, 0, 1, 2, 3, 0], "reflect": [3, 2, 1, 2, 3, 2],
                "replicate": [1, 1, 1, 2, 3, 3], "circular": [2, 3, 1, 2, 3, 1]}
    for mode, row in expected.items():
        layer = build(REGISTRY["pad"], {"padding": [[2, 1]], "mode": mode})
        np.testing.assert_array_equal(layer.forward(x, {}, Ops())[0, 0], row)
        assert layer.counts(Shape.of(1, 3)).connections == (3 if mode == "constant" else 6)
    filled = build(REGISTRY["pad"], {"padding": 1, "value": -1})
    np.testing.assert_array_equal(filled.forward(x, {}, Ops())[0, 0], [-1, 1, 2, 3, -1])


def test_2d_and_3d_shapes():
    """3×4×5 with [[1, 2], [0, 3]] → 3×7×8; a 2×3×4×5 clip with padding 1 → 2×5×6×7."""
    assert build(REGISTRY["pad"], {"padding": [[1, 2], [0, 3]]}).out_shape(Shape.of(3, 4, 5)) == Shape.of(3, 7, 8)
    assert build(REGISTRY["pad"], {"padding": 1}).out_shape(Shape.of(2, 3, 4, 5)) == Shape.of(2, 5, 6, 7)


@pytest.mark.parametrize("raw, dims, error, fragment", [
    ({"padding": 3, "mode": "reflect"}, (1, 3), ShapeError, "reflect padding 3 must be smaller than the size it mirrors (3"),
    ({"padding": [[0, 4]], "mode": "circular"}, (1, 3), ShapeError, "circular padding 4 must be at most the size"),
    ({"padding": 1, "mode": "reflect", "value": 1}, None, SpecError, "value fills mode constant only"),
    ({"padding": "same"}, None, SpecError, "not a word"),
    ({"padding": -1}, None, SpecError, "expected an integer ≥ 0"),
    ({"padding": [1, 1]}, (1, 4), ShapeError, "padding [1, 1] gives 2 values for a 1-D input"),
    ({"padding": 1, "mode": "symmetric"}, None, SpecError, "expected one of constant, reflect"),
])
def test_bad_pad_is_one_line(raw, dims, error, fragment):
    with pytest.raises(error) as caught:
        build(REGISTRY["pad"], raw).out_shape(Shape(dims))
    assert fragment in caught.value.message and "\n" not in caught.value.message


def test_pad_moves_the_field_start():
    """Padding by 2 before: output 0 sits on input −2; a 3-wide conv after it sees
    pixels −2..0, centred at −1 (the padded conv's usual start)."""
    model = build_model({"name": "p", "input": [1, 9, 9], "layers": [
        {"name": "pad", "type": "pad", "padding": [[2, 0], [1, 1]], "mode": "reflect"},
        {"name": "conv", "type": "conv", "filters": 1, "kernel": 3}]})
    pad, conv = receptive_fields(model)
    assert (pad.rf, pad.jump, pad.start) == ((1, 1), (1, 1), (-2, -1))
    assert (conv.rf, conv.start) == ((3, 3), (-1, 0))


FORWARD_CASES = {"pad": test_pad_matches_reference}
