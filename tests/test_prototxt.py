"""Caffe's deploy.prototxt: the text-format reader on accepted and rejected texts, the
layer mapping (Caffe's ceil-mode pooling, BatchNorm + Scale, V1 nets), BVLC AlexNet's
deploy file against the bundled alexnet, and fuzzing: any text is read or refused with
one error line (file and line)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archcalc.cli import main
from archcalc.core.report import analyse
from archcalc.errors import ArchcalcError
from archcalc.io import load_file
from archcalc.io.prototxt import Message, Word, parse_text
from archcalc.render.formatters import FORMATTERS
from archcalc.spec.catalog import load

from .test_fuzz import assert_clean, fuzz_settings, run_case

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("text, fields", [
    ("", []),
    ("a: 1", [("a", 1)]),
    ("a: 1 a: 2.5 b: -3e2", [("a", 1), ("a", 2.5), ("b", -300.0)]),
    ('name: "x" "y"', [("name", "xy")]),
    ("name: 'it\\'s'", [("name", "it's")]),
    ("pool: MAX # comment\n", [("pool", Word("MAX"))]),
    ("p { k: 1 } p: { k: 2 }", [("p", "msg"), ("p", "msg")]),
    ("dim: [1, 3, 224]", [("dim", 1), ("dim", 3), ("dim", 224)]),
    ("a: 1, b: 2; c: true", [("a", 1), ("b", 2), ("c", Word("true"))]),
    ("p < k: 1 >", [("p", "msg")]),
])
def test_accepted_texts(text, fields):
    got = [(k, "msg" if isinstance(v, Message) else v) for k, v, _ in parse_text(text, "t").fields]
    assert got == fields


@pytest.mark.parametrize("text, line, message", [
    ("a 1", 1, "expected ':' or '{'"),
    ("a: ", 1, "expected a value"),
    ("a {\n b: 1\n", 2, "'}' missing"),
    ("a: 1 }", 1, "expected a field name"),
    ("\n\na: @", 3, "unexpected character"),
    ("a: [1, 2", 1, "expected ',' or ']'"),
    ("a: " + "9" * 50, 1, "a number of 50 characters"),
    ("a { " * 70 + "}" * 70, 1, "nest deeper than 64"),
    ('a: "unterminated', 1, "unexpected character"),
])
def test_rejected_texts(text, line, message):
    with pytest.raises(ArchcalcError) as info:
        parse_text(text, "t.prototxt")
    assert info.value.line == line and message in info.value.message
    assert "\n" not in info.value.render()


def figures(model) -> dict:
    doc = json.loads(FORMATTERS["json"](analyse(model), None))
    doc.pop("model")
    return doc


def test_bvlc_alexnet_deploy_equals_the_bundled_alexnet():
    """Caffe's own AlexNet deploy file: the bundled spec's table, row for row, names too
    (the bundled spec follows Caffe's bvlc_alexnet)."""
    path = DATA / "alexnet_deploy.prototxt"
    assert figures(load_file(path, str(path))) == figures(load("alexnet"))


def write(tmp_path, text, name="net.prototxt"):
    path = tmp_path / name
    path.write_text(text)
    return path


def rows(path):
    return [(r.name, r.type, r.out_shape.dims, r.params) for r in analyse(load_file(path, path.name)).layers]


def test_pooling_rounds_up_as_caffe_does(tmp_path):
    """GoogLeNet's pool1: 3×3 stride 2 on 112×112 is 56×56 in Caffe (55 rounding down)."""
    text = """input: "data" input_dim: 1 input_dim: 64 input_dim: 112 input_dim: 112
    layer { name: "pool1" type: "Pooling" bottom: "data" top: "pool1"
            pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
    layer { name: "ave" type: "Pooling" bottom: "pool1" top: "ave"
            pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 } }
    layer { name: "gap" type: "Pooling" bottom: "ave" top: "gap" pooling_param { pool: AVE global_pooling: true } }"""
    assert [r[2] for r in rows(write(tmp_path, text))] == [(64, 56, 56), (64, 29, 29), (64, 1, 1)]


def test_batchnorm_scale_eltwise_concat_and_v1_layers(tmp_path):
    """BatchNorm + Scale is one batchnorm (2·C params); in-place ReLU folds; Eltwise SUM is
    an add, PROD a multiply; the V1 form (layers, upper-case types) reads the same."""
    text = """name: "r" input: "data" input_shape { dim: 1 dim: 3 dim: 8 dim: 10 }
    layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
            convolution_param { num_output: 4 kernel_size: 3 pad: 1 bias_term: false } }
    layer { name: "bn" type: "BatchNorm" bottom: "conv" top: "conv" }
    layer { name: "scale" type: "Scale" bottom: "conv" top: "conv" scale_param { bias_term: true } }
    layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
    layer { name: "conv2" type: "Convolution" bottom: "conv" top: "conv2"
            convolution_param { num_output: 4 kernel_h: 1 kernel_w: 3 pad_h: 0 pad_w: 1 } }
    layer { name: "sum" type: "Eltwise" bottom: "conv" bottom: "conv2" top: "sum" }
    layer { name: "prod" type: "Eltwise" bottom: "sum" bottom: "conv2" top: "prod"
            eltwise_param { operation: PROD } }
    layer { name: "cat" type: "Concat" bottom: "prod" bottom: "sum" top: "cat" }"""
    assert rows(write(tmp_path, text)) == [
        ("conv", "conv", (4, 8, 10), 108), ("bn", "batchnorm", (4, 8, 10), 8),
        ("relu", "relu", (4, 8, 10), 0), ("conv2", "conv", (4, 8, 10), 52),
        ("sum", "add", (4, 8, 10), 0), ("prod", "multiply", (4, 8, 10), 0),
        ("cat", "concat", (8, 8, 10), 0)]
    v1 = """input: "data" input_dim: 1 input_dim: 3 input_dim: 9 input_dim: 9
    layers { name: "conv1" type: CONVOLUTION bottom: "data" top: "conv1"
             convolution_param { num_output: 2 kernel_size: 3 stride: 2 } }
    layers { name: "relu1" type: RELU bottom: "conv1" top: "conv1" }
    layers { name: "fc" type: INNER_PRODUCT bottom: "conv1" top: "fc" inner_product_param { num_output: 5 } }"""
    assert rows(write(tmp_path, v1, "v1.prototxt")) == [
        ("conv1", "conv+relu", (2, 4, 4), 56), ("fc", "dense", (5,), 165)]


@pytest.mark.parametrize("text, message", [
    ('input: "data" input_dim: 1 input_dim: 3 input_dim: 8 input_dim: 8\n'
     'layer { name: "x" type: "Crazy" bottom: "data" top: "x" }', "type Crazy is not one archcalc maps"),
    ('input: "data" input_dim: 1 input_dim: 3 input_dim: 8 input_dim: 8\n'
     'layer { name: "bn" type: "BatchNorm" bottom: "data" top: "data" }', "not followed by a Scale"),
    ('layer { name: "c" type: "ReLU" bottom: "data" top: "c" }', "reads blob 'data'"),
    ('input: "data"\n  input_dim: 1 input_dim: 3\nlayer {\n  name: "c"\n  type: "ReLU" bottom: "data" top: "c" }',
     "input shape must be"),
    ('input: "data" input_dim: 1 input_dim: 3 input_dim: 8 input_dim: 8\nlayer { name: "c" type: "Convolution" '
     'bottom: "data" top: "c" convolution_param { kernel_size: 3 } }', "needs num_output"),
    ('input: "data" input_dim: 1 input_dim: 3 input_dim: 8 input_dim: 8\nlayer { name: "c" type: "Pooling" '
     'bottom: "data" top: "c" pooling_param { pool: STOCHASTIC kernel_size: 2 } }', "MAX and AVE"),
    ('input: "data" input_dim: 1 input_dim: 3 input_dim: 8 input_dim: 8\nlayer { name: "c" '
     'type: "Deconvolution" bottom: "data" top: "c" }', "'kernel_size' is required"),
])
def test_bad_nets_are_one_line_with_file_and_line(tmp_path, capsys, text, message):
    path = write(tmp_path, text)
    assert main(["table", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "net.prototxt" in err and message in err, err


def test_syntax_error_names_the_line(tmp_path, capsys):
    path = write(tmp_path, 'input: "data"\ninput_dim: 1\nlayer {\n  name: "x"\n  type "ReLU"\n}\n')
    assert main(["table", str(path)]) == 2
    assert "net.prototxt:5: prototxt syntax error" in capsys.readouterr().err


ALEXNET = (DATA / "alexnet_deploy.prototxt").read_text()
SNIPPETS = ["{", "}", ":", '"', "'", "[", "]", "layer {", "type: \"Pooling\"", "pool: AVE",
            "kernel_size: 0", "stride: 0", "num_output: -3", "group: 7", "pad: 99999",
            "dim: 0", "bottom: \"nope\"", "top: \"data\"", "global_pooling: true", "1e400",
            "#", "\n", "\\", "layers { type: POOLING }", "input_dim: 2", "\x00", "é"]


@st.composite
def mutated_nets(draw):
    text = ALEXNET
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "cut", "truncate"]))
        if op == "insert":
            text = text[:at] + draw(st.sampled_from(SNIPPETS)) + text[at:]
        elif op == "cut":
            text = text[:at] + text[at + draw(st.integers(1, 30)):]
        else:
            text = text[:at]
    return text


@fuzz_settings(ci_examples=120)
@given(text=st.one_of(mutated_nets(), st.text(max_size=300)))
def test_fuzzed_prototxt_is_read_or_refused_in_one_line(tmp_path_factory, text):
    """Mutations of AlexNet's deploy file and random text: `table` exits 0 with a table
    or 2 with exactly one 'archcalc: error:' line, never a traceback."""
    folder = tmp_path_factory.mktemp("prototxt")
    path = folder / "fuzzed.prototxt"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    assert_clean(run_case(["table", str(path)], spec=text, workdir=folder))
