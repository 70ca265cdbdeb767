"""`archcalc sweep`: the grid's figures are the engine's, the front is the Pareto front."""
import csv
import io
import json

import pytest
from hypothesis import given, strategies as st

from archcalc.analyses.sweep import (MAX_SWEEP_CONFIGS, Totaller, pareto_front,
                                     parse_input_grid, parse_values, sweep)
from archcalc.core.engine import propagate_partial
from archcalc.core.report import analyse
from archcalc.core.shapes import Shape
from archcalc.errors import ArchcalcError
from archcalc.spec.catalog import builder, load

from .helpers import run_cli


def dominated(i, pairs) -> bool:
    """Brute force: some other pair is no worse in both and better in one."""
    x, y = pairs[i]
    return any(p is not None and j != i and p[0] <= x and p[1] <= y and (p[0] < x or p[1] < y)
               for j, p in enumerate(pairs))


@given(st.lists(st.one_of(st.none(), st.tuples(st.integers(0, 6), st.integers(0, 6))),
                max_size=40))
def test_pareto_front_is_the_undominated_points(pairs):
    """The front is exactly the valid points no other point dominates (ties included)."""
    expected = tuple(i for i, p in enumerate(pairs) if p is not None and not dominated(i, pairs))
    assert pareto_front(pairs) == expected


def test_pareto_front_by_hand():
    pairs = [(3, 1), (1, 3), (2, 2), (2, 3), (1, 3), None, (3, 3)]
    assert pareto_front(pairs) == (0, 1, 2, 4)


@pytest.mark.parametrize("name, sizes", [
    ("resnet18", [(3, s, s) for s in (17, 32, 33, 63, 64, 224, 225)] + [(3, 40, 90)]),
    ("lenet5", [(1, 32, 32), (1, 33, 32), (1, 64, 64), (1, 28, 28)]),
    ("unet_small", [(3, s, s) for s in (92, 93, 94, 108, 124, 140)]),
    ("densenet121", [(3, 29, 29), (3, 28, 28), (3, 224, 224), (3, 225, 230)]),
    ("mobilenet_v2", [(3, s, s) for s in range(100, 140, 3)]),
])
def test_totals_equal_the_engine(name, sizes):
    """Each configuration's totals (or error) are what analyse() gives, whatever order the
    memoised walk meets them in (twice through, so the second pass is all memo hits)."""
    model = load(name)
    totaller = Totaller(model)
    for dims in sizes + sizes[::-1]:
        got = totaller.totals(Shape(dims))
        rows, error = propagate_partial(model, Shape(dims))
        if error is not None:
            assert isinstance(got, ArchcalcError) and got.render() == error.render()
            continue
        report = analyse(model, Shape(dims))
        t = report.totals
        assert got == (t.params, t.connections, t.macs, t.flops, t.activations), dims


def test_a_grid_of_options_inputs_and_batches():
    """Order: options slowest, then inputs, then batch; batch scales all but params; the
    option changes the model (GoogLeNet's auxiliary heads add params)."""
    result = sweep(builder("googlenet"), {"aux_logits": [False, True]},
                   [(3, 224, 224), (3, 240, 240)], [1, 4], dtype="float16")
    assert len(result.points) == 8
    assert [(dict(p.options)["aux_logits"], p.input_shape.dims[1], p.batch)
            for p in result.points][:4] == [(False, 224, 1), (False, 224, 4), (False, 240, 1),
                                            (False, 240, 4)]
    for p in result.points:
        model = load("googlenet", options=dict(p.options))
        report = analyse(model, p.input_shape, batch=p.batch, dtype="float16")
        t = report.totals
        assert (p.params, p.connections, p.macs, p.flops, p.activations, p.activation_bytes) == \
            (t.params, t.connections, t.macs, t.flops, t.activations, t.activation_bytes)
    pairs = [(p.params, p.macs) for p in result.points]
    assert result.pareto == tuple(i for i in range(8) if not dominated(i, pairs))


def test_cli_json_contract(capsys):
    status, out, _ = run_cli(capsys, "sweep", "resnet18", "--input", "3,32..64..16",
                             "--input", "3,20,30", "--batch", "1,2", "--format", "json")
    assert status == 0
    doc = json.loads(out)
    assert set(doc) >= {"rows", "pareto"} and doc["model"] == "resnet18"
    assert [r["input"] for r in doc["rows"]][::2] == [[3, 32, 32], [3, 48, 48], [3, 64, 64], [3, 20, 30]]
    for row in doc["rows"]:
        assert set(row) >= {"options", "input", "batch", "params", "macs", "flops", "activations"}
        report = analyse(load("resnet18"), Shape(tuple(row["input"])), batch=row["batch"])
        assert (row["params"], row["macs"], row["flops"], row["activations"]) == \
            (report.totals.params, report.totals.macs, report.totals.flops, report.totals.activations)
    pairs = [(r["params"], r["macs"]) for r in doc["rows"]]
    assert doc["pareto"] == [i for i in range(len(pairs)) if not dominated(i, pairs)]


def test_cli_text_csv_markdown_and_invalid_rows(capsys):
    """An invalid configuration is a row with its error (whole in CSV, a note in text),
    never an exit status 2: the grid is what was asked."""
    args = ["sweep", "googlenet", "--option", "aux_logits=true,false", "--input", "3,224..256..16"]
    status, out, _ = run_cli(capsys, *args, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 0 and len(rows) == 6
    assert rows[2]["params"] == "" and "expects 1,024 input features" in rows[2]["error"]
    status, out, _ = run_cli(capsys, *args)
    assert status == 0 and "invalid [1]" in out and "note: [1] specs/googlenet.yaml" in out
    status, out, _ = run_cli(capsys, *args, "--format", "markdown")
    assert status == 0 and out.startswith("| aux_logits | input | batch | params |")


@pytest.mark.parametrize("args, fragment", [
    (["--input", "3,1..1000000,1..1000000"], "at most 100,000"),
    (["--batch", "1..200000"], "at most 100,000"),
    (["--input", "3,1..250,1..250", "--batch", "1,2"], "125,000 configurations; at most 100,000"),
    (["--input", "3,224..200"], "A ≤ B"),
    (["--input", "3,0..5"], "positive integers"),
    (["--input", "3,2..x"], "--input takes N, A..B or A..B..STEP"),
    (["--input", "3,224,224,224"], "has 4 parts; 'resnet18' takes 3"),
    (["--batch", "0"], "--batch takes"),
    (["--option", "nope=1,2"], "unknown option 'nope'"),
    (["--option", "novalues"], "--option must be NAME=V1,V2"),
    (["--plot", "x.pdf"], ".png or .svg"),
])
def test_bad_grids_are_one_line(capsys, args, fragment):
    status, out, err = run_cli(capsys, "sweep", "resnet18", *args)
    assert status == 2 and out == "" and err.count("\n") == 1 and fragment in err, err


def test_grammar_of_values():
    assert parse_values("8", "--batch") == [8]
    assert parse_values("1,8,32", "--batch") == [1, 8, 32]
    assert parse_values("224..320..32", "--input") == [224, 256, 288, 320]
    assert parse_values("1..3,10", "--batch") == [1, 2, 3, 10]
    assert parse_values("5..9..10", "--batch") == [5]
    for bad in ("", "1,,2", "a", "1...3", "1..2..3..4", "-1", "1..", "..3", "٣", "1_0"):
        with pytest.raises(ArchcalcError):
            parse_values(bad, "--batch")
    square = parse_input_grid("3,10..12")
    assert square(load("resnet18")) == [(3, 10, 10), (3, 11, 11), (3, 12, 12)]
    assert parse_input_grid("3x10x11..12")(load("resnet18")) == [(3, 10, 11), (3, 10, 12)]
    assert MAX_SWEEP_CONFIGS == 100_000


def test_scatter_plot(capsys, tmp_path):
    pytest.importorskip("matplotlib", reason="plotting is the optional [plot] extra")
    import xml.etree.ElementTree as ET

    out = tmp_path / "front.svg"
    status, _, err = run_cli(capsys, "sweep", "googlenet", "--option", "aux_logits=true,false",
                             "--input", "3,224..240..16", "--plot", str(out))
    assert status == 0, err
    text = out.read_text(encoding="utf-8")
    ET.fromstring(text)
    assert "Pareto front" in text and "4 configurations, 1 on the front" in text
