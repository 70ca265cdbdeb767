"""docs/api.md: every example runs and prints what the page shows; the API's contracts."""
import re
from pathlib import Path

import pytest

import archcalc
from archcalc.docgen import apidoc
from archcalc.errors import ArchcalcError

PAGE = Path(__file__).resolve().parent.parent / "docs" / "api.md"


@pytest.fixture(scope="module")
def ran():
    return apidoc.run(PAGE.read_text(encoding="utf-8"))


def test_every_example_prints_what_the_page_shows(ran):
    """Each python block runs (in order, one session) and its printed output is the text
    block after it — none when it prints nothing (refresh: `archcalc docs`)."""
    text = PAGE.read_text(encoding="utf-8")
    shown = [m["out"] for m in apidoc._EXAMPLE.finditer(text)]
    assert len(ran) == len(shown) >= 7
    for (code, printed), block in zip(ran, shown):
        body = re.sub(r"^\n?```text\n|```\n$", "", block) if block else ""
        assert printed == body, f"docs/api.md is stale at:\n{code}"


def test_the_page_shows_what_the_issue_asks(ran):
    """load from a name, a path, YAML text and a dict; analyse at a tuple; records and
    markdown; compare and sweep as functions."""
    code = "".join(c for c, _ in ran)
    for needle in ('archcalc.load("resnet50")', 'archcalc.load("tiny.yaml")', "read_text())",
                   "archcalc.load({", "input=(3, 256, 256), batch=8", ".records()", ".markdown(",
                   "archcalc.compare(", "archcalc.sweep("):
        assert needle in code, needle


def test_analyse_takes_plain_tuples_and_lists():
    """`analyse(m, (3, 256, 256))` (it raised AttributeError) equals the Shape form."""
    from archcalc.core.report import analyse as core_analyse
    from archcalc.core.shapes import Shape

    model = archcalc.load("resnet18")
    a = archcalc.analyse(model, (3, 256, 256), batch=8)
    b = core_analyse(model, Shape.of(3, 256, 256), batch=8)
    assert a.layers == b.layers and a.totals == b.totals
    assert archcalc.analyse("resnet18", [3, 256, 256]).totals == archcalc.analyse(model, (3, 256, 256)).totals
    for bad in ((3, 256), (3, 0, 4), (3, 2.5, 4), "3,256,256", 7, (True, 8, 8)):
        with pytest.raises(ArchcalcError):
            archcalc.analyse(model, bad)


def test_records_and_totals_are_the_json_contract():
    from archcalc.render.formatters import to_json_dict

    report = archcalc.analyse("alexnet")
    doc = to_json_dict(report)
    assert report.records() == doc["layers"] and report.totals_record() == doc["totals"]
    assert report.to_dict() == doc


def test_compare_and_sweep_equal_the_cli(capsys):
    import json

    from .helpers import run_cli

    _, out, _ = run_cli(capsys, "compare", "resnet18", "vgg11", "--format", "json")
    assert archcalc.compare(["resnet18", "vgg11"]).records() == json.loads(out)["models"]
    _, out, _ = run_cli(capsys, "sweep", "resnet18", "--input", "3,64..96..32", "--batch", "1,2",
                        "--format", "json")
    doc = json.loads(out)
    grid = archcalc.sweep("resnet18", inputs=[(3, 64, 64), (3, 96, 96)], batch=[1, 2])
    assert grid.records() == doc["rows"] and list(grid.pareto) == doc["pareto"]


def test_load_tells_text_names_and_paths_apart(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text("name: m\ninput: [1, 4, 4]\nlayers: [{type: relu}]\n")
    assert archcalc.load("m.yaml").name == "m"
    assert archcalc.load(tmp_path / "m.yaml").name == "m"
    assert archcalc.load("{name: f, input: [1, 4, 4], layers: [{type: relu}]}").name == "f"
    with pytest.raises(ArchcalcError, match="unknown model 'nope'"):
        archcalc.load("nope")
    with pytest.raises(ArchcalcError, match="no such spec file"):
        archcalc.load("missing.yaml")
    with pytest.raises(ArchcalcError, match="<string>"):
        archcalc.load("name: x\nlayers: []\n")
    with pytest.raises(ArchcalcError):
        archcalc.load(42)


def test_import_archcalc_loads_nothing():
    """`import archcalc` imports no module of its own until a name is used."""
    import subprocess
    import sys

    code = ("import sys, archcalc; print(sorted(m for m in sys.modules if m.startswith('archcalc.'))); "
            "archcalc.load; print('archcalc.api' in sys.modules)")
    env = {"PYTHONPATH": str(PAGE.parent.parent)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.splitlines() == ["[]", "True"], out.stderr
