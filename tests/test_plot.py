"""`archcalc plot` writes a real PNG or SVG with one bar group per layer."""
import xml.etree.ElementTree as ET

import pytest

from .helpers import run_cli

pytest.importorskip("matplotlib", reason="plotting is the optional [plot] extra")


def test_png(capsys, tmp_path):
    out = tmp_path / "lenet5.png"
    status, _, err = run_cli(capsys, "plot", "lenet5", "-o", str(out))
    assert status == 0, err
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_svg_names_every_layer_and_totals(capsys, tmp_path):
    out = tmp_path / "alexnet.svg"
    assert run_cli(capsys, "plot", "alexnet", "-o", str(out))[0] == 0
    text = out.read_text(encoding="utf-8")
    ET.fromstring(text)  # well-formed XML
    for name in ("conv1", "norm1", "fc8", "parameters: 60,965,224 in all"):
        assert name in text


def test_svg_is_deterministic(capsys, tmp_path):
    a, b = tmp_path / "a.svg", tmp_path / "b.svg"
    run_cli(capsys, "plot", "lenet5", "-o", str(a))
    run_cli(capsys, "plot", "lenet5", "-o", str(b))
    assert a.read_bytes() == b.read_bytes()


def test_bad_suffix(capsys, tmp_path):
    status, _, err = run_cli(capsys, "plot", "lenet5", "-o", str(tmp_path / "x.pdf"))
    assert status == 2 and ".png or .svg" in err
