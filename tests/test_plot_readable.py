"""Plots stay readable for any model: at most 60 bars (blocks, or runs of rows, each the
exact sum of what it holds), at most 14 inches wide, at most 60 names on the axis."""
import struct

import pytest

from archcalc import analyse, load
from archcalc.core.report import COUNT_FIELDS
from archcalc.render.plot import MAX_BARS, readable
from archcalc.spec.catalog import bundled_names

from .helpers import run_cli, write_spec


@pytest.mark.parametrize("name", bundled_names())
def test_bars_are_few_and_add_up(name):
    report = analyse(load(name))
    shown, how = readable(report)
    assert len(shown.layers) <= MAX_BARS
    assert (how == "") == (len(report.layers) <= MAX_BARS)
    for key in COUNT_FIELDS:
        assert sum(getattr(r, key) for r in shown.layers) == getattr(report.totals, key)


def test_a_long_flat_model_is_summed_in_runs(tmp_path):
    """200 layers at depth 1 (no blocks): runs of 4 consecutive rows, 50 bars."""
    layers = "\n".join(f"  - {{name: r{i}, type: relu}}" for i in range(200))
    path = write_spec(tmp_path, f"name: flat\ninput: [3, 8, 8]\nlayers:\n{layers}\n")
    report = analyse(load(str(path)))
    shown, how = readable(report)
    assert len(shown.layers) == 50 and how == "runs of 4 rows: 50 bars for 200 layers"
    assert shown.layers[0].name == "r0 … r3"
    assert shown.layers[0].flops == sum(r.flops for r in report.layers[:4])


def png_size(path):
    data = path.read_bytes()
    return struct.unpack(">II", data[16:24])


def test_densenet_png_is_at_most_1540_pixels_wide(capsys, tmp_path):
    pytest.importorskip("matplotlib", reason="plotting is the optional [plot] extra")
    out = tmp_path / "d.png"
    status, _, err = run_cli(capsys, "plot", "densenet121", "-o", str(out))
    assert status == 0, err
    width, height = png_size(out)
    assert width <= 1540 and height < 1000, (width, height)  # it was 7,662 pixels wide
    out = tmp_path / "r.svg"
    assert run_cli(capsys, "plot", "resnet50", "-o", str(out), "--depth", "1")[0] == 0
    text = out.read_text(encoding="utf-8")
    assert "layer3" in text and "layer3/0" not in text and "blocks to depth 1" in text
