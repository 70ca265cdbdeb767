"""``archcalc verify --train`` end to end: bundled models of every kind pass at small
inputs (forward and backward MACs, saved bytes, memory over the step); a wrong engine
backward rule, saved rule or memory prediction is caught (exit 1); bad input is exit 2."""
import json

import pytest

from archcalc.cli import main
from archcalc.core.backward import Backward
from archcalc.core.shapes import Shape
from archcalc.errors import ArchcalcError
from archcalc.numeric.verify import MEMORY_FLOOR
from archcalc.numeric.verify_train import verify_training
from archcalc.spec.catalog import load

#: (model, input or None for the declared one, batch): a connection table, subsampling and
#: RBF; a residual net with batch norm; SiLU, an SE gate and stochastic depth; crops,
#: upsampling and concatenation; 1-D audio; 3-D video
MODELS = [("lenet5", None, 4), ("resnet18", "3,32,32", 2), ("mbconv_se", None, 2),
          ("unet_small", None, 2), ("m5", "1,4000", 2), ("c3d_block", "3,4,28,28", 1)]


@pytest.mark.parametrize("name, dims, batch", MODELS)
def test_bundled_models_verify_a_training_step(name, dims, batch):
    """Every step agrees: MACs exactly, saved bytes exactly, traced memory within
    verify's tolerance at every step, and the peak within 5 %."""
    shape = Shape(tuple(int(d) for d in dims.split(","))) if dims else None
    v = verify_training(load(name), shape, batch=batch)
    assert v.ok, v.disagreements()
    assert v.engine_saved_bytes == v.numpy_saved_bytes > 0
    assert v.predicted_peak >= MEMORY_FLOOR
    assert 0.95 <= v.measured_peak / v.predicted_peak <= 1.05
    backward = [c for c in v.checks if c.phase == "backward"]
    assert backward and any(c.numpy_weight_macs for c in backward)


def test_cli_verdict_and_json(capsys):
    """Text ends with the one-line verdict; JSON carries every step and the totals."""
    assert main(["verify", "lenet5", "--train", "--batch", "2"]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().splitlines()[-1].startswith("✓ all 14 steps agree with the engine")
    assert main(["verify", "lenet5", "--train", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] and doc["train"] and len(doc["steps"]) == 14
    c3 = next(s for s in doc["steps"] if s["name"] == "C3" and s["phase"] == "backward")
    assert c3["macs"]["engine"] == c3["macs"]["numpy"] == {"input": 150_000, "weights": 150_000}
    assert doc["saved_bytes"]["engine"] == doc["saved_bytes"]["numpy"]
    assert set(doc["peak_memory_bytes"]) == {"predicted", "measured", "ok", "layer", "phase"}


def test_cli_freeze(capsys):
    """--freeze C1 C3: their weights are not trained; C1 then runs no backward at all
    (nothing upstream needs a gradient), C3 only its input's."""
    assert main(["verify", "lenet5", "--train", "--freeze", "C1", "--freeze", "C3",
                 "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    backward = {s["name"]: s["macs"]["numpy"] for s in doc["steps"] if s["phase"] == "backward"}
    assert "C1" not in backward and backward["C3"] == {"input": 150_000, "weights": 0}
    assert doc["freeze"] == ["C1", "C3"]


@pytest.mark.parametrize("args, message", [
    (["--freeze", "C1"], "--freeze applies to a training step"),
    (["--train", "--freeze", "C9"], "matches no layer"),
    (["--train", "--save", "x.npz"], "does not combine with --train"),
    (["--train", "--dtype", "float16"], "float16"),
])
def test_bad_input_is_exit_2(args, message, capsys):
    assert main(["verify", "lenet5", *args]) == 2
    assert message in capsys.readouterr().err


def test_a_wrong_backward_rule_is_caught(monkeypatch, capsys):
    """An engine that counts the dense layer's weight gradient twice fails: exit 1, with
    the layer and both splits named."""
    from archcalc.layers.dense import Dense

    right = Dense.backward

    def doubled(self, x, y, needs):
        b = right(self, x, y, needs)
        return Backward(b.input_macs, 2 * b.weight_macs, b.work)

    monkeypatch.setattr(Dense, "backward", doubled)
    assert main(["verify", "lenet5", "--train"]) == 1
    out = capsys.readouterr().out
    assert ("F6 (backward): backward MACs (input + weights): engine 10,080 + 20,160, "
            "numpy 10,080 + 10,080") in out


def test_a_wrong_saved_rule_is_caught(monkeypatch):
    """An engine that says max pooling keeps no indices: the NumPy backward still needs
    them, so the tape holds more than the engine states."""
    from archcalc.core.backward import Saved
    from archcalc.layers.pool import MaxPool

    monkeypatch.setattr(MaxPool, "saved", lambda self, x, y, needs: Saved(inputs=(0,)))
    with pytest.raises(KeyError):  # the backward reads the indices the tape lacks
        verify_training(load("unet_small"))


def test_a_wrong_memory_prediction_is_caught(monkeypatch):
    """A conv backward said to need 8 MiB of workspace more than it does."""
    from archcalc.layers.conv import Conv

    right = Conv.backward_workspace
    monkeypatch.setattr(Conv, "backward_workspace",
                        lambda self, *args: right(self, *args) + (8 << 20))
    v = verify_training(load("unet_small"))
    assert not v.ok and not v.peak_ok
    assert any("(backward): memory: predicted" in d for d in v.disagreements())


def test_a_run_that_would_not_fit_is_refused():
    with pytest.raises(ArchcalcError, match="training step of lenet5 at batch 1 needs about"):
        verify_training(load("lenet5"), available=1000)
