"""Receptive fields: known figures by hand, a tap-by-tap dependency mask, and impulses
through the numeric core's real forward."""
import json
from fractions import Fraction

import numpy as np
from hypothesis import assume, given, settings, strategies as st

from archcalc.core.shapes import pads_per_axis, per_axis

from archcalc.spec.build import build_model
from archcalc.spec.catalog import load
from archcalc.cli import main
from archcalc.core.engine import propagate
from archcalc.errors import ArchcalcError
from archcalc.analyses.receptive import receptive_fields

from .strategies import window_stacks


def fields_by_name(model, shape=None):
    return {f.name: f for f in receptive_fields(model, shape)}


def conv(name, k, **kw):
    return {"name": name, "type": "conv", "filters": 2, "kernel": k, **kw}


def test_three_stacked_3x3_see_7():
    """Each stride-1 3×3 adds 2 pixels: 1 + 2 + 2 + 2 = 7."""
    model = build_model({"name": "s", "input": [3, 7, 11],
                         "layers": [conv("a", 3), conv("b", 3), conv("c", 3)]})
    f = fields_by_name(model)
    assert [f[n].rf for n in "abc"] == [(3, 3), (5, 5), (7, 7)]
    assert f["c"].jump == (1, 1)
    assert f["c"].start == (3, 3)  # the first 7-wide field is pixels 0..6, centred at 3


def test_alexnet_conv1_and_pool5():
    """conv1 11×11/4: rf 11, jump 4, start 5.  pool1 3/2: 11 + 2·4 = 19, jump 8;
    conv2 5×5: 19 + 4·8 = 51; pool2: 51 + 2·8 = 67, jump 16; conv3..5 3×3:
    67 + 3·2·16 = 163; pool5: 163 + 2·16 = 195, jump 32."""
    f = fields_by_name(load("alexnet"))
    assert (f["conv1"].rf, f["conv1"].jump, f["conv1"].start) == ((11, 11), (4, 4), (5, 5))
    assert (f["pool1"].rf, f["pool1"].jump) == ((19, 19), (8, 8))
    assert (f["conv2"].rf, f["pool2"].rf, f["conv5"].rf) == ((51, 51), (67, 67), (163, 163))
    assert (f["pool5"].rf, f["pool5"].jump) == ((195, 195), (32, 32))
    # start: 5 → +1·4 (pool1) = 9 → conv2 (2 − 2)·8 = 9 → +1·8 = 17 → +1·16 = 33
    assert f["pool5"].start == (33, 33)
    assert f["fc6"].jump is None  # a dense layer's units lie on no grid


def test_vgg16_pool5_212_jump_32():
    """Block b (b = 1..5) of n_b 3×3 convs at jump 2^(b−1) adds 2·n_b·2^(b−1), its 2×2
    pool adds 2^(b−1): 1 + (4+1) + (8+2) + (24+4) + (48+8) + (96+16) = 212; jump 2^5."""
    f = fields_by_name(load("vgg16"))
    assert f["pool5"].rf == (1 + 5 + 10 + 28 + 56 + 112,) * 2 == (212, 212)
    assert f["pool5"].jump == (32, 32)


def test_dilation_and_same_padding_start():
    """A 3×3 conv with dilation 2 spans 5 pixels.  TensorFlow 'same' with k 3, s 2 pads
    (⌈n/2⌉ − 1)·2 + 3 − n in total, before = total // 2: n = 8 → 1 → 0 before, the first
    centre at 1; n = 7 → 2 → 1 before, the first centre at 0."""
    model = build_model({"name": "d", "input": [1, 8, 7], "layers": [
        conv("dil", 3, dilation=2), conv("same", 3, stride=2, padding="same")]})
    f = fields_by_name(model)
    assert f["dil"].rf == (5, 5) and f["dil"].start == (2, 2)
    # after dil: sizes 4×3, jump 1.  same on 4: total (2−1)·2+3−4 = 1, before 0;
    # on 3: total (2−1)·2+3−3 = 2, before 1.  start = 2 + (1 − before)·1
    assert f["same"].start == (3, 2)
    assert f["same"].rf == (7, 7) and f["same"].jump == (2, 2)


def test_concat_and_residual_take_the_largest_path():
    """Inception's concat sees as far as its 5×5 branch; a residual body of two 3×3
    convs (5) beats the identity shortcut (1)."""
    f = fields_by_name(load("inception_naive"))
    assert f["inception/concat"].rf == (5, 5) and f["inception/concat"].paths == 4
    model = build_model({"name": "r", "input": [2, 7, 11], "layers": [
        {"name": "res", "type": "residual", "body": [conv("a", 3, padding=1),
                                                       conv("b", 3, padding=1)]}]})
    f = fields_by_name(model)
    assert f["res"].rf == (5, 5) and f["res"].paths == 2


# --- the NumPy dependency mask -------------------------------------------------------------

def _same_before(n, k, s, d):
    """TensorFlow 'SAME' leading pad, written independently of archcalc.core.shapes."""
    ext = d * (k - 1) + 1
    out = -(-n // s)
    return max((out - 1) * s + ext - n, 0) // 2


def dependency_mask(model, unit):
    """Boolean H×W mask of the input pixels that can influence output ``unit`` (row, col)
    of the last layer: a one-hot mask pulled back through every window, tap by tap."""
    rows = propagate(model)
    layers = {n.path: n.layer for n in model.layer_nodes()}
    out = rows[-1].counts.out_shape
    mask = np.zeros(out.spatial, dtype=bool)
    mask[unit] = True
    for row in reversed(rows):
        layer = layers[row.name]
        (h, w), (oh, ow) = row.in_shape.spatial, row.counts.out_shape.spatial
        # the declared attributes, one per axis (a single int applies to both)
        kernel, stride, dil = (per_axis(getattr(layer, a, 1), 2, a) for a in ("kernel", "stride", "dilation"))
        if layer.padding == "same":
            pads = [_same_before(n, k, s, d) for n, k, s, d in
                    zip((h, w), kernel, stride, dil)]
        else:
            pads = [before for before, _ in pads_per_axis(layer.padding, 2)]
        inner = np.zeros((h, w), dtype=bool)
        for th in range(kernel[0]):
            r = np.arange(oh) * stride[0] + th * dil[0] - pads[0]
            rk = (r >= 0) & (r < h)
            for tw in range(kernel[1]):
                c = np.arange(ow) * stride[1] + tw * dil[1] - pads[1]
                ck = (c >= 0) & (c < w)
                inner[np.ix_(r[rk], c[ck])] |= mask[np.ix_(rk, ck)]
        mask = inner
    return mask


@settings(max_examples=60)
@given(doc=window_stacks(heads=False), unpadded=st.booleans(), data=st.data())
def test_field_equals_dependency_mask(doc, unpadded, data):
    """For random conv/pool stacks (padding, 'same', dilation, ceil mode) and a random
    output unit, the input pixels that can influence the unit lie in the computed field
    clipped to the image.  Without padding (every window on real units) the field is
    inside the image and its two ends are exactly the first and last influencing pixels;
    if moreover no layer leaves holes (no dilation, stride ≤ kernel) the pixels fill it."""
    if unpadded:
        for layer in doc["layers"]:
            layer["padding"] = 0
            layer.pop("ceil_mode", None)
    model = build_model(doc)
    try:
        rows = propagate(model)
    except ArchcalcError:
        assume(False)
    field = receptive_fields(model)[-1]
    oh, ow = rows[-1].counts.out_shape.spatial
    unit = (data.draw(st.integers(0, oh - 1)), data.draw(st.integers(0, ow - 1)))
    mask = dependency_mask(model, unit)
    if not mask.any():  # possible only with padding: dilated taps that all land on it
        assert not unpadded
        return
    size = model.input_shape.spatial
    layers = [n.layer for n in model.layer_nodes()]
    for axis in range(2):
        hit = np.flatnonzero(mask.any(axis=1 - axis))
        centre = field.start[axis] + unit[axis] * field.jump[axis]
        half = Fraction(field.rf[axis] - 1, 2)
        lo, hi = centre - half, centre + half
        assert max(0, lo) <= hit.min() and hit.max() <= min(size[axis] - 1, hi), axis
        if unpadded:
            assert (hit.min(), hit.max()) == (lo, hi), axis
            if all(per_axis(getattr(l, "dilation", 1), 2, "d")[axis] == 1 and
                   per_axis(l.kernel, 2, "k")[axis] >= per_axis(l.stride, 2, "s")[axis]
                   for l in layers):
                assert list(hit) == list(range(int(lo), int(hi) + 1)), axis


def test_cli_rf_json(capsys):
    """`archcalc rf` JSON: model, and per layer name, rf, jump, start in input pixels."""
    assert main(["rf", "alexnet", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "alexnet"
    pool5 = next(l for l in out["layers"] if l["name"] == "pool5")
    assert pool5 == {"name": "pool5", "rf": [195, 195], "jump": [32, 32], "start": [33, 33]}


def test_table_rf_is_opt_in(capsys):
    """The default JSON keeps its keys; --rf adds rf, jump and start to each layer."""
    assert main(["table", "alexnet", "--format", "json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert "rf" not in plain["layers"][0]
    assert main(["table", "alexnet", "--format", "json", "--rf"]) == 0
    with_rf = json.loads(capsys.readouterr().out)
    assert with_rf["layers"][0]["rf"] == [11, 11] and with_rf["layers"][0]["jump"] == [4, 4]
    assert main(["table", "alexnet"]) == 0
    assert max(len(line) for line in capsys.readouterr().out.splitlines()) <= 100


@settings(max_examples=40)
@given(doc=window_stacks(heads=False), data=st.data())
def test_numpy_impulses_reach_exactly_the_pulled_back_pixels(doc, data):
    """Through the numeric core's real forward: with positive weights and no bias, an
    impulse on input pixel p makes an output unit positive exactly when p can influence it.
    One batch holds an impulse per pixel; the pixels that light the unit are the dependency
    mask, and they lie in the computed field (clipped to the image)."""
    from archcalc.numeric.runner import Runner

    model = build_model(doc)
    try:
        rows = propagate(model)
    except ArchcalcError:
        assume(False)
    c, h, w = model.input_shape.dims
    runner = Runner(seed=data.draw(st.integers(0, 9)), dtype="float64")
    runner.run(model, np.zeros((1, c, h, w)))  # makes the weights
    for path, weights in runner.weights.items():
        runner.weights[path] = {k: (np.abs(v) + 0.1 if k == "weight" else np.zeros_like(v))
                                for k, v in weights.items()}
    impulses = np.zeros((h * w, c, h, w))
    impulses[np.arange(h * w), :, np.arange(h * w) // w, np.arange(h * w) % w] = 1.0
    (out,) = runner.run(model, impulses).values()  # the model's one output
    oh, ow = rows[-1].counts.out_shape.spatial
    unit = (data.draw(st.integers(0, oh - 1)), data.draw(st.integers(0, ow - 1)))
    lit = (out[:, :, unit[0], unit[1]] > 0).any(axis=1).reshape(h, w)
    np.testing.assert_array_equal(lit, dependency_mask(model, unit))
    field = receptive_fields(model)[-1]
    for axis, size in enumerate((h, w)):
        hit = np.flatnonzero(lit.any(axis=1 - axis))
        if hit.size:
            centre = field.start[axis] + unit[axis] * field.jump[axis]
            half = Fraction(field.rf[axis] - 1, 2)
            assert max(0, centre - half) <= hit.min() and hit.max() <= min(size - 1, centre + half)
