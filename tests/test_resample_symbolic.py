"""--symbolic on conv_transpose, upsample and pad: every column's formula, evaluated at
integer sizes, gives the integer engine's figure (including the cases the formulas split:
a size-based linear resize of an axis that may keep its size, an upsample of a one-cell
axis, taps cropped by a transposed conv's padding)."""
import pytest

from archcalc.analyses.symbolic import analyse_symbolic, evaluate
from archcalc.core.report import analyse
from archcalc.core.shapes import Shape
from archcalc.errors import ArchcalcError
from archcalc.spec.build import build_model

COLUMNS = ("params", "connections", "macs", "flops", "activations")

MODELS = {
    "1d": ({"name": "a", "input": [2, 9], "layers": [
        {"name": "ct", "type": "conv_transpose", "filters": 3, "kernel": 5, "stride": 2, "padding": 3,
         "output_padding": 1, "activation": "relu"},
        {"name": "up", "type": "upsample", "scale": 3, "mode": "linear"},
        {"name": "sz", "type": "upsample", "size": 40, "mode": "linear", "align_corners": True},
        {"name": "near", "type": "upsample", "size": 17},
        {"name": "pad", "type": "pad", "padding": [[2, 1]], "mode": "reflect"}]},
        [(1,), (2,), (3,), (9,), (20,), (40,)]),
    "2d": ({"name": "b", "input": [1, 6, 5], "layers": [
        {"name": "pad", "type": "pad", "padding": 1, "mode": "replicate"},
        {"name": "up", "type": "upsample", "size": [8, 14], "mode": "bilinear"},
        {"name": "ct", "type": "conv_transpose", "filters": 2, "kernel": [2, 3], "stride": [2, 1],
         "dilation": [1, 2], "padding": [0, 2], "groups": 1},
        {"name": "up2", "type": "upsample", "scale": [1, 2], "mode": "bilinear"}]},
        [(6, 5), (6, 12), (1, 1), (3, 7)]),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_symbolic_formulas_evaluate_to_the_integer_figures(name):
    """At each size the integer engine accepts, every row's formulas evaluate to its
    figures (here the declared model's 'up' resizes to 8×14: at 6×12 its width is kept)."""
    doc, sizes = MODELS[name]
    model = build_model(doc)
    sym = analyse_symbolic(model)
    checked = 0
    for size in sizes:
        try:
            rows = analyse(model, Shape.of(doc["input"][0], *size)).layers
        except ArchcalcError:
            continue  # not a valid size (a reflect pad needs more cells)
        checked += 1
        for s, r in zip(sym.layers, rows):
            for column in COLUMNS:
                assert evaluate(getattr(s, column), *size) == getattr(r, column), (size, r.name, column)
    assert checked >= 3


def test_symbolic_cap_on_cropped_taps():
    """A transposed conv whose padding crops more than 64 taps of a symbolic axis has no
    formula here; it is one line naming the cap (integer sizes have no limit)."""
    model = build_model({"name": "c", "input": [1, 300], "layers": [
        {"name": "ct", "type": "conv_transpose", "filters": 1, "kernel": 200, "padding": 50}]})
    with pytest.raises(ArchcalcError, match="at most 64"):
        analyse_symbolic(model)
    assert analyse(model).layers[0].out_shape == Shape.of(1, 399)
