"""`archcalc compare`: one row per model, each equal to that model's table totals."""
import json

import pytest

from archcalc import analyse, load
from archcalc.analyses.compare import weighted_depth
from archcalc.core.shapes import Shape

from .helpers import run_cli

MODELS = ["lenet5", "alexnet", "vgg16", "resnet18", "resnet50", "googlenet", "densenet121",
          "mobilenet_v2", "unet_small", "detection_head"]


def test_json_figures_are_each_tables_totals(capsys):
    """Every figure of every entry equals `table --format json`'s totals of that model."""
    status, out, _ = run_cli(capsys, "compare", *MODELS, "--batch", "4", "--format", "json")
    assert status == 0
    entries = json.loads(out)["models"]
    assert [e["model"] for e in entries] == MODELS
    for e in entries:
        _, table, _ = run_cli(capsys, "table", e["model"], "--batch", "4", "--format", "json")
        table = json.loads(table)
        assert e["input"] == table["input"] and e["batch"] == 4
        assert {k: e[k] for k in table["totals"]} == table["totals"]
        assert e["layers"] == len(table["layers"])
        assert type(e["peak_memory_bytes"]) is int and e["peak_memory_bytes"] > e["param_bytes"]


@pytest.mark.parametrize("name, depth", [
    ("lenet5", 7), ("alexnet", 8), ("vgg11", 11), ("vgg16", 16), ("vgg19_bn", 19),
    ("resnet18", 18), ("resnet34", 34), ("resnet50", 50), ("resnet101", 101),
    ("resnet152_torchvision", 152), ("googlenet", 22), ("densenet121", 121),
    ("mobilenet_v2", 53)])
def test_depth_is_the_number_in_the_name(name, depth):
    """The weight layers on the longest path are the depth papers name models by (VGG-16,
    ResNet-50, GoogLeNet's 22 layers, DenseNet-121, MobileNetV2's 53 conv + 1 dense …)."""
    model = load(name)
    assert weighted_depth(model, analyse(model)) == depth


def test_one_input_for_every_model(capsys):
    status, out, _ = run_cli(capsys, "compare", "resnet18", "resnet50", "--input", "3,320,320",
                             "--format", "json")
    entries = json.loads(out)["models"]
    assert status == 0 and all(e["input"] == [3, 320, 320] for e in entries)
    assert entries[1]["macs"] == analyse(load("resnet50"), Shape.of(3, 320, 320)).totals.macs


def test_text_markdown_csv_and_columns(capsys):
    status, out, _ = run_cli(capsys, "compare", "resnet18", "resnet50")
    lines = out.splitlines()
    assert status == 0 and lines[0].split()[:6] == ["model", "input", "batch", "layers", "depth", "params"]
    assert lines[2].split()[:6] == ["resnet18", "3×224×224", "1", "60", "18", "11,689,512"]
    assert max(map(len, lines)) <= 100
    status, out, _ = run_cli(capsys, "compare", "resnet18", "vgg16", "--format", "markdown",
                             "--columns", "model,depth,params,macs")
    assert out.splitlines()[:4] == ["| model | depth | params | MACs |", "|:---|---:|---:|---:|",
                                    "| resnet18 | 18 | 11,689,512 | 1,814,073,344 |",
                                    "| vgg16 | 16 | 138,357,544 | 15,470,264,320 |"]
    status, out, _ = run_cli(capsys, "compare", "lenet5", "--format", "csv", "--columns",
                             "model,params,peak_memory_bytes")
    assert out.splitlines()[:2] == ["model,params,peak_memory_bytes", "lenet5,60840,449136"]
    status, out, _ = run_cli(capsys, "compare", "alexnet", "--convention", "fvcore", "--format", "json")
    assert json.loads(out)["models"][0]["convention"] == "fvcore"


@pytest.mark.parametrize("args, fragment", [
    (["compare"], "Missing argument"),
    (["compare", "resnet18", "nope"], "unknown model 'nope'"),
    (["compare", "resnet18", "--columns", "model,bogus"], "unknown column 'bogus'"),
    (["compare", "resnet18", "--input", "3,224"], "--input must be C,H,W"),
    (["compare", "resnet18", "alexnet", "--input", "3,32,32"], "alexnet.yaml"),
])
def test_bad_input_is_one_line(capsys, args, fragment):
    status, out, err = run_cli(capsys, *args)
    assert status == 2 and out == "" and err.count("\n") == 1 and fragment in err, err
