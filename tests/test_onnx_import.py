"""Reading ONNX: each mapped operator on a small hand-built graph, the multi-operator
patterns exporters write, constant shape arithmetic, names, and the one-line errors.

Optional: needs the ``onnx`` package (``pip install 'archcalc[onnx]'``); skipped visibly
without it.
"""
from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="onnx not installed: pip install onnx runs these tests")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from archcalc.cli import main  # noqa: E402
from archcalc.core.report import analyse  # noqa: E402
from archcalc.io import document, load_file  # noqa: E402


def weight(name, *shape):
    return numpy_helper.from_array(np.zeros(shape, np.float32), name)


def ints(name, values):
    return numpy_helper.from_array(np.array(values, np.int64), name)


def floats(name, values):
    return numpy_helper.from_array(np.array(values, np.float32), name)


def save(tmp_path, nodes, inits=(), shape=(1, 3, 7, 11), outputs=("y",), opset=21,
         name="m.onnx", extra_inputs=()):
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))]
        + list(extra_inputs),
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
        initializer=list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    path = tmp_path / name
    path.write_bytes(model.SerializeToString())
    return path


def layers(path, **kw):
    return document(path, path.name, **kw)["layers"]


def rows(path):
    return analyse(load_file(path, path.name)).layers


def error(capsys, *argv):
    status = main(list(map(str, argv)))
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and err.startswith("archcalc: error: "), err
    return err


def test_conv_attributes_map_to_the_spec(tmp_path):
    """Conv: filters from the weight, explicit per-side pads, strides, dilations, group and
    a missing bias; pools: stride, ceil_mode, count_include_pad."""
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv1", pads=[1, 2, 0, 3],
                              strides=[2, 1], dilations=[1, 2], group=3),
             helper.make_node("MaxPool", ["c"], ["p"], name="pool1", kernel_shape=[3, 3],
                              strides=[2, 2], ceil_mode=1),
             helper.make_node("AveragePool", ["p"], ["y"], name="pool2", kernel_shape=[2, 2],
                              pads=[1, 1, 1, 1])]
    path = save(tmp_path, nodes, [weight("w", 6, 1, 3, 3)])
    conv, pool1, pool2 = layers(path)
    assert conv == {"name": "conv1", "type": "conv", "filters": 6, "kernel": 3, "stride": [2, 1],
                    "padding": [[1, 0], [2, 3]], "dilation": [1, 2], "groups": 3, "bias": False}
    assert pool1 == {"name": "pool1", "type": "maxpool", "kernel": 3, "stride": 2,
                     "ceil_mode": True}
    assert pool2 == {"name": "pool2", "type": "avgpool", "kernel": 2, "stride": 1, "padding": 1,
                     "count_include_pad": False}
    assert [r.out_shape.dims for r in rows(path)] == [(6, 3, 12), (6, 1, 6), (6, 2, 7)]


def test_same_upper_is_same_padding(tmp_path):
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["y"], name="c", auto_pad="SAME_UPPER",
                              strides=[2, 2])]
    path = save(tmp_path, nodes, [weight("w", 4, 3, 3, 3), weight("b", 4)])
    assert layers(path)[0]["padding"] == "same"
    assert rows(path)[0].out_shape.dims == (4, 4, 6)


def test_activation_folds_into_the_conv_only_when_nothing_else_reads_it(tmp_path):
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("Conv", ["r", "w2"], ["c2"], name="conv2"),
             helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
             helper.make_node("Add", ["c2", "r2"], ["y"], name="add")]
    path = save(tmp_path, nodes, [weight("w", 3, 3, 1, 1), weight("w2", 3, 3, 1, 1)])
    assert [(item["name"], item["type"], item.get("activation")) for item in layers(path)] == [
        ("conv", "conv", "relu"), ("conv2", "conv", None), ("relu2", "relu", None),
        ("add", "add", None)]


@pytest.mark.parametrize("make, expected", [
    (lambda: [helper.make_node("Sigmoid", ["x"], ["s"]), helper.make_node("Mul", ["x", "s"], ["y"])],
     "silu"),
    (lambda: [helper.make_node("HardSigmoid", ["x"], ["s"], alpha=1 / 6, beta=0.5),
              helper.make_node("Mul", ["s", "x"], ["y"])], "hardswish"),
    (lambda: [helper.make_node("Softplus", ["x"], ["s"]), helper.make_node("Tanh", ["s"], ["t"]),
              helper.make_node("Mul", ["x", "t"], ["y"])], "mish"),
    (lambda: [helper.make_node("Div", ["x", "sqrt2"], ["d"]), helper.make_node("Erf", ["d"], ["e"]),
              helper.make_node("Add", ["e", "one"], ["a"]), helper.make_node("Mul", ["x", "a"], ["m"]),
              helper.make_node("Mul", ["m", "half"], ["y"])], "gelu"),
    (lambda: [helper.make_node("Mul", ["x", "half"], ["h"]), helper.make_node("Div", ["x", "sqrt2"], ["d"]),
              helper.make_node("Erf", ["d"], ["e"]), helper.make_node("Add", ["e", "one"], ["a"]),
              helper.make_node("Mul", ["h", "a"], ["y"])], "gelu"),
    (lambda: [helper.make_node("Clip", ["x", "zero", "six"], ["y"])], "relu6"),
    (lambda: [helper.make_node("HardSwish", ["x"], ["y"])], "hardswish"),
    (lambda: [helper.make_node("Gelu", ["x"], ["y"], approximate="tanh")], "gelu"),
    (lambda: [helper.make_node("LeakyRelu", ["x"], ["y"], alpha=0.2)], "leaky_relu"),
    (lambda: [helper.make_node("Elu", ["x"], ["y"])], "elu"),
    (lambda: [helper.make_node("Mish", ["x"], ["y"])], "mish"),
])
def test_activation_patterns(tmp_path, make, expected):
    """Every form an exporter writes an activation in becomes one archcalc layer."""
    consts = [floats("sqrt2", 2 ** 0.5), floats("one", 1.0), floats("half", 0.5),
              floats("zero", 0.0), floats("six", 6.0)]
    path = save(tmp_path, make(), consts)
    (item,) = layers(path)
    assert item["type"] == expected


def test_shape_subgraph_feeding_a_flattening_reshape(tmp_path):
    """x.view(x.size(0), -1) as torch exports it: Shape → Gather → Unsqueeze → Concat →
    Reshape, evaluated, becomes the dense layer's own flattening."""
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
             helper.make_node("Shape", ["c"], ["s"]),
             helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
             helper.make_node("Unsqueeze", ["n", "axes"], ["n1"]),
             helper.make_node("Concat", ["n1", "minus1"], ["target"], axis=0),
             helper.make_node("Reshape", ["c", "target"], ["f"]),
             helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], name="fc", transB=1)]
    inits = [weight("w", 2, 3, 3, 3), ints("zero", 0), ints("axes", [0]), ints("minus1", [-1]),
             weight("fw", 10, 2 * 5 * 9), weight("fb", 10)]
    path = save(tmp_path, nodes, inits)
    assert [(i["name"], i["type"]) for i in layers(path)] == [("conv", "conv"), ("fc", "dense")]
    assert rows(path)[1].params == 2 * 5 * 9 * 10 + 10


def test_matmul_and_bias_on_channels_last_is_a_pointwise_conv(tmp_path):
    """ConvNeXt's block: Transpose to channels-last, LayerNormalization, MatMul + Add
    (nn.Linear), a per-channel Mul (layer scale), Transpose back."""
    nodes = [helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1]),
             helper.make_node("LayerNormalization", ["t", "g", "b"], ["n"], name="norm", axis=-1),
             helper.make_node("MatMul", ["n", "w"], ["m"], name="pw"),
             helper.make_node("Add", ["m", "bias"], ["a"]),
             helper.make_node("Mul", ["a", "gamma"], ["s"], name="scale"),
             helper.make_node("Transpose", ["s"], ["y"], perm=[0, 3, 1, 2])]
    inits = [weight("g", 3), weight("b", 3), weight("w", 3, 8), weight("bias", 8), weight("gamma", 8)]
    path = save(tmp_path, nodes, inits)
    assert [(i["type"], i.get("filters")) for i in layers(path)] == [
        ("layernorm", None), ("conv", 8), ("layer_scale", None)]
    assert rows(path)[-1].out_shape.dims == (8, 7, 11)


def test_channel_shuffle_from_reshape_transpose_reshape(tmp_path):
    nodes = [helper.make_node("Reshape", ["x", "split"], ["g"]),
             helper.make_node("Transpose", ["g"], ["t"], perm=[0, 2, 1, 3, 4]),
             helper.make_node("Reshape", ["t", "whole"], ["y"], name="shuffle")]
    path = save(tmp_path, nodes, [ints("split", [0, 3, 2, 7, 11]), ints("whole", [0, 6, 7, 11])],
                shape=(1, 6, 7, 11))
    assert layers(path) == [{"name": "shuffle", "type": "channel_shuffle", "groups": 3}]


def test_names_are_sanitised_and_unique(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="/layer1/layer1.0/relu/Relu"),
             helper.make_node("Relu", ["a"], ["b"], name="/layer1/layer1.0/relu/Relu_1"),
             helper.make_node("Sigmoid", ["b"], ["c"], name="input"),
             helper.make_node("Tanh", ["c"], ["y"], name="odd name!")]
    names = [i["name"] for i in layers(save(tmp_path, nodes))]
    assert names == ["layer1.0.relu", "layer1.0.relu.relu", "input.sigmoid", "odd_name"]
    assert len(set(names)) == len(names)


def test_unknown_operator_is_one_line_naming_node_and_type(tmp_path, capsys):
    path = save(tmp_path, [helper.make_node("Relu", ["x"], ["r"], name="r"),
                           helper.make_node("Einsum", ["r"], ["y"], name="weird", equation="i->i")])
    err = error(capsys, "table", path)
    assert "node 'weird' (Einsum)" in err and "m.onnx" in err


def test_conv_transpose_pad_and_linear_resize(tmp_path):
    nodes = [helper.make_node("Pad", ["x", "pads", "v"], ["p"], name="pad", mode="reflect"),
             helper.make_node("ConvTranspose", ["p", "w", "b"], ["c"], name="up", strides=[2, 2],
                              pads=[1, 1, 1, 1], output_padding=[1, 0]),
             helper.make_node("Resize", ["c", "", "scales"], ["y"], name="resize", mode="linear")]
    inits = [ints("pads", [0, 0, 1, 2, 0, 0, 1, 2]), floats("v", 0.0), weight("w", 3, 4, 3, 3),
             weight("b", 4), floats("scales", [1, 1, 2, 2])]
    path = save(tmp_path, nodes, inits)
    assert layers(path) == [
        {"name": "pad", "type": "pad", "padding": [1, 2], "mode": "reflect"},
        {"name": "up", "type": "conv_transpose", "filters": 4, "kernel": 3, "stride": 2,
         "padding": 1, "output_padding": [1, 0]},
        {"name": "resize", "type": "upsample", "scale": 2, "mode": "bilinear"}]
    assert [r.out_shape.dims for r in rows(path)] == [(3, 9, 15), (4, 18, 29), (4, 36, 58)]


@pytest.mark.parametrize("data", [b"", b"\x00\x01garbage\xff" * 20, b"name: not onnx"])
def test_corrupt_file_is_one_line(tmp_path, capsys, data):
    path = tmp_path / "bad.onnx"
    path.write_bytes(data)
    assert "bad.onnx" in error(capsys, "table", path)


def test_symbolic_spatial_sizes_need_input(tmp_path, capsys):
    path = save(tmp_path, [helper.make_node("Relu", ["x"], ["y"])], shape=("N", 3, "H", "W"))
    assert "--input" in error(capsys, "table", path)
    out = tmp_path / "m.yaml"
    assert main(["import", str(path), "--input", "3,32,48", "-o", str(out)]) == 0
    assert "input: [3, 32, 48]" in out.read_text()


def test_missing_onnx_package_is_one_line(tmp_path, capsys, monkeypatch):
    import builtins

    path = save(tmp_path, [helper.make_node("Relu", ["x"], ["y"])])
    real = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name == "onnx" or name.startswith("onnx."):
            raise ImportError("no onnx")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    assert "pip install" in error(capsys, "table", path)


def test_every_command_reads_onnx(tmp_path, capsys):
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["y"])]
    path = save(tmp_path, nodes, [weight("w", 4, 3, 3, 3), weight("b", 4)])
    for argv in (["table"], ["rf"], ["sizes", "--max", "16"], ["verify"], ["memory"],
                 ["table", "--symbolic"]):
        assert main([argv[0], str(path), *argv[1:]]) == 0, argv
    assert "conv+relu" in capsys.readouterr().out


@pytest.fixture(scope="module")
def exported_bytes():
    from archcalc.io.onnx_out import export
    from archcalc.spec.catalog import load

    return {name: export(load(name), weights=False).SerializeToString()
            for name in ("se_resnet_block", "lenet5", "unet_small")}


def _mutate(data: bytes, edits) -> bytes:
    for kind, at, value in edits:
        at %= max(len(data), 1)
        if kind == "flip":
            data = data[:at] + bytes([value]) + data[at + 1:]
        elif kind == "cut":
            data = data[:at] + data[at + value % 16 + 1:]
        else:
            data = data[:at]
    return data


from hypothesis import given, strategies as st  # noqa: E402

from .test_fuzz import assert_clean, fuzz_settings, run_case  # noqa: E402


@fuzz_settings(ci_examples=150)
@given(name=st.sampled_from(["se_resnet_block", "lenet5", "unet_small"]),
       edits=st.lists(st.tuples(st.sampled_from(["flip", "cut", "truncate"]),
                                st.integers(0, 2**20), st.integers(0, 255)), min_size=1, max_size=4))
def test_fuzzed_onnx_bytes_are_read_or_refused_in_one_line(tmp_path_factory, exported_bytes, name, edits):
    """Byte-level mutations of exported graphs: `table` exits 0 with a table or 2 with
    exactly one 'archcalc: error:' line, never a traceback."""
    folder = tmp_path_factory.mktemp("onnx")
    path = folder / "fuzzed.onnx"
    path.write_bytes(_mutate(exported_bytes[name], edits))
    assert_clean(run_case(["table", str(path)], workdir=folder))


#: what a structural mutation may put in a node: other operators, attribute values of
#: every kind, sizes that are zero, huge or negative
_OPS = ["Conv", "Relu", "MaxPool", "AveragePool", "Gemm", "Flatten", "Reshape", "Concat", "Add",
        "Mul", "Resize", "Pad", "ConvTranspose", "BatchNormalization", "Transpose", "Softmax",
        "Clip", "LayerNormalization", "Slice", "Squeeze", "Unsqueeze", "Identity",
        "GlobalAveragePool", "Shape", "Gather", "Dropout", "LRN", "ReduceMean", "Sum", "MatMul",
        "PRelu", "HardSigmoid", "Gelu", "Einsum"]
_VALUES = [0, -1, 1, 3, 10**12, 0.5, "x", [0], [1, 2], [-5, 3, 2, 1], [1.5], ["a"]]
_NAMES = ["axis", "pads", "kernel_shape", "group", "mode", "perm", "axes", "alpha", "spec",
          "ceil_mode", "auto_pad", "strides"]


@fuzz_settings(ci_examples=150)
@given(name=st.sampled_from(["se_resnet_block", "lenet5", "unet_small"]), random=st.randoms())
def test_fuzzed_onnx_graphs_are_read_or_refused_in_one_line(tmp_path_factory, exported_bytes,
                                                            name, random):
    """Structural mutations of exported graphs (operators swapped, attributes of the wrong
    kind, inputs rewired, sizes zeroed or huge, nodes dropped): a clean exit or one error
    line naming the file."""
    model = onnx.ModelProto()
    model.ParseFromString(exported_bytes[name])
    nodes = model.graph.node
    for _ in range(random.randint(1, 3)):
        node, r = random.choice(nodes), random.random()
        if r < 0.3 and node.attribute:
            a = random.choice(node.attribute)
            a.CopyFrom(helper.make_attribute(a.name, random.choice(_VALUES)))
        elif r < 0.5:
            node.op_type, node.domain = random.choice(_OPS), ""
        elif r < 0.65 and node.input:
            node.input[random.randrange(len(node.input))] = random.choice(
                [out for n in nodes for out in n.output] + ["", "input", "zz"])
        elif r < 0.75:
            node.attribute.add().CopyFrom(helper.make_attribute(random.choice(_NAMES),
                                                                random.choice(_VALUES)))
        elif r < 0.85:
            dim = random.choice(list(model.graph.input[0].type.tensor_type.shape.dim))
            dim.dim_value = random.choice([0, 1, 2, 7, 10**10])
        elif r < 0.92 and model.graph.initializer:
            tensor = random.choice(model.graph.initializer)
            tensor.dims[:] = [random.choice([0, 1, 3, 5]) for _ in range(random.randint(0, 4))]
        else:
            del nodes[random.randrange(len(nodes))]
    folder = tmp_path_factory.mktemp("onnx")
    path = folder / "mutated.onnx"
    path.write_bytes(model.SerializeToString())
    assert_clean(run_case(["table", str(path)], workdir=folder))
