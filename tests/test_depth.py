"""`table --depth N`, `--summary`, several models, and text fitted to the terminal."""
import csv
import io
import json

import pytest

from archcalc import analyse, load
from archcalc.core.collapse import collapse, groups, max_depth, path_depth
from archcalc.core.report import COUNT_FIELDS
from archcalc.render.fit import abbreviate, fit
from archcalc.render.formatters import format_text
from archcalc.spec.catalog import bundled_names

from .helpers import run_cli, write_spec


def bottleneck(cin: int, planes: int, project: bool) -> int:
    """Params of one ResNet bottleneck without conv biases: 1×1, 3×3, 1×1 ×4, a batch
    norm (2 per channel) after each, and the projection with its norm."""
    out = 4 * planes
    n = cin * planes + 2 * planes + 9 * planes * planes + 2 * planes + planes * out + 2 * out
    return n + (cin * out + 2 * out if project else 0)


def test_resnet50_at_depth_1_is_stem_stages_and_head():
    """Depth 1 of ResNet-50: the four stem layers, the four stages, the head; the stages'
    params are the bottleneck formula summed by hand, and the rows add up to the totals."""
    report = analyse(load("resnet50"))
    rows = collapse(report, 1).layers
    assert [r.name for r in rows] == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2",
                                      "layer3", "layer4", "avgpool", "fc"]
    stages = {r.name: r for r in rows if r.type == "block"}
    expected = {}
    cin = 64
    for name, planes, blocks in (("layer1", 64, 3), ("layer2", 128, 4), ("layer3", 256, 6),
                                 ("layer4", 512, 3)):
        expected[name] = bottleneck(cin, planes, True) + (blocks - 1) * bottleneck(4 * planes, planes, False)
        cin = 4 * planes
    assert {k: r.params for k, r in stages.items()} == expected
    assert expected["layer2"] == 1_219_584
    # layer2's MACs: the first block strides its first 1×1 (28×28 out) and projects
    first = (256 * 128 + 9 * 128 * 128 + 128 * 512 + 256 * 512) * 28 * 28
    rest = (512 * 128 + 9 * 128 * 128 + 128 * 512) * 28 * 28
    assert stages["layer2"].macs == first + 3 * rest == 950_534_144
    assert stages["layer4"].out_shape.dims == (2048, 7, 7)
    # 3 convs, 3 norms, 2 relus and the add a block; the first also projects (conv, norm)
    assert stages["layer1"].nodes == 3 * 9 + 2
    for key in COUNT_FIELDS:
        assert sum(getattr(r, key) for r in rows) == getattr(report.totals, key)


@pytest.mark.parametrize("name", bundled_names())
def test_every_depth_of_every_model_adds_up(name):
    """At every depth: rows add up to the totals in every column, each block row is the
    sum of the nodes whose paths it prefixes, its output is its last node's, and the
    depth past the deepest path gives back one row per node."""
    report = analyse(load(name))
    deepest = max_depth(report)
    for depth in range(1, deepest + 1):
        collapsed = collapse(report, depth)
        assert collapsed.totals == report.totals
        assert sum(r.nodes for r in collapsed.layers) == len(report.layers)
        for row in collapsed.layers:
            assert path_depth(row.name) <= depth
            if row.type != "block":
                continue
            held = [r for r in report.layers if r.name.startswith(row.name + "/")]
            assert len(held) == row.nodes
            assert row.params == sum(r.params for r in held)
            assert row.flops == sum(r.flops for r in held)
            assert row.out_shape == held[-1].out_shape
    assert [r.name for r in collapse(report, deepest).layers] == [r.name for r in report.layers]


def test_depth_rejects_what_is_not_a_positive_integer():
    from archcalc.errors import ArchcalcError

    for bad in (0, -1, True, 1.5, "1"):
        with pytest.raises(ArchcalcError):
            groups(["a/b"], bad)


def test_a_layer_named_like_a_block_instance_keeps_its_own_row(tmp_path):
    """A layer 'b' and the block instance 'b' ('b/r'): two rows at depth 1, not one."""
    path = write_spec(tmp_path, """
        name: twin
        input: [3, 8, 8]
        layers:
          - {name: b, type: relu}
          - {name: b, block: blk}
        blocks:
          blk: {layers: [{name: r, type: relu}]}
    """)
    report = analyse(load(str(path)))
    assert [r.name for r in report.layers] == ["b", "b/r"]
    assert [(r.name, r.type) for r in collapse(report, 1).layers] == [("b", "relu"), ("b", "block")]


def test_operation_split_of_a_block_is_the_sum(capsys):
    """--columns with the opt-in split: block rows sum their nodes' comparisons etc."""
    keys = "name,flops,comparisons,additions,multiplications,divisions,exponentials"
    _, full, _ = run_cli(capsys, "table", "googlenet", "--format", "json", "--columns", keys)
    _, deep, _ = run_cli(capsys, "table", "googlenet", "--format", "json", "--columns", keys,
                         "--depth", "1")
    full, deep = json.loads(full), json.loads(deep)
    assert full["totals"] == deep["totals"]
    block = next(r for r in deep["layers"] if r["name"] == "inception_4a")
    held = [r for r in full["layers"] if r["name"].startswith("inception_4a/")]
    for key in keys.split(",")[1:]:
        assert block[key] == sum(r[key] for r in held)


def test_depth_json_keeps_the_table_contract(capsys):
    """The same keys as a table (plus "nodes"), integer counts, rows adding up."""
    status, out, _ = run_cli(capsys, "table", "densenet121", "--depth", "1", "--format", "json")
    doc = json.loads(out)
    assert status == 0 and set(doc) == {"model", "input", "batch", "dtype", "layers", "totals"}
    assert [r["name"] for r in doc["layers"] if r["type"] == "block"] == [
        "features.denseblock1", "features.transition1", "features.denseblock2",
        "features.transition2", "features.denseblock3", "features.transition3",
        "features.denseblock4"]
    for key in ("params", "connections", "macs", "flops", "activations", "activation_bytes"):
        assert sum(r[key] for r in doc["layers"]) == doc["totals"][key]
    assert sum(r["nodes"] for r in doc["layers"]) == len(load("densenet121").nodes)


def test_summary_is_the_totals(capsys):
    """--summary: JSON with no rows and the full table's totals; text with one row."""
    _, full, _ = run_cli(capsys, "table", "vgg16", "--format", "json")
    status, out, _ = run_cli(capsys, "table", "vgg16", "--format", "json", "--summary")
    assert status == 0
    doc = json.loads(out)
    assert doc["layers"] == [] and doc["totals"] == json.loads(full)["totals"]
    status, out, _ = run_cli(capsys, "table", "vgg16", "--summary")
    lines = out.splitlines()
    assert status == 0 and lines[-1].split()[:2] == ["total", "138,357,544"]
    assert "conv1_1" not in out
    status, _, err = run_cli(capsys, "table", "vgg16", "--summary", "--depth", "1")
    assert status == 2 and err.count("\n") == 1


def test_several_models_print_each_table(capsys):
    """`table resnet18 resnet50`: each table as it prints alone, in order; CSV gains a
    model column, JSON a list of documents, markdown a heading per model."""
    _, one, _ = run_cli(capsys, "table", "resnet18", "--depth", "1")
    _, two, _ = run_cli(capsys, "table", "resnet50", "--depth", "1")
    status, both, _ = run_cli(capsys, "table", "resnet18", "resnet50", "--depth", "1")
    assert status == 0 and both == one + "\n" + two
    _, out, _ = run_cli(capsys, "table", "lenet5", "alexnet", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["model"] for r in rows} == {"lenet5", "alexnet"}
    assert [r["name"] for r in rows if r["model"] == "alexnet"][-1] == "total"
    _, out, _ = run_cli(capsys, "table", "lenet5", "alexnet", "--format", "json")
    tables = json.loads(out)["tables"]
    assert [t["model"] for t in tables] == ["lenet5", "alexnet"]
    assert tables[1]["totals"]["params"] == 60_965_224
    _, out, _ = run_cli(capsys, "table", "lenet5", "alexnet", "--format", "markdown")
    assert out.startswith("## lenet5\n\n| layer |") and "\n## alexnet\n\n| layer |" in out
    status, out, err = run_cli(capsys, "table", "lenet5", "nope")
    assert status == 2 and out == "" and "unknown model 'nope'" in err


@pytest.mark.parametrize("name", bundled_names())
def test_text_fits_the_terminal(capsys, monkeypatch, name):
    """At 100 and 72 columns every line fits; the columns kept hold the wide table's cells
    (names possibly abbreviated); the note names every column left out."""
    _, wide, _ = run_cli(capsys, "table", name, "--wide")
    assert max(map(len, wide.splitlines())) == len(wide.splitlines()[4])  # unfitted
    for width in (100, 72):
        monkeypatch.setenv("COLUMNS", str(width))
        status, out, _ = run_cli(capsys, "table", name)
        assert status == 0
        assert max(map(len, out.splitlines())) <= width, name
        wide_header = wide.splitlines()[3].split()
        header = out.splitlines()[out.splitlines().index("") + 1].split()
        missing = [h for h in wide_header if h not in header]
        if missing:
            note = " ".join(out[out.index("note:"):].split())
            for h in missing:
                assert h.strip(".") in note
        else:
            assert out == wide or "names shortened" in out
        # the totals row holds the same numbers, less those of dropped columns
        total = out.splitlines()[-1] if "note:" not in out else \
            [line for line in out.splitlines() if line.startswith("total")][0]
        assert set(total.split()) <= set(wide.splitlines()[-1].split())


def test_abbreviations_keep_each_end():
    """A shortened path keeps the start and end of its longest parts and fits."""
    name = "features.denseblock3/23/conv2"
    for width in range(8, len(name)):
        short = abbreviate(name, width)
        assert len(short) <= width and short[0] == "f" and short.endswith("2"), (width, short)
    assert abbreviate("conv1", 20) == "conv1"
    assert abbreviate("features.denseblock3/23/conv2", 22).endswith("/23/conv2")


def test_fit_drops_in_order_and_keeps_what_fits():
    """Columns go in the documented order, only as many as needed."""
    keys = ["name", "type", "params", "connections", "macs", "flops"]
    headers = ["layer", "type", "params", "connections", "MACs", "FLOPs"]
    rows = [["a" * 10, "conv", "1" * 10, "2" * 12, "3" * 12, "4" * 12]]
    full = sum(max(len(h) + 2, len(c)) for h, c in zip(headers, rows[0])) + 2 * 5
    assert fit(keys, headers, rows, full).dropped == ()
    assert fit(keys, headers, rows, full - 1).dropped == ("connections",)
    assert fit(keys, headers, rows, full - 15).dropped == ("connections",)  # 13 + 2 spaces
    assert fit(keys, headers, rows, full - 16).dropped == ("connections", "flops")


def test_wide_equals_the_unfitted_formatter(capsys):
    status, out, _ = run_cli(capsys, "table", "densenet121", "--wide")
    assert status == 0 and out == format_text(analyse(load("densenet121")))
    assert max(map(len, out.splitlines())) > 100


def test_training_rows_collapse_too(capsys):
    """`table --train --depth 1`: each block row's backward MACs, FLOPs and kept bytes are
    the sums of its layers', and the step's totals do not change."""
    _, full, _ = run_cli(capsys, "table", "resnet18", "--train", "--format", "json")
    status, deep, _ = run_cli(capsys, "table", "resnet18", "--train", "--depth", "1",
                              "--format", "json")
    full, deep = json.loads(full), json.loads(deep)
    assert status == 0 and deep["totals"] == full["totals"]
    layer3 = next(r for r in deep["layers"] if r["name"] == "layer3")
    held = [r for r in full["layers"] if r["name"].startswith("layer3/")]
    for key in ("backward_macs", "backward_flops", "saved_bytes", "macs"):
        assert layer3[key] == sum(r[key] for r in held)
