"""Specs as graphs of named tensors: inputs, outputs, block tensor arguments, merges, and
the one-line errors of bad graphs."""
import pytest

from archcalc import analyse
from archcalc.core.graph import INPUT
from archcalc.spec.catalog import load
from archcalc.numeric.verify import verify

from .helpers import run_cli, write_spec

SE = """
name: se
input: [8, 6, 5]
layers:
  - {name: trunk, type: conv, filters: 8, kernel: 3, padding: 1}
  - {name: squeeze, type: gap}
  - {name: fc1, type: conv, filters: 2, kernel: 1, activation: relu}
  - {name: fc2, type: conv, filters: 8, kernel: 1, activation: sigmoid}
  - {name: scale, type: multiply, inputs: [trunk, fc2]}
  - {name: out, type: add, inputs: [scale, input], activation: relu}
"""


def test_squeeze_and_excitation_by_hand(tmp_path):
    """SE on 8×6×5: the gate is 8×1×1, the product and the residual are 8×6×5.
    params: trunk 8·8·9 + 8 = 584; fc1 8·2 + 2 = 18; fc2 2·8 + 8 = 24.  The multiply does
    240 products (one per output, no MACs), the add 240 additions and 240 comparisons."""
    report = analyse(load(str(write_spec(tmp_path, SE))))
    rows = {r.name: r for r in report.layers}
    assert rows["fc2"].out_shape.dims == (8, 1, 1)
    assert rows["scale"].out_shape.dims == (8, 6, 5)
    assert [rows[n].params for n in ("trunk", "fc1", "fc2")] == [584, 18, 24]
    assert (rows["scale"].macs, rows["scale"].flops, rows["scale"].connections) == (0, 240, 480)
    assert (rows["out"].type, rows["out"].flops) == ("add+relu", 480)
    assert report.totals.params == 584 + 18 + 24


def test_graph_nodes_name_their_inputs(tmp_path):
    """Each node lists the tensors it reads; the default is the previous item's output."""
    model = load(str(write_spec(tmp_path, SE)))
    inputs = {n.path: n.inputs for n in model.nodes}
    assert inputs == {"trunk": (INPUT,), "squeeze": ("trunk",), "fc1": ("squeeze",),
                      "fc2": ("fc1",), "scale": ("trunk", "fc2"), "out": ("scale", INPUT)}
    assert model.outputs == ("out",)
    # the trunk is read last by 'scale' (index 4), the input by 'out' (index 5)
    assert model.last_use["trunk"] == 4 and model.last_use[INPUT] == 5


def test_graph_verifies_in_numpy(tmp_path):
    """The NumPy run of a DAG agrees with the engine on every node."""
    result = verify(load(str(write_spec(tmp_path, SE))), batch=2)
    assert result.ok, result.disagreements()
    assert [c.name for c in result.checks] == ["trunk", "squeeze", "fc1", "fc2", "scale", "out"]


UNET_STAGE = """
name: blocks
input: [2, 12, 12]
blocks:
  up:
    params: {skip: ~, filters: ~}
    layers:
      - {name: upsampled, type: upsample, scale: 2}
      - {name: cropped, type: crop, inputs: [$skip, upsampled]}
      - {name: merged, type: concat, inputs: [cropped, upsampled]}
      - {name: conv, type: conv, filters: $filters, kernel: 3, padding: 1}
layers:
  - {name: enc, type: conv, filters: 4, kernel: 3}
  - {name: down, type: maxpool, kernel: 2}
  - {block: up, name: dec, args: {skip: enc, filters: 3}}
"""


def test_block_takes_a_tensor_argument(tmp_path):
    """args: {skip: enc} is read as inputs: [$skip]: enc 4×10×10, pooled to 4×5×5,
    upsampled to 4×10×10, enc cropped to it (offset 0), concatenated to 8×10×10."""
    model = load(str(write_spec(tmp_path, UNET_STAGE)))
    nodes = {n.path: n for n in model.nodes}
    assert nodes["dec/cropped"].inputs == ("enc", "dec/upsampled")
    rows = {r.name: r for r in analyse(model).layers}
    assert rows["dec/merged"].out_shape.dims == (8, 10, 10)
    assert rows["dec/conv"].params == 3 * 8 * 9 + 3
    assert verify(model).ok


def test_block_output_and_model_outputs(tmp_path, capsys):
    """A block's 'output:' names which of its layers it returns; 'outputs:' lists several
    model outputs, so a head whose output nothing reads is not an error."""
    text = """
        name: heads
        input: [3, 8, 8]
        outputs: [cls, box]
        blocks:
          stem:
            output: feat
            layers:
              - {name: feat, type: conv, filters: 4, kernel: 3}
              - {name: probe, type: gap, inputs: [feat]}
              - {name: probe_fc, type: flatten}
              - {name: use, type: add, inputs: [probe_fc, probe_fc]}
        layers:
          - {block: stem, name: s}
          - {name: cls, type: conv, filters: 2, kernel: 1}
          - {name: box, type: conv, filters: 4, kernel: 1, inputs: [s]}
    """
    status, _, err = run_cli(capsys, "table", str(write_spec(tmp_path, text)))
    assert status == 2 and "layer 's/use'" in err and "never used" in err
    fixed = text.replace("outputs: [cls, box]", "outputs: [cls, box, s/use]")
    model = load(str(write_spec(tmp_path, fixed)))
    assert model.outputs == ("cls", "box", "s/use")
    nodes = {n.path: n for n in model.nodes}
    assert nodes["cls"].inputs == ("s/feat",) and nodes["box"].inputs == ("s/feat",)


BAD = {
    "unknown_name": ("- {name: b, type: add, inputs: [a, nope]}",
                     ["graph.yaml:5:", "layer 'b'", "input 'nope' is not a layer"]),
    "later_name": ("- {name: b, type: add, inputs: [a, c]}\n  - {name: c, type: relu}",
                   ["graph.yaml:5:", "input 'c' is not a layer or block instance defined before"]),
    "typo_hint": ("- {name: b, type: add, inputs: [a, inptu]}", ["did you mean 'input'"]),
    "merge_without_inputs": ("- {name: b, type: add}", ["layer 'b'", "at least two"]),
    "merge_of_one": ("- {name: b, type: concat, inputs: [a]}", ["at least two"]),
    "conv_of_two": ("- {name: b, type: conv, filters: 2, kernel: 1, inputs: [a, input]}",
                    ["conv reads one tensor; 'inputs' lists 2"]),
    "crop_of_three": ("- {name: b, type: crop, inputs: [a, input, a]}", ["crop reads 2 tensors"]),
    "mismatched_add": ("- {name: b, type: conv, filters: 5, kernel: 1, inputs: [input]}\n"
                       "  - {name: c, type: add, inputs: [a, b]}",
                       ["layer 'c'", "add of mismatched shapes", "3×4×4", "5×4×4", "'a', 'b'"]),
    "unused": ("- {name: b, type: relu, inputs: [input]}\n  - {name: c, type: relu}",
               ["layer 'a'", "never used", "outputs"]),
    "name_for_number": ("- {name: b, type: conv, filters: a, kernel: 1}", ["layer 'b'", "filters"]),
    "reserved_name": ("- {name: input, type: relu}", ["'input' names the model input"]),
    "branch_name_is_local": ("- {type: concat, name: cat, branches: [[{name: x, type: relu}], []]}\n"
                             "  - {name: y, type: add, inputs: [x, cat]}",
                             ["input 'x' is not a layer"]),
    "bad_outputs": ("- {name: b, type: relu}", ["output 'zz'"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_graph_is_one_line_with_file_line_layer(tmp_path, capsys, case):
    """Every malformed graph gives one error line naming the place, and exit status 2."""
    layers, fragments = BAD[case]
    outputs = "outputs: [zz]\n" if case == "bad_outputs" else ""
    path = tmp_path / "graph.yaml"
    path.write_text(f"name: g\ninput: [3, 4, 4]\n{outputs}layers:\n  - {{name: a, type: relu}}\n"
                    f"  {layers}\n", encoding="utf-8")
    status, out, err = run_cli(capsys, "table", str(path))
    lines = err.strip().splitlines()
    assert status == 2 and out == "" and len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
