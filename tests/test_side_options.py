"""Side branches (``type: side``) and model options set from the CLI (``--option``)."""
import pytest
from click.testing import CliRunner
from hypothesis import given, strategies as st

from archcalc.spec.build import build_model
from archcalc.cli import cli, main, parse_option
from archcalc.errors import ArchcalcError, SpecError
from archcalc.core.report import analyse
from archcalc.spec.loader import parse_yaml
from .strategies import channels

SPEC = """\
name: side_demo
input: [3, 7, 11]
options: {aux: false, width: 4}
layers:
  - {name: conv, type: conv, filters: $width, kernel: 3}
  - name: aux
    type: side
    when: $aux
    layers:
      - {name: pool, type: gap}
      - {name: fc, type: dense, units: 2}
  - {name: fc, type: dense, units: 5}
"""


def build(text=SPEC, **options):
    return build_model(parse_yaml(text, "demo.yaml"), "demo.yaml", options)


def test_side_branch_is_off_by_default_and_adds_its_rows_when_on():
    """With the option off the side layers vanish; on, they add rows and params but the
    next layer still reads the tensor from before the side branch (4×5×9 = 180 features)."""
    off = analyse(build())
    on = analyse(build(aux=True))
    assert [r.name for r in off.layers] == ["conv", "fc"]
    assert [r.name for r in on.layers] == ["conv", "aux/pool", "aux/fc", "fc"]
    fc = on.layers[-1]
    assert fc.in_shape.dims == (4, 5, 9)
    assert fc.params == 180 * 5 + 5
    # the side head: gap of 4 maps, then 4·2 weights + 2 biases
    assert on.totals.params - off.totals.params == 4 * 2 + 2
    # the side head's last layer is a model output; nothing else reads it
    model = build(aux=True)
    assert model.outputs == ("fc", "aux/fc")
    assert all("aux/fc" not in n.inputs for n in model.nodes)


def test_side_branch_output_does_not_feed_the_next_layer():
    """A side branch ending in a different shape leaves the main path untouched."""
    report = analyse(build(aux=True))
    assert report.layers[2].out_shape.dims == (2,)
    assert report.layers[3].in_shape.dims == (4, 5, 9)


@pytest.mark.parametrize("text, message", [
    ("  - {type: side, layers: [{type: relu}]}\n", "needs a 'name'"),
    ("  - {name: s, type: side}\n", "side needs 'layers'"),
    ("  - {name: s, type: side, layers: [], branches: []}\n", "unknown key 'branches'"),
    ("  - {name: s, type: side, layers: [{type: relu, when: false}]}\n", "has no layers"),
])
def test_malformed_side_branches_name_file_line_and_layer(text, message):
    """Bad side branches are spec errors located at their line."""
    spec = "input: [3, 7, 11]\nlayers:\n  - {name: c, type: conv, filters: 2, kernel: 1}\n" + text
    with pytest.raises(SpecError) as info:
        build(spec)
    assert message in info.value.message
    assert info.value.file == "demo.yaml" and info.value.line == 4


@pytest.mark.parametrize("text, expected", [
    ("aux_logits=true", ("aux_logits", True)), ("aux_logits=False", ("aux_logits", False)),
    ("width = 12", ("width", 12)), ("act=relu6", ("act", "relu6")),
])
def test_parse_option_accepts(text, expected):
    """NAME=VALUE reads booleans and integers, other words stay strings."""
    assert parse_option(text) == expected


@pytest.mark.parametrize("text", ["aux", "=1", "aux=", ""])
def test_parse_option_rejects(text):
    """Anything but NAME=VALUE is refused with the expected form in the message."""
    with pytest.raises(ArchcalcError, match="NAME=VALUE"):
        parse_option(text)


def test_option_of_the_wrong_type_is_refused():
    """An option keeps the type of its declared default."""
    with pytest.raises(SpecError, match="option 'aux' takes a bool"):
        build(aux=3)


def test_cli_option_switches_the_side_branch(tmp_path):
    """`archcalc table FILE --option aux=true --option width=6` reaches the spec."""
    path = tmp_path / "demo.yaml"
    path.write_text(SPEC)
    runner = CliRunner()
    plain = runner.invoke(cli, ["table", str(path), "--format", "csv"])
    switched = runner.invoke(cli, ["table", str(path), "--format", "csv",
                                   "--option", "aux=true", "--option", "width=6"])
    assert plain.exit_code == 0 and switched.exit_code == 0, switched.output
    assert "aux/fc" not in plain.output and "aux/fc" in switched.output
    # width 6: the 3×3 conv has 6·3·9 + 6 = 168 params
    assert "168" in switched.output.splitlines()[1]


def test_cli_unknown_option_is_one_line_exit_2(tmp_path, capsys):
    """An undeclared option names the model's options and exits 2."""
    path = tmp_path / "demo.yaml"
    path.write_text(SPEC)
    assert main(["table", str(path), "--option", "aux_logit=true"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown option 'aux_logit'" in err and "aux, width" in err


def test_layer_nodes_include_side_layers_in_order():
    """Model.layer_nodes walks into side branches, in execution order."""
    assert [n.path for n in build(aux=True).layer_nodes()] == ["conv", "aux/pool", "aux/fc", "fc"]


def test_shape_error_inside_a_side_branch_names_its_layer():
    """A side layer that cannot take the tensor is reported at its own path and line."""
    spec = SPEC.replace("{name: pool, type: gap}", "{name: pool, type: maxpool, kernel: 9}")
    with pytest.raises(ArchcalcError) as info:
        analyse(build(spec, aux=True))
    assert info.value.layer == "aux/pool" and info.value.line == 10  # SPEC line 10


@given(c=channels, h=st.integers(3, 12), w=st.integers(3, 12), filters=channels,
       kernel=st.integers(1, 3), units=st.integers(1, 5))
def test_side_branch_never_changes_the_main_path(c, h, w, filters, kernel, units):
    """Switching a side branch on adds exactly its own rows: every main-path row (shapes and
    counts) is unchanged, and the totals grow by the side rows' sums."""
    spec = f"""\
input: [{c}, {h}, {w}]
options: {{aux: false}}
layers:
  - {{name: conv, type: conv, filters: {filters}, kernel: {kernel}, activation: relu}}
  - name: aux
    type: side
    when: $aux
    layers:
      - {{name: conv, type: conv, filters: 2, kernel: 1}}
      - {{name: fc, type: dense, units: {units}}}
  - {{name: pool, type: gap}}
"""
    off, on = analyse(build(spec)), analyse(build(spec, aux=True))
    main = [r for r in on.layers if not r.name.startswith("aux/")]
    side = [r for r in on.layers if r.name.startswith("aux/")]
    assert main == list(off.layers)
    assert len(side) == 2
    for field in ("params", "macs", "flops", "activations"):
        assert getattr(on.totals, field) == getattr(off.totals, field) + sum(
            getattr(r, field) for r in side)
