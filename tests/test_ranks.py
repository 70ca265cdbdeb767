"""Maps of 1 and 3 spatial axes (C×L audio, C×D×H×W video): every windowed and pooling
layer against a loop reference of its definition (tests/reference.py), the engine's
shape, params and MACs against what the NumPy forward produces and performs, a 1×L 2-D
layer against the 1-D one, hand-computed figures, symbolic sizes, the CLI and memory."""
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from . import reference as ref
from .helpers import run_cli, write_spec
from .strategies import axis_case, small
from .test_kernels import TOL, run
from archcalc.analyses.receptive import receptive_fields
from archcalc.analyses.symbolic import analyse_symbolic, evaluate
from archcalc.core.engine import propagate
from archcalc.core.report import analyse
from archcalc.core.shapes import Shape
from archcalc.layers import REGISTRY
from archcalc.layers.npkit import trainable_count
from archcalc.numeric.verify import verify
from archcalc.spec.build import build_model
from archcalc.spec.fields import build

RANKS = st.sampled_from([1, 3])


def _axes(draw, rank, **kw):
    """One axis_case per spatial axis; 3-D sizes stay small for the loop references."""
    extra = 6 if rank == 1 else 2
    return [draw(axis_case(max_extra=extra, **kw)) for _ in range(rank)]


@st.composite
def nd_conv_cases(draw):
    rank = draw(RANKS)
    groups = draw(small)
    cin, cout = groups * draw(small), groups * draw(small)
    axes = _axes(draw, rank)
    raw = {"filters": cout, "kernel": [a[0] for a in axes], "stride": [a[1] for a in axes],
           "dilation": [a[2] for a in axes], "groups": groups, "bias": draw(st.booleans()),
           "padding": [list(a[3]) for a in axes]}
    return raw, (cin,) + tuple(a[4] for a in axes), [a[3] for a in axes], draw(st.integers(1, 2))


@st.composite
def nd_pool_cases(draw, dilation=False):
    rank = draw(RANKS)
    axes = _axes(draw, rank, max_dilation=2 if dilation else 1)
    raw = {"kernel": [a[0] for a in axes], "stride": [a[1] for a in axes],
           "padding": [list(a[3]) for a in axes], "ceil_mode": draw(st.booleans())}
    if dilation:
        raw["dilation"] = [a[2] for a in axes]
    return raw, (draw(small),) + tuple(a[4] for a in axes), [a[3] for a in axes], draw(st.integers(1, 2))


@settings(max_examples=40, deadline=None)
@given(nd_conv_cases())
def test_conv_nd_matches_reference(case):
    """1-D and 3-D conv: output, shape and MACs (``run``), and the params it holds."""
    raw, dims, pads, batch = case
    layer, x, w, y, _ = run("conv", raw, dims, batch)
    assert trainable_count(w) == layer.params(Shape(dims))
    expected = ref.conv_nd(x, w["weight"], w.get("bias"), raw["stride"], pads, raw["dilation"],
                           raw["groups"])
    np.testing.assert_allclose(y, expected, **TOL)


@settings(max_examples=40, deadline=None)
@given(nd_pool_cases(dilation=True))
def test_maxpool_nd_matches_reference(case):
    raw, dims, pads, batch = case
    _, x, _, y, _ = run("maxpool", raw, dims, batch)
    expected = ref.pool_nd(x, raw["kernel"], raw["stride"], pads, raw["dilation"],
                           raw["ceil_mode"], "max")
    np.testing.assert_allclose(y, expected, **TOL)


@settings(max_examples=40, deadline=None)
@given(nd_pool_cases(), st.booleans())
def test_avgpool_nd_matches_reference(case, include_pad):
    raw, dims, pads, batch = case
    raw = dict(raw, count_include_pad=include_pad)
    _, x, _, y, _ = run("avgpool", raw, dims, batch)
    expected = ref.pool_nd(x, raw["kernel"], raw["stride"], pads, [1] * len(pads),
                           raw["ceil_mode"], "avg", include_pad)
    np.testing.assert_allclose(y, expected, **TOL)


@settings(max_examples=30, deadline=None)
@given(RANKS, small, st.data())
def test_adaptive_and_global_pooling_nd_match_reference(rank, c, data):
    sizes = [data.draw(st.integers(1, 7)) for _ in range(rank)]
    out = [data.draw(st.integers(1, 7)) for _ in range(rank)]
    _, x, _, y, _ = run("adaptive_avgpool", {"output": out}, (c, *sizes), 2)
    np.testing.assert_allclose(y, ref.adaptive_avgpool_nd(x, out), **TOL)
    _, x, _, y, _ = run("gap", {}, (c, *sizes), 2)
    np.testing.assert_allclose(y, ref.adaptive_avgpool_nd(x, [1] * rank), **TOL)


@settings(max_examples=20, deadline=None)
@given(RANKS, small, st.data())
def test_batchnorm_nd_matches_reference(rank, c, data):
    dims = (c,) + tuple(data.draw(st.integers(1, 5)) for _ in range(rank))
    layer, x, w, y, _ = run("batchnorm", {}, dims, 2)
    expected = ref.batchnorm(x, w["gamma"], w["beta"], w["running_mean"], w["running_var"], layer.eps)
    np.testing.assert_allclose(y, expected, **TOL)


# --- a 1×L 2-D layer is the 1-D layer -------------------------------------------------------

@st.composite
def line_cases(draw):
    """A conv, max or average pool on C×L, and the same layer written for a C×1×L map."""
    kind = draw(st.sampled_from(["conv", "maxpool", "avgpool"]))
    k, s, d, (pb, pa), length = draw(axis_case(max_dilation=2 if kind != "avgpool" else 1))
    one = {"kernel": k, "stride": s, "padding": [[pb, pa]]}
    two = {"kernel": [1, k], "stride": [1, s], "padding": [[0, 0], [pb, pa]]}
    if kind == "conv":
        extra = {"filters": draw(small), "bias": draw(st.booleans()),
                 "activation": draw(st.sampled_from([None, "relu", "softmax"]))}
        one.update(extra)
        two.update(extra)
    if kind != "avgpool":
        one["dilation"], two["dilation"] = d, [1, d]
    if kind != "conv":
        one["ceil_mode"] = two["ceil_mode"] = draw(st.booleans())
    return kind, one, two, draw(small), length, draw(st.integers(1, 3))


@settings(max_examples=60, deadline=None)
@given(line_cases())
def test_a_one_by_l_map_gives_the_figures_of_the_1d_layer(case):
    kind, one, two, c, length, batch = case
    x1, x2 = Shape.of(c, length), Shape.of(c, 1, length)
    l1, l2 = build(REGISTRY[kind], one), build(REGISTRY[kind], two)
    a, b = l1.counts(x1), l2.counts(x2)
    assert b.out_shape.dims == (a.out_shape.dims[0], 1) + a.out_shape.dims[1:]
    assert (a.params, a.connections, a.macs, a.flops, a.activations) == \
        (b.params, b.connections, b.macs, b.flops, b.activations)
    # memory too, but for the average pool's divisors: the 2-D forward holds the unit
    # axis's count (one more element) while it builds them
    assert l2.workspace(x2, batch) - l1.workspace(x1, batch) == (1 if kind == "avgpool" else 0)
    g1, g2 = l1.geometry(x1), l2.geometry(x2)
    assert (g1.dropped, g1.extent, g1.span) == (g2.dropped[1:], g2.extent[1:], g2.span[1:])
    _, x, w, y1, _ = run(kind, one, (c, length), batch)
    weights2 = {k: (v[:, :, None, :] if k == "weight" else v) for k, v in w.items()}
    from archcalc.numeric.tally import Ops

    y2 = l2.forward(x[:, :, None, :], weights2, Ops())
    np.testing.assert_allclose(y2[:, :, 0, :], y1, **TOL)


def test_a_one_by_l_model_has_the_receptive_fields_of_the_1d_model():
    layers = [{"name": "c1", "type": "conv", "filters": 4, "kernel": 9, "stride": 2, "padding": 3},
              {"name": "p1", "type": "maxpool", "kernel": 3, "stride": 2, "ceil_mode": True},
              {"name": "c2", "type": "conv", "filters": 4, "kernel": 3, "dilation": 2}]
    as_2d = [dict(l, kernel=[1, l["kernel"]], stride=[1, l.get("stride", 1)],
                  padding=[0, l.get("padding", 0)], **({"dilation": [1, l["dilation"]]} if "dilation" in l else {}))
             for l in layers]
    f1 = receptive_fields(build_model({"name": "a", "input": [2, 101], "layers": layers}))
    f2 = receptive_fields(build_model({"name": "b", "input": [2, 1, 101], "layers": as_2d}))
    assert [(f.rf, f.jump, f.start) for f in f1] == \
        [(f.rf[1:], f.jump[1:], f.start[1:]) for f in f2]
    # independent arithmetic: rf 9 → 9 + 2·2 = 13 → 13 + 4·4 = 29; jumps 2, 4, 4
    assert [f.rf for f in f1] == [(9,), (13,), (29,)] and [f.jump for f in f1] == [(2,), (4,), (4,)]


# --- hand-computed figures ------------------------------------------------------------------

M5_HEAD = {"name": "m5", "input": [1, 16000], "layers": [
    {"name": "conv1", "type": "conv", "filters": 128, "kernel": 80, "stride": 4},
    {"name": "pool1", "type": "maxpool", "kernel": 4}]}
C3D_HEAD = {"name": "c3d", "input": [3, 16, 112, 112], "layers": [
    {"name": "conv1a", "type": "conv", "filters": 64, "kernel": 3, "padding": 1},
    {"name": "pool1", "type": "maxpool", "kernel": [1, 2, 2]},
    {"name": "conv2a", "type": "conv", "filters": 128, "kernel": [3, 3, 3], "padding": [1, 1, 1]},
    {"name": "pool2", "type": "maxpool", "kernel": 2}]}


def test_m5_first_layers_by_hand():
    """M5 (Dai et al. 2017): 128 filters of 80 taps, stride 4, on 16,000 samples."""
    conv, pool = propagate(build_model(M5_HEAD))
    length = (16000 - 80) // 4 + 1                       # 3,981
    assert conv.counts.out_shape.dims == (128, 3981) == (128, length)
    assert conv.counts.params == 128 * 80 + 128 == 10_368
    assert conv.counts.macs == 128 * 80 * 3981 == 40_765_440
    assert pool.counts.out_shape.dims == (128, 3981 // 4) == (128, 995)
    assert pool.counts.flops == 128 * 995 * 3        # 3 comparisons per window of 4


def test_c3d_first_layers_by_hand():
    """C3D (Tran et al. 2015): 3×3×3 convolutions, pool1 1×2×2, pool2 2×2×2."""
    conv1, pool1, conv2, pool2 = propagate(build_model(C3D_HEAD))
    assert conv1.counts.out_shape.dims == (64, 16, 112, 112)
    assert conv1.counts.params == 64 * 3 * 27 + 64 == 5_248
    assert conv1.counts.macs == 64 * 3 * 27 * 16 * 112 * 112 == 1_040_449_536
    assert pool1.counts.out_shape.dims == (64, 16, 56, 56)
    assert conv2.counts.params == 128 * 64 * 27 + 128 == 221_312
    assert conv2.counts.macs == 128 * 64 * 27 * 16 * 56 * 56
    assert pool2.counts.out_shape.dims == (128, 8, 28, 28)
    assert pool2.counts.connections == 8 * 128 * 8 * 28 * 28


def test_kernel_of_the_wrong_rank_is_one_line_naming_the_layer(tmp_path, capsys):
    path = write_spec(tmp_path, """
        name: audio
        input: [1, 400]
        layers:
          - {name: c1, type: conv, filters: 4, kernel: [3, 3]}
        """)
    status, out, err = run_cli(capsys, "table", str(path))
    assert status == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "model.yaml:4" in err and "'c1'" in err and "kernel [3, 3] gives 2 values for a 1-D input" in err


# --- symbolic sizes and size scans ----------------------------------------------------------

def test_symbolic_1d_formulas_evaluate_to_the_integer_figures():
    model = build_model(M5_HEAD)
    sym = analyse_symbolic(model)
    assert str(sym.input_shape) == "1×L"
    for length in (16000, 8000, 333):
        rows = analyse(model, Shape.of(1, length)).layers
        for s, r in zip(sym.layers, rows):
            assert evaluate(s.macs, length) == r.macs
            assert tuple(evaluate(d, length) for d in s.out_shape.dims) == r.out_shape.dims
    assert sym.min_input == (92,)    # pool1 needs 4 of conv1's outputs: (L − 80)//4 + 1 ≥ 4


def test_symbolic_3d_formulas_evaluate_to_the_integer_figures():
    model = build_model(C3D_HEAD)
    sym = analyse_symbolic(model)
    assert str(sym.input_shape) == "3×D×H×W"
    for d, h, w in ((16, 112, 112), (8, 64, 96), (3, 5, 7)):
        rows = analyse(model, Shape.of(3, d, h, w)).layers
        for s, r in zip(sym.layers, rows):
            assert evaluate(s.macs, d, h, w) == r.macs
    assert sym.min_input == (2, 4, 4)


def test_sizes_scan_lengths_and_3d_pairs_keep_the_depth(tmp_path, capsys):
    path = tmp_path / "m5.yaml"
    path.write_text(json.dumps(M5_HEAD), encoding="utf-8")
    status, out, _ = run_cli(capsys, "sizes", str(path), "--min", "80", "--max", "110", "--format", "json")
    scan = json.loads(out)
    assert status == 0 and scan["smallest_valid"] == 92 and scan["valid"] == list(range(92, 111))
    # exact: (L − 80) divisible by 4 and the 1 + (L − 80)/4 outputs by 4
    assert scan["exact"] == [l for l in range(92, 111) if (l - 80) % 4 == 0 and ((l - 80) // 4 + 1) % 4 == 0]
    status, _, err = run_cli(capsys, "sizes", str(path), "--height", "1:4", "--width", "1:4")
    assert status == 2 and "one spatial axis" in err
    video = tmp_path / "c3d.yaml"
    video.write_text(json.dumps(C3D_HEAD), encoding="utf-8")
    status, out, _ = run_cli(capsys, "sizes", str(video), "--height", "8:9", "--width", "8:8", "--format", "json")
    assert status == 0 and json.loads(out)["valid"] == [[16, 8, 8], [16, 9, 8]]


def test_cli_table_of_a_1d_model_with_another_input(tmp_path, capsys):
    path = tmp_path / "m5.yaml"
    path.write_text(json.dumps(M5_HEAD), encoding="utf-8")
    status, out, _ = run_cli(capsys, "table", str(path), "--input", "1,8000", "--format", "json")
    rows = json.loads(out)["layers"]
    assert status == 0 and rows[0]["output"] == [128, (8000 - 80) // 4 + 1]
    status, _, err = run_cli(capsys, "table", str(path), "--input", "1,80,80")
    assert status == 2 and "--input must be C,L" in err


# --- memory: verify's prediction on 1-D and 3-D maps ----------------------------------------

@st.composite
def nd_memory_models(draw):
    """A conv, pool and pooling head on a 1-D or 3-D input of 2^16..2^17 elements, large
    enough for verify's memory check in float64."""
    rank = draw(RANKS)
    c = draw(st.sampled_from([1, 3, 8]))
    cells = draw(st.integers(1 << 16, 1 << 17)) // c
    if rank == 1:
        sizes = [cells]
    else:  # 8 frames: a stride-2 conv leaves at least 3, enough for the pool of 2
        side = max(8, round((cells / 8) ** 0.5))
        sizes = [8, side, max(8, cells // (8 * side))]
    k = draw(st.integers(1, 3))
    layers = [{"name": "c", "type": "conv", "filters": draw(st.integers(1, 8)), "kernel": k,
               "padding": draw(st.integers(0, k - 1)), "stride": draw(st.integers(1, 2)),
               "activation": draw(st.sampled_from([None, "relu", "softmax"]))},
              {"name": "p", "type": draw(st.sampled_from(["maxpool", "avgpool"])), "kernel": 2,
               "padding": draw(st.integers(0, 1)), "ceil_mode": draw(st.booleans())},
              {"name": "a", "type": "adaptive_avgpool", "output": draw(st.integers(1, 3))},
              {"name": "g", "type": "gap"}]
    return {"name": "nd", "input": [c] + sizes, "layers": layers}, draw(st.integers(1, 2))


@settings(max_examples=15, deadline=None)
@given(nd_memory_models())
def test_verify_passes_on_1d_and_3d_models(case):
    doc, batch = case
    result = verify(build_model(doc), batch=batch, dtype="float64")
    assert result.ok, result.disagreements()
