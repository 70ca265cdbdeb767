"""Importing PyTorch modules: torchvision's models through torch.fx and through torch's
ONNX exporter give the bundled torchvision-following specs' parameters, per-layer output
shapes and MACs; the Python API and the command on small modules; the one-line errors.

Optional: needs torch and torchvision (and onnx for the exporter route); skipped visibly
without them.  Models are built on the meta device (no weights are initialised, nothing
is downloaded: weights=None).
"""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="torch not installed: pip install torch==2.14.1")
torchvision = pytest.importorskip("torchvision", reason="torchvision not installed")

import archcalc  # noqa: E402
from archcalc.cli import main  # noqa: E402
from archcalc.core.report import analyse  # noqa: E402
from archcalc.spec.build import build_model  # noqa: E402
from archcalc.spec.catalog import load  # noqa: E402

#: torchvision builder → (bundled spec, whether the spec's names are torchvision's paths)
MODELS = {"resnet18": ("resnet18", True), "resnet50": ("resnet50_torchvision", True),
          "mobilenet_v2": ("mobilenet_v2", True), "alexnet": ("alexnet_torchvision", True),
          "vgg11": ("vgg11", False)}


def imported(builder: str, via: str):
    from archcalc.io.torch_in import torch_document

    with torch.device("meta"):
        module = getattr(torchvision.models, builder)(weights=None)
    doc = torch_document(module, (3, 224, 224), builder, via=via)
    return analyse(build_model(doc, builder))


def weighted(report) -> list:
    """(name, output shape, params, MACs) of every row that holds weights or does MACs."""
    return [(r.name.replace("/", "."), r.out_shape.dims, r.params, r.macs)
            for r in report.layers if r.params or r.macs]


@pytest.mark.parametrize("via", ["fx", "onnx"])
@pytest.mark.parametrize("builder", MODELS)
def test_torchvision_models_match_the_bundled_specs(builder, via):
    """Params, MACs and FLOPs totals, and every weighted row's output shape, params and MACs
    in order, equal the bundled spec's; through fx the rows carry torchvision's module
    paths, which the torchvision-named specs use too."""
    if via == "onnx":
        pytest.importorskip("onnx", reason="onnx not installed")
    spec, named = MODELS[builder]
    got, want = imported(builder, via), analyse(load(spec))
    assert got.totals.params == want.totals.params
    assert got.totals.macs == want.totals.macs
    mine, theirs = weighted(got), weighted(want)
    assert [row[1:] for row in mine] == [row[1:] for row in theirs]
    if named and via == "fx":
        assert [row[0] for row in mine] == [row[0] for row in theirs]


class Small(torch.nn.Module):
    """Functions and methods fx records: flatten, view with x.size(0), +, cat, F.*."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = torch.nn.BatchNorm2d(8)
        self.branch = torch.nn.Conv2d(8, 8, 1)
        self.pool = torch.nn.MaxPool2d(2, ceil_mode=True)
        self.fc = torch.nn.Linear(16 * 4 * 6, 10)

    def forward(self, x):
        x = torch.nn.functional.relu(self.bn(self.conv(x)))
        y = self.branch(x) + x
        x = torch.cat([torch.sigmoid(y), x], dim=1)
        x = self.pool(x)
        return self.fc(x.view(x.size(0), -1)).softmax(dim=1)


def test_from_torch_maps_functions_and_methods():
    model = archcalc.from_torch(Small(), (3, 7, 11))
    rows = analyse(model).layers
    assert [(r.type, r.out_shape.dims) for r in rows] == [
        ("conv", (8, 7, 11)), ("batchnorm", (8, 7, 11)),
        ("relu", (8, 7, 11)), ("conv", (8, 7, 11)), ("add+sigmoid", (8, 7, 11)),
        ("concat", (16, 7, 11)), ("maxpool", (16, 4, 6)), ("dense", (10,)), ("softmax", (10,))]
    assert rows[-2].params == 16 * 4 * 6 * 10 + 10


class Untraceable(torch.nn.Module):
    """Data-dependent control flow: fx cannot trace it, torch's exporter can."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)

    def forward(self, x):
        if x.sum() > 0:
            return torch.relu(self.conv(x))
        return self.conv(x)


def test_falls_back_to_the_exporter_where_fx_cannot_trace():
    pytest.importorskip("onnx", reason="onnx not installed")
    model = archcalc.from_torch(Untraceable(), (3, 8, 8))
    assert [(r.type, r.out_shape.dims) for r in analyse(model).layers] == [("conv", (4, 6, 6))]
    assert "torch.onnx.export" in model.source


def test_import_command_writes_the_spec(tmp_path, capsys):
    out = tmp_path / "resnet18.yaml"
    assert main(["import", "torchvision.models:resnet18", "--input", "3,224,224", "-o", str(out)]) == 0
    assert "layer1.0.conv1" in out.read_text()
    capsys.readouterr()
    assert main(["table", str(out), "--format", "json"]) == 0
    assert '"params": 11689512' in capsys.readouterr().out.replace(" ", "").replace('":', '": ')


@pytest.mark.parametrize("source, message", [
    ("no_such_module_xyz:f", "cannot import module 'no_such_module_xyz'"),
    ("torchvision.models:no_such_builder", "has no 'no_such_builder'"),
    ("math:pi", "is not callable"),
    ("builtins:object", "not a torch.nn.Module"),
])
def test_bad_module_paths_are_one_line(tmp_path, capsys, source, message):
    assert main(["import", source, "--input", "3,8,8", "-o", str(tmp_path / "x.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_module_path_needs_input(tmp_path, capsys):
    assert main(["import", "torchvision.models:resnet18", "-o", str(tmp_path / "x.yaml")]) == 2
    assert "--input" in capsys.readouterr().err


class Decoder(torch.nn.Module):
    """The layer types from transposed convolution, padding and interpolation."""

    def __init__(self):
        super().__init__()
        self.pad = torch.nn.ReflectionPad2d((1, 2, 0, 1))
        self.up = torch.nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1)
        self.resize = torch.nn.Upsample(scale_factor=2, mode="bilinear")

    def forward(self, x):
        x = self.resize(self.up(self.pad(x)))
        x = torch.nn.functional.pad(x, (1, 1, 2, 2), value=0.5)
        return torch.nn.functional.interpolate(x, size=(50, 70), mode="nearest")


def test_transposed_convolution_padding_and_interpolation():
    model = archcalc.from_torch(Decoder(), (3, 7, 11))
    layers = analyse(model).layers
    with torch.no_grad():
        want = Decoder()(torch.zeros(1, 3, 7, 11)).shape[1:]
    assert [r.type for r in layers] == ["pad", "conv_transpose", "upsample", "pad", "upsample"]
    assert layers[-1].out_shape.dims == tuple(want)
    assert layers[1].params == 3 * 4 * 9 + 4
