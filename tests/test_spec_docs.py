"""docs/spec-format.md documents `published:` whole, and an unknown layer type's error
lists the valid types on its one line."""
import re
from pathlib import Path

import pytest

from archcalc.layers import REGISTRY
from archcalc.spec.published import ENTRY_KEYS, FIGURES

from .helpers import run_cli, write_spec

DOC = Path(__file__).resolve().parent.parent / "docs" / "spec-format.md"


def published_section() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text[text.index("## Published figures"):]


def test_every_published_key_and_figure_is_documented():
    section = published_section()
    for key in ENTRY_KEYS:
        assert f"**{key}**" in section, key
    for figure in FIGURES:
        assert f"`{figure}`" in section, figure


def test_the_documented_example_loads_and_checks(capsys, tmp_path):
    """The section's example, put under a copy of AlexNet, loads and checks: its errata
    are marked, so `check` exits 0."""
    example = re.search(r"```yaml\n(published:.*?)```", published_section(), re.S)[1]
    alexnet = (Path(__file__).resolve().parent.parent / "specs" / "alexnet.yaml").read_text()
    spec = alexnet[:alexnet.index("published:")] + example
    path = write_spec(tmp_path, spec)
    status, out, err = run_cli(capsys, "check", str(path), "--format", "json")
    assert status == 0, err


def test_unknown_layer_type_lists_the_valid_ones(capsys, tmp_path):
    path = write_spec(tmp_path, "input: [3, 8, 8]\nlayers: [{type: convv}]\n")
    status, out, err = run_cli(capsys, "table", str(path))
    assert status == 2 and out == "" and err.count("\n") == 1
    assert "unknown layer type 'convv' (did you mean 'conv'?); layer types: " in err
    listed = err[err.index("layer types: ") + len("layer types: "):err.index("; structures")]
    assert listed.split(", ") == sorted(REGISTRY)
    assert "structures: concat, residual, side" in err and "'block:'" in err
