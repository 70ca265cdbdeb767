"""The operation split (comparisons, additions, ...), --columns, and --format latex."""
import json
import subprocess
import sys

import pytest
from hypothesis import given

from archcalc import analyse, load
from archcalc.spec.catalog import bundled_names
from archcalc.render.formatters import format_latex
from archcalc.render.latex import escape, number
from archcalc.layers import REGISTRY
from archcalc.core.work import WORK_FIELDS, report_work
from archcalc.layers.base import Layer

from .helpers import run_cli, write_spec
from .strategies import split_models


def test_every_layer_type_has_a_split():
    """Each registered layer type says what its elementwise work is made of (the base
    class's work() raises, so none is zero by omission)."""
    missing = [name for name, cls in REGISTRY.items() if cls.work is Layer.work]
    assert not missing


@pytest.mark.parametrize("name", bundled_names())
def test_split_adds_up_on_bundled_models(name):
    """flops = 2·macs + comparisons + additions + multiplications + divisions +
    exponentials, on every row of every bundled model (batch 3)."""
    report = analyse(load(name), batch=3)
    for row, work in zip(report.layers, report_work(report)):
        assert row.flops == 2 * row.macs + work.total, row.name


@given(split_models())
def test_split_adds_up_on_random_layers(spec):
    """The same identity on random single-layer models of every type (C,H,W drawn)."""
    report = analyse(spec)
    for row, work in zip(report.layers, report_work(report)):
        assert row.flops == 2 * row.macs + work.total, row.type


def test_split_by_hand():
    """Hand arithmetic on a 3×7×11 input: maxpool 2×3 stride 1 → 3×6×9 = 162 outputs,
    5 comparisons each; LRN size 3 on 3 channels: windows 2+3+2 = 7 per position, 77
    positions → 539 taps; squares + scale = 539 + 231 multiplications."""
    spec = write_spec_text("""
        name: s
        input: [3, 7, 11]
        layers:
          - {name: n, type: lrn, size: 3}
          - {name: p, type: maxpool, kernel: [2, 3], stride: 1}
    """)
    report = analyse(spec)
    n, p = report_work(report)
    assert (n.multiplications, n.additions, n.divisions, n.exponentials) == \
        (539 + 231, 539, 231, 231)
    assert p.comparisons == 5 * 3 * 6 * 9 and p.additions == 0


def write_spec_text(text):
    import tempfile
    from pathlib import Path

    return load(str(write_spec(Path(tempfile.mkdtemp()), text)))


def test_columns_select_and_order(capsys):
    """--columns prints exactly those columns in that order, work columns included."""
    status, out, _ = run_cli(capsys, "table", "alexnet", "--format", "csv",
                             "--columns", "name,comparisons,macs")
    lines = out.splitlines()
    assert status == 0 and lines[0] == "name,comparisons,macs"
    # pool1: 3×3 max over 96×27×27 outputs → 8 comparisons each
    pool1 = next(l for l in lines if l.startswith("pool1,"))
    assert pool1 == f"pool1,{8 * 96 * 27 * 27},0"


def test_columns_json(capsys):
    """JSON with --columns keeps only those keys; the default JSON is unchanged."""
    status, out, _ = run_cli(capsys, "table", "lenet5", "--format", "json",
                             "--columns", "name,additions,divisions")
    doc = json.loads(out)
    assert set(doc["layers"][0]) == {"name", "additions", "divisions"}
    assert doc["totals"]["additions"] == sum(l["additions"] for l in doc["layers"])
    assert "convention" not in doc


def test_unknown_column_is_one_line_with_hint(capsys):
    """An unknown column: exit 2, one line, and the close name suggested."""
    status, out, err = run_cli(capsys, "table", "lenet5", "--columns", "name,flopz")
    assert status == 2 and out == "" and err.count("\n") == 1
    assert "unknown column 'flopz'" in err and "did you mean 'flops'" in err


def test_latex_booktabs():
    """LaTeX: booktabs rules, escaped names, × as math, {,} thousands, totals row."""
    text = format_latex(analyse(load("alexnet")))
    lines = text.splitlines()
    assert lines[1].startswith(r"\begin{tabular}{lll") and lines[-1] == r"\end{tabular}"
    assert r"\toprule" in lines and r"\bottomrule" in lines and lines.count(r"\midrule") == 2
    conv1 = next(l for l in lines if l.startswith("conv1 "))
    assert r"96$\times$55$\times$55" in conv1 and "34{,}944" in conv1
    assert lines[-3].startswith("total &") and "60{,}965{,}224" in lines[-3]


def test_latex_escape_and_number():
    """Special characters are escaped; numbers grouped in thousands by {,}."""
    assert escape("inception/b2_3x3 & 50%") == r"inception/b2\_3x3 \& 50\%"
    assert number(1234567) == "1{,}234{,}567" and number(12) == "12"


def test_table_path_imports_no_numpy_or_sympy():
    """`archcalc table` with a convention, work columns and LaTeX stays NumPy/SymPy-free."""
    code = ("import sys; from archcalc.cli import main; "
            "main(['table', 'alexnet', '--convention', 'netscope', '--format', 'latex', "
            "'--columns', 'name,macs,comparisons']); "
            "print('numpy' in sys.modules, 'sympy' in sys.modules, file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stderr.strip().endswith("False False"), done.stderr


def test_work_fields_match_column_names():
    """The split's fields are the opt-in column names."""
    from archcalc.render.formatters import BY_KEY

    assert all(f in BY_KEY and not BY_KEY[f].default for f in WORK_FIELDS)
