"""Symbolic mode: formulas from the engine's own rules, exact at every valid size."""
import json

import pytest
import sympy
from hypothesis import assume, given, settings, strategies as st

from archcalc.spec.build import build_model
from archcalc.spec.catalog import bundled_names, load
from archcalc.core.engine import propagate
from archcalc.errors import ArchcalcError
from archcalc.render.formatters import to_json_dict
from archcalc.core.report import analyse
from archcalc.core.shapes import Shape
from archcalc.analyses.symbolic import SYMBOLS, analyse_symbolic, evaluate

from .strategies import window_stacks

FIGURES = ("params", "connections", "macs", "flops", "activations", "activation_bytes")


def _valid(model, h, w):
    try:
        propagate(model, Shape.of(model.input_shape.channels, h, w))
    except ArchcalcError:
        return False
    return True


def parse_back(sym_json):
    """The JSON formulas as sympy expressions, parsed from their strings once."""
    def parse(v):
        return sympy.sympify(v, locals=dict(SYMBOLS)) if isinstance(v, str) else sympy.Integer(v)

    layers = [{"name": l["name"], "output": [parse(d) for d in l["output"]],
               **{k: parse(l[k]) for k in FIGURES}} for l in sym_json["layers"]]
    return layers, {k: parse(v) for k, v in sym_json["totals"].items()}


def assert_formulas_match(model, parsed, h, w, b):
    """Every parsed formula, evaluated at (h, w, b), equals the integer report's figure."""
    layers, totals = parsed
    report = analyse(model, Shape.of(model.input_shape.channels, h, w), batch=b)
    exact = to_json_dict(report)
    at = {SYMBOLS["H"]: h, SYMBOLS["W"]: w, SYMBOLS["B"]: b}
    assert len(layers) == len(exact["layers"])
    for sym, num in zip(layers, exact["layers"]):
        assert sym["name"] == num["name"]
        assert [d.subs(at) for d in sym["output"]] == num["output"], sym["name"]
        for key in FIGURES:
            assert sym[key].subs(at) == num[key], (sym["name"], key)
    for key, value in totals.items():
        assert value.subs(at) == exact["totals"][key], key


def _formulas_allowed(model) -> bool:
    """False for a stack past symbolic mode's caps on formula growth (MAX_SYMBOLIC_CASES)."""
    from archcalc.analyses.symbolic import _check_formula_growth

    try:
        _check_formula_growth(model)
    except ArchcalcError:
        return False
    return True


@settings(max_examples=40)
@given(doc=window_stacks(), data=st.data())
def test_formulas_equal_integer_engine_on_random_stacks(doc, data):
    """For random conv/pool stacks (ceil mode, 'same', dilation, dense or GAP heads) and
    random valid input sizes, each symbolic formula, parsed back from its JSON string and
    evaluated at the size, equals the integer engine's figure exactly."""
    model = build_model(doc)
    assume(_valid(model, *model.input_shape.spatial))
    assume(_formulas_allowed(model))
    parsed = parse_back(json.loads(json.dumps(to_json_dict(analyse_symbolic(model, limit=30)))))
    for _ in range(4):
        h, w = data.draw(st.integers(1, 40)), data.draw(st.integers(1, 40))
        b = data.draw(st.integers(1, 3))
        if _valid(model, h, w):
            assert_formulas_match(model, parsed, h, w, b)
    # the declared size is valid, so at least it is always checked
    assert_formulas_match(model, parsed, *model.input_shape.spatial, 2)


def test_alexnet_conv1_formula_reads_in_floor_form():
    """conv1 of AlexNet: (H − 11) // 4 + 1 rows, printed floor((H - 11)/4) + 1."""
    sym = to_json_dict(analyse_symbolic(load("alexnet")))
    conv1 = sym["layers"][0]
    assert conv1["output"] == [96, "floor((H - 11)/4) + 1", "floor((W - 11)/4) + 1"]
    H = sympy.Symbol("H")
    assert sympy.sympify(conv1["output"][1]) == sympy.floor((H - 11) / 4) + 1


def test_alexnet_dense_head_pins_the_input():
    """AlexNet's fc6 weights fix the input: the formulas carry the condition
    256·h5·w5 = 9216 (256 maps of 6×6 at 227), and the fc6 params are the constant
    9216·4096 + 4096."""
    rep = analyse_symbolic(load("alexnet"))
    assert [c.layer for c in rep.conditions] == ["fc6"]
    cond = rep.conditions[0]
    assert cond.expected == 256 * 6 * 6
    assert evaluate(cond.features, 227, 227) == 9216
    # Caffe's ceil-mode pools: 224 gives conv1 54, pools 27, 13 and 6, so 6×6 too; 231 gives
    # 56, 28, 14, 7 and 198 gives 47, 23, 11, 5
    assert evaluate(cond.features, 224, 224) == 256 * 6 * 6
    assert evaluate(cond.features, 231, 231) == 256 * 7 * 7
    assert evaluate(cond.features, 198, 198) == 256 * 5 * 5
    fc6 = next(r for r in rep.layers if r.name == "fc6")
    assert fc6.params == 9216 * 4096 + 4096
    assert not rep.open_above
    assert any("fix the input size" in note for note in rep.notes)


def test_gap_model_reports_minimum_and_accepts_larger():
    """torchvision's AlexNet (adaptive pooling) accepts any size from a minimum: the last
    maxpool needs 3 rows, conv3..5 keep sizes, pool2 needs (x−3)//2+1 ≥ 3 → x ≥ 7,
    pool1 input 15, conv1 output 15 → (H + 4 − 11)//4 + 1 ≥ 15 → H ≥ 63."""
    rep = analyse_symbolic(load("alexnet_torchvision"))
    assert rep.conditions == ()
    assert rep.min_input == (63, 63)
    assert rep.open_above
    assert "H ≥ 63 and W ≥ 63" in rep.notes[0]


@pytest.mark.parametrize("name", bundled_names())
def test_every_bundled_model_has_formulas_that_give_its_declared_figures(name):
    """Every bundled model analyses symbolically, and every formula in its JSON, parsed back
    from its string and evaluated at the declared sizes (L; H, W; D, H, W; batch 1), is the
    integer figure."""
    model = load(name)
    sizes = model.input_shape.spatial
    sym = to_json_dict(analyse_symbolic(model))
    exact = to_json_dict(analyse(model))
    for got, want in zip(sym["layers"], exact["layers"]):
        for key in FIGURES:
            value = got[key]
            assert (evaluate(value, *sizes) if isinstance(value, str) else value) == want[key], \
                (got["name"], key)


def test_bad_input_is_one_line_exit_2(tmp_path, capsys):
    """Branches that agree only at even sizes (ceil vs floor halving) cannot have one
    formula: a one-line error naming the layer, exit 2; so does --symbolic with --input."""
    from archcalc.cli import main

    spec = tmp_path / "branchy.yaml"
    spec.write_text(
        "name: branchy\ninput: [2, 8, 10]\nlayers:\n  - name: mix\n    type: concat\n"
        "    branches:\n"
        "      - [{name: a, type: conv, filters: 2, kernel: 3, stride: 2, padding: same}]\n"
        "      - [{name: b, type: maxpool, kernel: 2, stride: 2}]\n")
    assert main(["table", str(spec)]) == 0  # valid at its declared 8×10
    capsys.readouterr()
    assert main(["table", str(spec), "--symbolic"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "layer 'mix'" in err and "no single formula" in err
    assert main(["table", "alexnet", "--symbolic", "--input", "3,7,11"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_integer_table_path_imports_neither_sympy_nor_numpy():
    """`archcalc table vgg16` (and --rf) run without importing sympy or numpy."""
    import subprocess
    import sys

    code = ("import sys; from archcalc.cli import main; main(['table', 'vgg16']); "
            "main(['table', 'vgg16', '--rf']); "
            "assert 'sympy' not in sys.modules and 'numpy' not in sys.modules, 'imported'")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_markdown_and_text_show_readable_formulas(capsys):
    """Markdown rows and the text blocks carry the floor-form formulas and the notes."""
    from archcalc.cli import main

    assert main(["table", "alexnet", "--symbolic", "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert "| conv1 | conv+relu | 96×(floor((H - 11)/4) + 1)×(floor((W - 11)/4) + 1) |" in md
    assert "fix the input size" in md
    assert main(["table", "alexnet_torchvision", "--symbolic"]) == 0
    text = capsys.readouterr().out
    assert "accepts any input with H ≥ 63 and W ≥ 63" in text


def test_ceil_pool_no_wider_than_its_window_has_a_plain_formula():
    """A Caffe ceil-mode pool whose stride does not exceed its window never drops a last
    window, so its size is one ceiling, no Piecewise: ZFNet's pool1 after conv1 (7×7/2,
    pad 1) is ceil((floor((H − 5)/2) + 1 − 3)/2) + 1, which is 55 at H = 224 (Figure 3)."""
    rep = to_json_dict(analyse_symbolic(load("zfnet")))
    pool1 = next(layer for layer in rep["layers"] if layer["name"] == "pool1")
    height = pool1["output"][1]
    assert "Piecewise" not in height
    assert evaluate(height, 224, 224) == 55
    for size in range(7, 300):
        conv1 = (size + 2 - 7) // 2 + 1
        assert evaluate(height, size, size) == -(-(conv1 - 3) // 2) + 1
