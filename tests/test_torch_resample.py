"""PyTorch CPU as an independent oracle for upsample, conv_transpose and pad (float64), in
1-D, 2-D and 3-D, on random configurations.

Optional: ``pip install -e '.[torch]'``.  Without torch these tests are skipped, visibly.
"""
import numpy as np
import pytest
from hypothesis import given, settings

torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install -e '.[torch]' runs the oracle tests")
F = torch.nn.functional

from archcalc.core.shapes import Shape  # noqa: E402
from archcalc.layers import REGISTRY  # noqa: E402
from archcalc.numeric.tally import Ops  # noqa: E402
from archcalc.spec.fields import build  # noqa: E402
from .strategies import pad_cases, transpose_cases, upsample_cases  # noqa: E402

TOL = dict(rtol=1e-10, atol=1e-10)


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def per_axis(value, rank):
    return tuple(value) if isinstance(value, list) else (value,) * rank


def ours(kind, raw, dims, batch, seed=0):
    layer = build(REGISTRY[kind], raw)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch,) + tuple(dims))
    weights = layer.init_weights(Shape(tuple(dims)), rng, np.float64)
    return layer, x, weights, layer.forward(x, weights, Ops())


@settings(max_examples=60)
@given(upsample_cases(max_size=9))
def test_upsample_matches_interpolate(case):
    """F.interpolate with the same mode, scale_factor (integers) or size, align_corners."""
    raw, dims, batch = case
    layer, x, _, y = ours("upsample", raw, dims, batch)
    rank = len(dims) - 1
    kw = {"mode": raw["mode"]}
    if "scale" in raw:
        kw["scale_factor"] = tuple(float(s) for s in per_axis(raw["scale"], rank))
    else:
        kw["size"] = per_axis(raw["size"], rank)
    if raw["mode"] != "nearest":
        kw["align_corners"] = raw.get("align_corners", False)
    np.testing.assert_allclose(y, F.interpolate(t(x), **kw).numpy(), **TOL)


def test_nearest_index_in_single_precision():
    """PyTorch computes nearest's source index in the tensor's precision: for float32, the
    scale 2016/142 is rounded to single precision and output 71 reads cell 1007, where
    ⌊71·2016/142⌋ = ⌊1008⌋ = 1008 (archcalc, and PyTorch in float64)."""
    line = np.arange(2016, dtype=np.float64).reshape(1, 1, 2016)
    exact = build(REGISTRY["upsample"], {"size": 142}).forward(line, {}, Ops())[0, 0]
    assert exact[71] == 1008 == F.interpolate(t(line), size=142, mode="nearest")[0, 0, 71]
    single = F.interpolate(t(line.astype(np.float32)), size=142, mode="nearest")[0, 0]
    assert single[71] == 1007


@settings(max_examples=60)
@given(transpose_cases(max_size=5))
def test_conv_transpose_matches_torch(case):
    """F.conv_transpose1d/2d/3d with weights (C_in, C_out/groups, *k), stride, padding,
    output_padding, groups and dilation; then the folded activation."""
    raw, dims, batch = case
    layer, x, w, y = ours("conv_transpose", raw, dims, batch)
    rank = len(dims) - 1
    fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[rank - 1]
    expected = fn(t(x), t(w["weight"]), t(w["bias"]) if "bias" in w else None,
                  stride=per_axis(raw["stride"], rank), padding=per_axis(raw["padding"], rank),
                  output_padding=per_axis(raw["output_padding"], rank), groups=raw["groups"],
                  dilation=per_axis(raw["dilation"], rank))
    expected = {None: expected, "relu": F.relu(expected), "tanh": torch.tanh(expected)}[raw["activation"]]
    np.testing.assert_allclose(y, expected.numpy(), **TOL)


@settings(max_examples=60)
@given(pad_cases())
def test_pad_matches_torch(case):
    """F.pad with the same widths (last axis first, as F.pad takes them) and mode."""
    raw, dims, batch = case
    layer, x, _, y = ours("pad", raw, dims, batch)
    pads = layer.pads(Shape(tuple(dims)))
    flat = tuple(v for before, after in reversed(pads) for v in (before, after))
    kw = {"value": float(raw.get("value", 0.0))} if raw["mode"] == "constant" else {}
    np.testing.assert_array_equal(y, F.pad(t(x), flat, mode=raw["mode"], **kw).numpy())


@pytest.mark.parametrize("groups, rank", [(1, 2), (2, 2), (3, 1), (1, 3)])
def test_flopcounter_training_figures_of_conv_transpose_equal_the_tool(groups, rank):
    """torch.utils.flop_counter on a transposed convolution after a conv (so its input
    needs a gradient), forward and backward: `table --train --convention flopcounter`
    gives the tool's total, its ``groups``-fold count of the weights' gradient included."""
    from torch.utils.flop_counter import FlopCounterMode

    from archcalc.analyses.training import analyse_training, with_training
    from archcalc.conventions import apply, apply_training
    from archcalc.core.report import analyse
    from archcalc.spec.build import build_model

    sizes = [5, 6, 4][:rank]
    doc = {"name": "t", "input": [6] + sizes, "layers": [
        {"name": "c", "type": "conv", "filters": 6, "kernel": 1},
        {"name": "u", "type": "conv_transpose", "filters": 3 * groups, "kernel": 3, "stride": 2,
         "padding": 1, "output_padding": 1, "groups": groups}]}
    conv = (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)[rank - 1](6, 6, 1)
    up = (torch.nn.ConvTranspose1d, torch.nn.ConvTranspose2d, torch.nn.ConvTranspose3d)[rank - 1](
        6, 3 * groups, 3, 2, padding=1, output_padding=1, groups=groups)
    with FlopCounterMode(display=False) as counter:
        up(conv(torch.randn(2, 6, *sizes))).sum().backward()
    model = build_model(doc)
    report = apply(analyse(model, batch=2), "flopcounter")
    report = apply_training(with_training(report, analyse_training(model, batch=2), "sgd"), "flopcounter")
    assert sum(r.train_flops for r in report.training) == counter.get_total_flops()
