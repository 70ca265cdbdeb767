"""Size scans: valid sizes, exact tiling and the first layer that drops pixels."""
import json
import time

from hypothesis import assume, given, settings, strategies as st

from archcalc.spec.build import build_model
from archcalc.spec.catalog import load
from archcalc.cli import main
from archcalc.analyses.sizes import scan
from archcalc.core.engine import propagate
from archcalc.errors import ArchcalcError
from archcalc.core.shapes import Shape

from .strategies import window_stacks


def test_alexnet_227_exact_224_drops_one_pixel_at_conv1():
    """(227 − 11)/4 + 1 = 55 exactly; (224 − 11)/4 = 53.25, so 224 − (53·4 + 11) = 1 row
    and 1 column past the last conv1 window."""
    result = scan(load("alexnet"), (224, 227))
    assert (227, 227) in result.exact
    drop = next(d for d in result.inexact if d.size == (224, 224))
    assert (drop.layer, drop.dropped) == ("conv1", (1, 1))


def test_alexnet_valid_sizes_follow_the_dense_head():
    """fc6 wants 256·6·6 inputs.  Caffe's pools round up: ⌈(n − 3)/2⌉ + 1 is 6 for n = 12,
    13 at pool5, so pool2 must give 12..13, pool1 24..27 and conv1 48..55 maps
    ((s − 11)//4 + 1), i.e. s = 199..230 (the stride product 32 = 4·2·2·2 wide); the
    smallest is 199.  (Floor-mode pools would need conv1 to give 55..62: s = 227..258.)"""
    result = scan(load("alexnet"), (1, 512))
    assert [s for s, _ in result.valid] == list(range(199, 231))
    assert result.smallest_valid == (199, 199)


def test_vgg16_224_exact_and_smallest():
    """Five 2×2 stride-2 pools: 224 = 7·32 tiles exactly; 225..255 still give 7 at pool5
    (valid) but drop rows at pool1 when odd."""
    result = scan(load("vgg16"), (224, 226))
    assert result.exact == ((224, 224),)
    drop = next(d for d in result.inexact if d.size == (225, 225))
    assert (drop.layer, drop.dropped, drop.valid) == ("pool1", (1, 1), True)
    assert result.smallest_valid == (224, 224)


def test_gap_model_smallest_valid_is_63():
    """torchvision AlexNet (adaptive pooling): conv1 (H + 4 − 11)//4 + 1 ≥ 15 ⇔ H ≥ 63
    (pool1 needs 15 for pool2 to get 7 and pool5 3)."""
    result = scan(load("alexnet_torchvision"), (1, 100))
    assert result.smallest_valid == (63, 63)
    assert [s for s, _ in result.valid] == list(range(63, 101))


def test_sizes_is_fast():
    """AlexNet over 1..512 in well under two seconds."""
    t = time.perf_counter()
    scan(load("alexnet"), (1, 512))
    assert time.perf_counter() - t < 2.0


def _drops_by_brute_force(model, h, w):
    """First layer whose windows leave input rows/columns unread, by listing the rows
    each window reads (independent of the closed form)."""
    for row in propagate(model, Shape.of(model.input_shape.channels, h, w)):
        node = next(n for n in model.layer_nodes() if n.path == row.name)
        layer = node.layer
        if not hasattr(layer, "kernel"):
            continue
        g = layer.geometry(row.in_shape)  # its resolved attributes, not its drop counts
        dropped = []
        for axis in range(2):
            n, out = row.in_shape.spatial[axis], row.counts.out_shape.spatial[axis]
            k, s, d, p = g.kernel[axis], g.stride[axis], g.dilation[axis], g.padding[axis][0]
            last_end = max(o * s + t * d - p for o in range(out) for t in range(k))
            dropped.append(max(0, n - 1 - last_end))
        if any(dropped):
            return row.name, tuple(dropped)
    return None


@settings(max_examples=40)
@given(doc=window_stacks(heads=False), size=st.tuples(st.integers(4, 30), st.integers(4, 30)))
def test_first_drop_matches_brute_force(doc, size):
    """On random stacks, the scan's first dropping layer and counts equal those found by
    listing the input rows every window reads."""
    model = build_model(doc)
    try:  # the scan pins dense layers at the declared input, so that must be valid
        propagate(model)
    except ArchcalcError:
        assume(False)
    result = scan(model, (size[0], size[0]), (size[1], size[1]))
    try:
        expected = _drops_by_brute_force(model, *size)
    except ArchcalcError:
        assert not result.valid
        return
    got = [(d.layer, d.dropped) for d in result.inexact]
    assert got == ([expected] if expected else [])
    assert (result.exact == (size,)) == (expected is None)


def test_cli_sizes_json_and_errors(capsys):
    """JSON has the documented keys; min > max and an empty range are explicit."""
    assert main(["sizes", "alexnet", "--min", "224", "--max", "228", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"model", "min", "max", "valid", "exact", "inexact", "smallest_valid"}
    # 224..228 all reach pool5's 6×6 (ceil-mode pools); only 227 leaves no conv1 row unread
    assert out["exact"] == [227] and out["valid"] == [224, 225, 226, 227, 228]
    assert {"size": 224, "layer": "conv1", "dropped": [1, 1], "valid": True} in out["inexact"]
    assert main(["sizes", "alexnet", "--min", "9", "--max", "3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "minimum 9 is greater than maximum 3" in err
    assert main(["sizes", "alexnet", "--min", "1", "--max", "10", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] == [] and out["smallest_valid"] == 199


def test_non_square_scan_of_lenet5(capsys):
    """LeNet-5 needs C5's 5×5 window to see 5×5 maps: S4 gives ((x − 4)//2 − 4)//2 = 5
    rows for x = 32..35 and C5 then outputs 1; F6 expects 120 features, so heights and
    widths 32..35 are valid, and only 32 (and 32×32) tiles exactly (33: S2 drops one)."""
    result = scan(load("lenet5"), (31, 34), (32, 33))
    assert result.valid == ((32, 32), (32, 33), (33, 32), (33, 33), (34, 32), (34, 33))
    assert result.exact == ((32, 32),)
    drop = next(d for d in result.inexact if d.size == (32, 33))
    assert (drop.layer, drop.dropped) == ("S2", (0, 1))
    assert main(["sizes", "lenet5", "--height", "31:34", "--width", "32:33",
                 "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["height"] == [31, 34] and out["width"] == [32, 33]
    assert out["exact"] == [[32, 32]] and out["smallest_valid"] == [32, 32]
