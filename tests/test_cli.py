"""The CLI's formats, options and contracts, through the real entry point."""
import csv
import io
import json
import os
import subprocess
import sys

from pathlib import Path

import pytest

from archcalc import analyse, load

from .helpers import run_cli, write_spec

JSON_LAYER_KEYS = {"name", "type", "output", "params", "connections", "macs", "flops",
                   "activations", "activation_bytes"}
JSON_TOTAL_KEYS = {"params", "connections", "macs", "flops", "activations", "activation_bytes",
                   "param_bytes"}


def test_json_contract(capsys):
    """The documented keys, integer counts, and rows that add up to the totals."""
    status, out, _ = run_cli(capsys, "table", "alexnet", "--format", "json")
    assert status == 0
    doc = json.loads(out)
    assert set(doc) == {"model", "input", "batch", "dtype", "layers", "totals"}
    assert doc["model"] == "alexnet" and doc["input"] == [3, 227, 227]
    assert doc["batch"] == 1 and doc["dtype"] == "float32"
    for layer in doc["layers"]:
        assert set(layer) == JSON_LAYER_KEYS
        assert all(type(layer[k]) is int for k in JSON_LAYER_KEYS - {"name", "type", "output"})
        assert all(type(d) is int for d in layer["output"])
    assert set(doc["totals"]) == JSON_TOTAL_KEYS
    for key in JSON_TOTAL_KEYS - {"param_bytes"}:
        assert doc["totals"][key] == sum(layer[key] for layer in doc["layers"])
    assert doc["totals"]["params"] == 60_965_224
    assert doc["totals"]["param_bytes"] == 60_965_224 * 4
    assert doc["layers"][0] == {
        "name": "conv1", "type": "conv+relu", "output": [96, 55, 55],
        "params": 34_944, "connections": (11 * 11 * 3 + 1) * 96 * 55 * 55,
        "macs": 11 * 11 * 3 * 96 * 55 * 55,
        "flops": 2 * 11 * 11 * 3 * 96 * 55 * 55 + 2 * 96 * 55 * 55,  # + bias add + relu
        "activations": 96 * 55 * 55, "activation_bytes": 96 * 55 * 55 * 4}


def test_text_table_fits_100_columns_and_groups_thousands(capsys):
    status, out, _ = run_cli(capsys, "table", "alexnet")
    assert status == 0
    assert max(len(line) for line in out.splitlines()) <= 100
    assert "60,965,224" in out and "37,752,832" in out
    assert out.splitlines()[-1].split()[0] == "total"


def test_markdown_is_a_pipe_table(capsys):
    status, out, _ = run_cli(capsys, "table", "lenet5", "--format", "markdown")
    lines = out.strip().splitlines()
    assert status == 0
    assert lines[0].startswith("| layer | type | output | params |")
    assert set(lines[1]) <= set("|-: ")
    assert all(line.startswith("| ") and line.endswith(" |") for line in lines[:1] + lines[2:])
    assert len({line.count("|") for line in lines}) == 1
    assert "| C3 | conv+tanh | 16×10×10 | 1,516 | 151,600 |" in out


def test_csv_parses_back_to_the_report(capsys):
    status, out, _ = run_cli(capsys, "table", "vgg16", "--format", "csv")
    table = list(csv.DictReader(io.StringIO(out)))
    report = analyse(load("vgg16"))
    assert status == 0 and len(table) == len(report.layers) + 1
    assert [int(r["macs"]) for r in table[:-1]] == [r.macs for r in report.layers]
    assert table[-1]["name"] == "total" and int(table[-1]["params"]) == 138_357_544


def test_batch_and_dtype(capsys):
    """Batch 8 multiplies connections, MACs, FLOPs and activations by 8, not params;
    float16 halves every byte figure."""
    _, one, _ = run_cli(capsys, "table", "vgg11", "--format", "json")
    _, eight, _ = run_cli(capsys, "table", "vgg11", "--format", "json", "--batch", "8", "--dtype", "float16")
    one, eight = json.loads(one), json.loads(eight)
    assert eight["batch"] == 8 and eight["dtype"] == "float16"
    for a, b in zip(one["layers"], eight["layers"]):
        assert b["params"] == a["params"]
        for key in ("connections", "macs", "flops", "activations"):
            assert b[key] == 8 * a[key]
        assert b["activation_bytes"] == 8 * a["activation_bytes"] // 2
    assert eight["totals"]["param_bytes"] == one["totals"]["param_bytes"] // 2


def test_input_override_on_a_size_free_model(capsys):
    """torchvision's AlexNet pools adaptively to 6×6, so other inputs keep its params."""
    _, out, _ = run_cli(capsys, "table", "alexnet_torchvision", "--input", "3,320,256", "--format", "json")
    doc = json.loads(out)
    assert doc["input"] == [3, 320, 256]
    assert doc["layers"][0]["output"] == [64, (320 + 4 - 11) // 4 + 1, (256 + 4 - 11) // 4 + 1]
    assert doc["totals"]["params"] == 61_100_840
    # two numbers are no longer read as H,W (nor "3,224" as H=3, W=224): C,H,W it is
    status, out, err = run_cli(capsys, "table", "alexnet_torchvision", "--input", "300,300")
    assert status == 2 and out == "" and "--input must be C,H,W: 3 positive integers" in err


def test_user_spec_file(capsys, tmp_path):
    path = write_spec(tmp_path, """
    name: tiny
    input: [3, 7, 11]
    layers:
      - {name: c, type: conv, filters: 5, kernel: [3, 5], padding: [1, 0]}
    """)
    status, out, _ = run_cli(capsys, "table", str(path), "--format", "json")
    doc = json.loads(out)
    assert status == 0 and doc["model"] == "tiny"
    assert doc["layers"][0]["output"] == [5, 7, 7]
    assert doc["layers"][0]["params"] == 3 * 3 * 5 * 5 + 5


def test_list_shows_every_bundled_model(capsys):
    status, out, _ = run_cli(capsys, "list")
    assert status == 0
    for name in ("lenet5", "alexnet", "vgg16", "inception_naive", "inception_bottleneck"):
        assert name in out
    assert "3×227×227" in out


def _run(args, cwd):
    # the checkout under test, whichever one an editable install points at
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, env=env)


def test_python_dash_m_from_another_directory(tmp_path):
    """Bundled specs are found from any working directory, through `python -m archcalc`."""
    result = _run(["-m", "archcalc", "table", "lenet5", "--format", "csv"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "C3,conv+tanh,16×10×10,1516,151600" in result.stdout


def test_python_dash_m_exits_with_the_commands_status(tmp_path):
    """A bad model name through the process entry point: status 2 and one error line."""
    result = _run(["-m", "archcalc", "table", "nonesuch"], tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("archcalc: error: unknown model 'nonesuch'")
    assert result.stderr.count("\n") == 1


def test_entry_point_runs_the_command_with_collection_on(monkeypatch):
    """The process entry point (console script and `python -m archcalc`) exits with
    main's status and leaves the garbage collector on for the command itself."""
    import configparser
    import gc

    from archcalc import __main__ as entry
    from archcalc import cli

    config = configparser.ConfigParser()
    config.read(Path(__file__).resolve().parent.parent / "setup.cfg")
    assert config["options.entry_points"]["console_scripts"].split() == \
        ["archcalc", "=", "archcalc.__main__:run"]
    seen = []
    monkeypatch.setattr(cli, "main", lambda: seen.append(gc.isenabled()) or 3)
    try:
        with pytest.raises(SystemExit) as exited:
            entry.run()
    finally:
        gc.unfreeze()  # run() froze this test process's objects
    assert exited.value.code == 3 and seen == [True] and gc.isenabled()


def test_table_does_not_import_numpy_or_sympy(tmp_path):
    """`archcalc table vgg16` stays light: neither numpy nor sympy is imported."""
    code = ("import sys; from archcalc.cli import main; rc = main(['table', 'vgg16']); "
            "print(sorted(m for m in ('numpy', 'sympy') if m in sys.modules), rc)")
    result = _run(["-c", code], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[] 0"


@pytest.mark.parametrize("model", ["lenet5", "alexnet", "alexnet_torchvision", "vgg11", "vgg13",
                                   "vgg16", "vgg19", "inception_naive", "inception_bottleneck"])
def test_every_bundled_model_renders_in_every_format(capsys, model):
    for fmt in ("text", "markdown", "csv", "json"):
        status, out, err = run_cli(capsys, "table", model, "--format", fmt)
        assert status == 0 and out and not err


def test_human_units_never_overflow_a_float():
    """Sizes past a float's range print in the same three-figure style, exactly divided."""
    from archcalc.render.formatters import human_bytes, human_count

    assert human_bytes(10**400) == "9.09e+387 TiB"
    assert human_count(10**400) == "1.00e+388 T"
    # unchanged below: the boundaries of each unit and a few ordinary sizes
    assert [human_bytes(n) for n in (1023, 1024, 1_161_600, 2**40 - 1, 2**40)] == \
        ["1023 B", "1 KiB", "1.11 MiB", "1 TiB", "1 TiB"]  # no exponent below TiB
    assert human_count(60_965_224) == "61 M" and human_count(999) == "999"


def test_docs_refuses_to_write_outside_the_project(capsys, tmp_path, monkeypatch):
    """`archcalc docs` elsewhere would overwrite that folder's ./docs: it needs --out;
    `--check` of a folder that does not exist says so instead of calling pages stale."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "mine.md").write_text("keep\n", encoding="utf-8")
    for args in (["docs"], ["docs", "--check"]):
        status, out, err = run_cli(capsys, *args)
        assert status == 2 and out == "" and err.count("\n") == 1
        assert "run it in the project's root" in err and "--out DIR" in err
    assert sorted(p.name for p in (tmp_path / "docs").iterdir()) == ["mine.md"]
    status, _, err = run_cli(capsys, "docs", "--check", "--out", str(tmp_path / "nowhere"))
    assert status == 2 and "no docs folder at" in err and err.count("\n") == 1


@pytest.mark.parametrize("args, fragment", [
    (["table", "alexnet", "--input", "3,224"], "--input must be C,H,W: 3 positive integers"),
    (["table", "alexnet", "--input", "224"], "--input must be C,H,W"),
    (["table", "alexnet", "--input", "1,3,224,224"], "--input must be C,H,W"),
    (["table", "alexnet", "--input", "3,1000000001,227"], "at most 10^9"),
    (["table", "alexnet", "--input", "3,2\n27,227"], "'3,2\\n27,227'"),
    (["table", "alexnet", "--input", "3,2_27,227"], "--input must be C,H,W"),
    (["table", "alexnet", "--input", "3,٢٢٧,227"], "--input must be C,H,W"),
    (["table", "alexnet", "--input", "3,-227,227"], "--input must be C,H,W"),
    (["verify", "lenet5", "--seed", "-1"], "--seed"),
    (["table", "alexnet", "--batch", "1000000001"], "--batch"),
    (["table", "alexnet", "--option", "x\ny=1"], "unknown option 'x\\ny'"),
    (["table", "alexnet", "--option", "novalue"], "--option must be NAME=VALUE"),
])
def test_flags_are_validated_on_one_line(capsys, args, fragment):
    """--input takes exactly the model's input rank (C,H,W, no longer H,W read as C,H);
    negative seeds, huge batches and newlines in flags: one line, status 2."""
    status, out, err = run_cli(capsys, *args)
    assert status == 2 and out == "", err
    assert err.count("\n") == 1 and err.startswith("archcalc: error: ") and fragment in err, err


@pytest.mark.parametrize("args, fragment", [
    (["sizes", "lenet5", "--min", "1", "--max", "1000000000000"], "scanned up to 1,000,000"),
    (["sizes", "lenet5", "--min", "990001", "--max", "1000001"], "scanned up to 1,000,000"),
    (["sizes", "lenet5", "--height", "1:200", "--width", "1:200"], "covers 40,000 sizes"),
    (["sizes", "lenet5", "--height", "1:x", "--width", "1:2"], "MIN:MAX"),
])
def test_size_scans_are_capped(capsys, args, fragment):
    """A scan past size 10⁶ (or of more than 10,000 sizes) is refused at once, not run for hours."""
    status, out, err = run_cli(capsys, *args)
    assert status == 2 and out == "" and err.count("\n") == 1 and fragment in err, err


def test_searches_for_the_smallest_size_stop_at_the_cap(capsys, tmp_path):
    """A model declared at 10^6 pixels whose dense head pins that size: the search for a
    smallest valid size stops 10,000 sizes on and says so (sizes and --symbolic), promptly."""
    import time

    path = write_spec(tmp_path, """
        name: wide
        input: [1, 1000000, 3]
        layers:
          - {name: p, type: maxpool, kernel: [1000, 1], stride: [1000, 1]}
          - {name: f, type: flatten}
          - {name: d, type: dense, units: 2}
    """)
    started = time.perf_counter()
    status, out, _ = run_cli(capsys, "sizes", str(path), "--min", "1", "--max", "5")
    # the range (1–5), then 10,000 sizes past it
    assert status == 0 and "smallest valid input: none found in 1–10,005 (the search's limit)" in out
    status, out, _ = run_cli(capsys, "table", str(path), "--symbolic")
    assert status == 0 and "no smallest valid H and W found up to 10,000" in out
    assert time.perf_counter() - started < 30


def test_symbolic_model_without_macs(capsys, tmp_path):
    """A model of activations only (MACs 0, memory a formula) prints its formulas instead
    of failing to turn 12·B·H·W bytes into a float."""
    path = write_spec(tmp_path, "name: h\ninput: [3, 16, 16]\nlayers: [{type: relu}]\n")
    status, out, err = run_cli(capsys, "table", str(path), "--symbolic")
    assert status == 0 and not err
    assert "act. mem:     12*B*H*W" in out


def test_scans_of_long_models_are_bounded_by_work(capsys, tmp_path, monkeypatch):
    """Sizes tried × layers is capped (here at 100,000, a 100-layer model): a wide scan
    is refused, and the search below a range says where it stopped (1,000 sizes) instead
    of naming a smallest size it never reached."""
    import archcalc.analyses.sizes

    monkeypatch.setattr(archcalc.analyses.sizes, "MAX_SCAN_WORK", 100_000)
    path = write_spec(tmp_path, """
        name: long
        input: [1, 1600, 1600]
        layers:
          - {block: b, repeat: 99}
          - {name: p, type: maxpool, kernel: 1500}
        blocks:
          b: {layers: [{type: relu}]}
    """)
    status, _, err = run_cli(capsys, "sizes", str(path), "--min", "1", "--max", "2000")
    assert status == 2 and "at most 100,000 layer evaluations" in err
    status, out, _ = run_cli(capsys, "sizes", str(path), "--min", "1600", "--max", "1601")
    assert status == 0 and "valid (2): 1600–1601" in out
    assert "smallest valid input: none found in 1–1,000 (the search's limit)" in out


@pytest.mark.parametrize("window, repeat, fragment", [
    ("{type: maxpool, kernel: 1, stride: [1, 2], padding: same}", 3, "at most 2 windows narrower"),
    ("{type: maxpool, kernel: 1, stride: 3, ceil_mode: true}", 3, "at most 2 windows narrower"),
    ("{type: conv, filters: 1, kernel: 1, stride: 2}", 33, "at most 32 strided windows"),
])
def test_symbolic_refuses_formulas_that_would_explode(capsys, tmp_path, window, repeat, fragment):
    """Each window narrower than its stride copies the formula into every case (five of
    them took a minute): past the caps --symbolic refuses at once, naming the layer."""
    path = write_spec(tmp_path, f"""
        name: s
        input: [1, 1000000, 1000000]
        layers:
          - {{block: b, repeat: {repeat}}}
        blocks:
          b: {{layers: [{window}]}}
    """)
    status, out, err = run_cli(capsys, "table", str(path), "--symbolic")
    assert status == 2 and out == "" and fragment in err and err.count("\n") == 1
    assert f"layer 'b1/{repeat - 1}/" in err
    status, _, _ = run_cli(capsys, "table", str(path))
    assert status == 0  # integer sizes are not limited


@pytest.mark.parametrize("args", [["rf"], ["rf", "--format", "json"], ["table", "--rf"]])
def test_receptive_fields_too_large_to_print(capsys, tmp_path, args):
    """600 windows of stride 10⁹ make a jump of 10⁵⁴⁰⁰ pixels, past what Python prints:
    one line naming the first layer past 10^100, not a ValueError."""
    path = write_spec(tmp_path, """
        name: deep
        input: [1, 16, 16]
        layers:
          - {block: b, repeat: 600}
        blocks:
          b: {layers: [{type: maxpool, kernel: 1, stride: 1000000000, padding: same}]}
    """)
    status, out, err = run_cli(capsys, args[0], str(path), *args[1:])
    assert status == 2 and out == "" and err.count("\n") == 1
    assert "model.yaml: layer 'b1/11/maxpool1': receptive field, jump or start beyond 10^100" in err


def test_bare_archcalc_prints_its_help(capsys):
    """No command: the help on stdout, status 0 (not the help squeezed into an error line)."""
    status, out, err = run_cli(capsys)
    assert status == 0 and err == "" and out.startswith("Usage: archcalc") and "table" in out


def test_a_file_name_that_is_not_utf8(capsys, tmp_path):
    """A spec file named in bytes that are not UTF-8 (its name arrives with a lone
    surrogate): the model name defaulted from it, and errors naming it, print escaped."""
    raw = os.fsencode(tmp_path) + b"/\xff.yaml"
    with open(raw, "wb") as handle:
        handle.write(b"input: [3, 8, 8]\nlayers: [{type: relu}]\n")
    name = os.fsdecode(raw)
    status, out, _ = run_cli(capsys, "table", name)
    assert status == 0 and out.startswith("\\udcff · input 3×8×8")
    out.encode("utf-8")  # printable on any UTF-8 terminal
    with open(raw, "ab") as handle:
        handle.write(b"bogus: 1\n")
    status, _, err = run_cli(capsys, "table", name)
    assert status == 2 and "\\udcff.yaml:3:" in err and err.count("\n") == 1
    err.encode("utf-8")


def test_running_out_of_memory_is_one_line(capsys, monkeypatch):
    """A MemoryError (NumPy asked for more than there is) ends in one line and status 2."""
    import archcalc.core.report

    def exhausted(*args, **kwargs):
        raise MemoryError("Unable to allocate 9.31 GiB for an array with shape (100000, 100000)")

    monkeypatch.setattr(archcalc.core.report, "analyse", exhausted)
    status, out, err = run_cli(capsys, "table", "lenet5")
    assert status == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("archcalc: error: out of memory: Unable to allocate 9.31 GiB")


def test_equal_height_and_width_ranges_scan_every_pair(capsys):
    """`--height 6:8 --width 6:8` is nine (H, W) pairs, not three squares: it was printed as
    a square scan, each pair shown by its height ("valid (9): 6, 6, 6–7, …")."""
    status, out, _ = run_cli(capsys, "sizes", "stack3x3", "--height", "6:8", "--width", "6:8")
    assert status == 0 and "heights 6–8 × widths 6–8" in out
    assert "valid (9): 6×6, 6×7, 6×8, 7×6, 7×7, 7×8, 8×6, 8×7, 8×8" in out
    status, out, _ = run_cli(capsys, "sizes", "stack3x3", "--height", "6:8", "--width", "6:8",
                             "--format", "json")
    doc = json.loads(out)
    assert doc["height"] == [6, 8] and doc["width"] == [6, 8] and [6, 7] in doc["valid"]
