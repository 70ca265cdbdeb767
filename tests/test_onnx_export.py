"""``archcalc export``: every bundled spec as ONNX passes the checker with full shape
inference, ONNX's own shape inference gives archcalc's per-layer shapes, onnxruntime's
outputs equal archcalc's NumPy forward, and export → import gives the same table.

Optional: needs ``onnx`` (and ``onnxruntime`` for the numeric comparison); skipped visibly
without them.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="onnx not installed: pip install onnx runs these tests")

from archcalc.cli import main  # noqa: E402
from archcalc.core.report import analyse  # noqa: E402
from archcalc.core.shapes import Shape  # noqa: E402
from archcalc.io import load_file  # noqa: E402
from archcalc.io.onnx_out import export, write  # noqa: E402
from archcalc.render.formatters import FORMATTERS  # noqa: E402
from archcalc.spec.catalog import bundled_names, load  # noqa: E402


#: the bundled specs, and one with every pad mode, upsample mode and conv_transpose option
RESAMPLING = str(__import__("pathlib").Path(__file__).parent / "data" / "resampling.yaml")
SPECS = list(bundled_names()) + [RESAMPLING]


def figures(model) -> dict:
    """The table's JSON without names (an import sanitises them: '/' becomes '.')."""
    doc = json.loads(FORMATTERS["json"](analyse(model), None))
    for row in doc["layers"]:
        row.pop("name")
    doc.pop("model")
    return doc


@pytest.mark.parametrize("name", SPECS)
def test_export_passes_the_checker_and_onnx_shape_inference_agrees(name):
    """check_model(full_check=True) accepts the graph; with the declared intermediate
    shapes removed, ONNX's shape inference (through the archcalc-domain functions too)
    finds archcalc's output shape for every row."""
    model = load(name)
    proto = export(model, weights=False)
    onnx.checker.check_model(proto, full_check=True)
    del proto.graph.value_info[:]
    inferred = onnx.shape_inference.infer_shapes(proto, strict_mode=True)
    shapes = {v.name: tuple(d.dim_value if d.HasField("dim_value") else d.dim_param
                            for d in v.type.tensor_type.shape.dim)
              for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    for row in analyse(model).layers:
        # the batch axis is N, or a symbol of ONNX's own after a Resize (N·1 is unknown)
        assert shapes.get(row.name, ())[1:] == tuple(row.out_shape.dims), row.name


@pytest.mark.parametrize("name", SPECS)
def test_export_then_import_gives_the_same_table(tmp_path, name):
    """Round trip: the imported ONNX graph has the spec's rows, types, shapes, params,
    connections, MACs, FLOPs and activations (names may be sanitised)."""
    model = load(name)
    path = tmp_path / "model.onnx"
    write(model, path, weights=False)
    again = load_file(path, str(path))
    assert figures(again) == figures(model)
    assert [n.path.replace("/", ".") for n in model.nodes] == [n.path for n in again.nodes]


#: (spec, input size): every layer type the bundled specs use, at sizes NumPy runs quickly
NUMERIC = [("lenet5", None), ("lenet5_relu", None), ("stack3x3", None), ("conv7x7", None),
           ("inception_naive", None), ("inception_bottleneck", None), ("se_resnet_block", None),
           ("mbconv_se", None), ("unet_small", None), ("detection_head", None), ("m5", None),
           ("c3d_block", (3, 8, 32, 32)), ("resnet18", (3, 64, 64)), ("mobilenet_v2", (3, 64, 64)),
           ("alexnet_torchvision", (3, 96, 96)), ("googlenet_torchvision", (3, 64, 64)),
           ("squeezenet1_1", (3, 64, 64)), ("alexnet", None), (RESAMPLING, None)]


@pytest.mark.parametrize("name, size", NUMERIC)
def test_onnxruntime_equals_the_numpy_forward(name, size):
    """onnxruntime, an independent implementation of every operator, computes from the
    exported weights what archcalc's NumPy forward computes (float32)."""
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime not installed")
    from archcalc.numeric.runner import Runner, make_input

    model = load(name)
    shape = Shape(size) if size else None
    proto = export(model, shape, weights=True, seed=3)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(proto.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    x = make_input(shape or model.input_shape, 2, 3, "float32")
    got = session.run(None, {"input": x})
    want = Runner(3, "float32", keep_outputs=False).run(model, x)
    for output, value in zip(model.outputs, got):
        reference = want[output]
        assert value.shape == reference.shape
        scale = max(1.0, float(np.abs(reference).max()))
        assert np.abs(value - reference).max() <= 2e-5 * scale, output


def test_no_weights_declares_weights_as_inputs_with_shapes(tmp_path, capsys):
    out = tmp_path / "alexnet.onnx"
    assert main(["export", "alexnet", "-o", str(out), "--no-weights"]) == 0
    proto = onnx.load(str(out))
    inputs = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in proto.graph.input}
    assert inputs["conv2.weight"] == [256, 48, 5, 5]
    assert not any(t.name.endswith(".weight") for t in proto.graph.initializer)
    assert out.stat().st_size < 100_000
    assert "shapes only" in capsys.readouterr().out


def test_import_writes_a_spec_with_the_same_figures(tmp_path, capsys):
    """export, then import to YAML: `table` of the YAML is `table` of the ONNX file."""
    onnx_path, yaml_path = tmp_path / "m.onnx", tmp_path / "m.yaml"
    assert main(["export", "googlenet", "-o", str(onnx_path), "--no-weights"]) == 0
    assert main(["import", str(onnx_path), "-o", str(yaml_path)]) == 0
    capsys.readouterr()
    tables = []
    for path in (onnx_path, yaml_path):
        assert main(["table", str(path), "--format", "json"]) == 0
        tables.append(json.loads(capsys.readouterr().out))
    assert tables[0] == tables[1]
    assert tables[0]["totals"] == json.loads(FORMATTERS["json"](analyse(load("googlenet")), None))["totals"]


def test_export_to_an_unwritable_path_is_one_line(tmp_path, capsys):
    assert main(["export", "lenet5", "-o", str(tmp_path / "no" / "such" / "x.onnx")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("archcalc: error: cannot write") and err.count("\n") == 1


def test_every_layer_type_has_an_onnx_form():
    """A new layer type needs its ONNX operators in archcalc/io/onnx_out.py (and, where
    ONNX has the operator, its import in archcalc/io/operators.py)."""
    from archcalc.io.onnx_out import _LAYERS
    from archcalc.layers import REGISTRY

    assert sorted(set(REGISTRY) - set(_LAYERS)) == []


from hypothesis import given, strategies as st  # noqa: E402

from .test_fuzz import SMALL, assert_clean, fuzz_settings, run_case  # noqa: E402


@st.composite
def io_command_lines(draw):
    """export and import with plausible, wrong and hostile arguments."""
    command = draw(st.sampled_from(["export", "import"]))
    if command == "export":
        argv = ["export", draw(st.sampled_from(list(SMALL) + ["nope", ".", "a\nb", "x.onnx"]))]
        flags = ["--no-weights", "--seed", "--input", "--option", "-o"]
    else:
        argv = ["import", draw(st.sampled_from(["m.onnx", "net.prototxt", "none.onnx", "x.yaml",
                                                "math:pi", "nosuch:f", "builtins:object", ":",
                                                "torchvision.models:squeezenet1_1"]))]
        flags = ["--input", "--via", "-o"]
    values = {"--seed": ["0", "-1", "x", "18446744073709551616"],
              "--input": ["3,32,32", "3,0,5", "1,28,28", "x", "3,32", "1,2,3,4,5"],
              "--option": ["a=1", "bad"], "--via": ["fx", "onnx", "auto", "zz"],
              "-o": ["out.onnx", "out.yaml", "no/such/dir/out.onnx", ".", ""]}
    for flag in draw(st.lists(st.sampled_from(flags), max_size=4)):
        argv.append(flag)
        if flag != "--no-weights":
            argv.append(draw(st.sampled_from(values[flag])))
    if "-o" not in argv:
        argv += ["-o", "out.onnx" if command == "export" else "out.yaml"]
    return argv


@fuzz_settings(ci_examples=60)
@given(argv=io_command_lines())
def test_io_command_lines(tmp_path_factory, argv):
    """Any mix of export/import arguments: a clean exit or one error line."""
    folder = tmp_path_factory.mktemp("io")
    (folder / "net.prototxt").write_text((Path(__file__).parent / "data" /
                                          "alexnet_deploy.prototxt").read_text())
    write(load("lenet5"), folder / "m.onnx", weights=False)
    assert_clean(run_case(argv, workdir=folder))
