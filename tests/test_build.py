"""Spec features: blocks with arguments, repeat, first_args, when, options, default names."""
import pytest

from archcalc import analyse
from archcalc.spec.build import build_model
from archcalc.errors import SpecError
from archcalc.spec.expr import evaluate
from archcalc.spec.loader import parse_yaml


def model(text, **options):
    return build_model(parse_yaml(text, "t.yaml"), "t.yaml", options or None)


STAGES = """
name: stages
input: [4, 16, 16]
options: {wide: false}
blocks:
  unit:
    params: {width: ~, stride: 1, project: false}
    layers:
      - name: res
        type: residual
        activation: relu
        body:
          - {name: conv1, type: conv, filters: $width, kernel: 3, stride: $stride, padding: 1}
          - {name: conv2, type: conv, filters: "$width * (2 if False else 1)", kernel: 3, padding: 1}
        shortcut:
          - {name: proj, type: conv, filters: $width, kernel: 1, stride: $stride, when: $project}
layers:
  - {name: layer1, block: unit, repeat: 3, args: {width: 8}, first_args: {stride: 2, project: true}}
  - {type: gap}
  - {type: dense, units: 7, when: $wide}
"""


def test_repeat_first_args_and_paths():
    text = STAGES.replace('"$width * (2 if False else 1)"', "$width")
    names = [n.path for n in model(text).layer_nodes()]
    assert names == ["layer1/0/conv1", "layer1/0/conv2", "layer1/0/proj",
                     "layer1/1/conv1", "layer1/1/conv2", "layer1/2/conv1", "layer1/2/conv2", "gap2"]
    rows = {r.name: r for r in analyse(model(text)).layers}
    assert rows["layer1/0/conv1"].out_shape.dims == (8, 8, 8)          # first repeat downsamples
    assert rows["layer1/1/conv1"].out_shape.dims == (8, 8, 8)
    assert rows["layer1/0/res"].type == "add+relu"
    assert rows["layer1/0/proj"].params == 4 * 8 + 8


def test_options_switch_layers_on():
    text = STAGES.replace('"$width * (2 if False else 1)"', "$width")
    assert "dense3" not in {r.name for r in analyse(model(text)).layers}
    assert analyse(model(text, wide=True)).layers[-1].name == "dense3"
    with pytest.raises(SpecError, match="unknown option 'wdie'.*did you mean 'wide'"):
        model(text, wdie=True)


def test_expressions_refuse_anything_but_integer_arithmetic():
    with pytest.raises(SpecError, match="uses something other than"):
        model(STAGES)  # the spec uses a conditional expression
    assert evaluate("$a * 4 + $b // 2", {"a": 3, "b": 5}) == 14
    assert evaluate("$a == 2 and not $b", {"a": 2, "b": False}) is True
    assert evaluate("[$k, $k]", {"k": 3}) == [3, 3]
    for bad in ("__import__('os')", "$a.real", "$a ** 2", "open('x')"):
        with pytest.raises(SpecError):
            evaluate(bad, {"a": 2})


def test_default_names_are_type_and_position():
    m = model("name: x\ninput: [1, 8, 8]\nlayers:\n  - {type: conv, filters: 2, kernel: 3}\n"
              "  - {type: relu}\n  - {type: maxpool, kernel: 2}\n")
    assert [n.path for n in m.layer_nodes()] == ["conv1", "relu2", "maxpool3"]


def test_concat_identity_branch_grows_channels():
    """An empty branch passes the input through (DenseNet): 4 + 6 channels."""
    m = model("""
name: dense
input: [4, 9, 9]
layers:
  - name: grow
    type: concat
    branches:
      - []
      - [{name: new, type: conv, filters: 6, kernel: 3, padding: 1}]
""")
    rows = {r.name: r for r in analyse(m).layers}
    assert rows["grow"].out_shape.dims == (10, 9, 9)
    assert rows["grow"].activations == 10 * 9 * 9


def test_same_padding_conv():
    """TensorFlow 'same' on AlexNet's 224 input gives 56×56, not the 55 the notes claim."""
    m = model("name: tf\ninput: [3, 224, 224]\nlayers:\n"
              "  - {name: conv1, type: conv, filters: 96, kernel: 11, stride: 4, padding: same}\n")
    assert analyse(m).layers[0].out_shape.dims == (96, 56, 56)


def test_asymmetric_padding_and_rectangular_kernel():
    m = model("name: r\ninput: [3, 7, 11]\nlayers:\n"
              "  - {type: conv, filters: 2, kernel: [3, 5], stride: [1, 2], padding: [[0, 1], [2, 0]]}\n")
    row = analyse(m).layers[0]
    assert row.out_shape.dims == (2, (7 + 1 - 3) // 1 + 1, (11 + 2 - 5) // 2 + 1)
    assert row.macs == 2 * 3 * 3 * 5 * 6 * 5
