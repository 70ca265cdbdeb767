"""``archcalc verify`` end to end: every bundled model passes, wrong engine figures are
caught, runs that would not fit are refused, and --save/--format behave as documented."""
import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from archcalc.spec.catalog import bundled_names, load
from archcalc.cli import cli, main
from archcalc.numeric.verify import available_memory, memory_agrees, verify

#: smaller inputs where a model allows them (no dense head fixing the input size)
SMALL_INPUTS = {
    "alexnet_torchvision": "3,64,72",   # the adaptive pool to 6×6 frees the dense head
    "inception_naive": "256,9,11",
    "inception_bottleneck": "256,9,11",
    # the second-wave zoo ends in a global or adaptive pool: any size that survives the
    # strides verifies every layer type, and 64×64 keeps CI fast
    **{f"efficientnet_b{i}": "3,64,64" for i in range(4)},
    "mobilenet_v3_large": "3,64,64", "mobilenet_v3_small": "3,64,64",
    "convnext_tiny": "3,64,64", "convnext_small": "3,64,64",
    "regnet_x_400mf": "3,64,64", "regnet_y_400mf": "3,64,64", "regnet_y_1_6gf": "3,64,64",
    "resnext50_32x4d": "3,64,64", "wide_resnet50_2": "3,64,64",
    "mnasnet1_0": "3,64,64",
    "shufflenet_v2_x1_0": "3,64,64",
    "unet": "1,188,188",               # the smallest tile (188 = 572 − 16·24: output 4×4)
    "unet_same": "1,64,64",
    "inception_v3": "3,75,75",         # torchvision's smallest (the reductions leave 1×1)
}


@pytest.mark.parametrize("name", bundled_names())
def test_every_bundled_model_verifies(name, capsys):
    """Engine and NumPy agree on every row of every bundled model (batch 1): exit 0."""
    args = ["verify", name] + (["--input", SMALL_INPUTS[name]] if name in SMALL_INPUTS else [])
    assert main(args) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert "✗" not in out
    assert out.count("✓ ") >= 4 * len(load(name).nodes)


def test_small_inputs_still_cover_every_model():
    """The table above names only bundled models (a renamed spec would silently drop out)."""
    assert set(SMALL_INPUTS) <= set(bundled_names())


def test_wrong_engine_macs_are_caught(monkeypatch, capsys):
    """An engine that overstates conv MACs by one per output pixel fails verify: exit 1,
    and the disagreement names the layer and both figures."""
    from archcalc.layers.conv import Conv

    right = Conv.macs
    monkeypatch.setattr(Conv, "macs", lambda self, x, y: right(self, x, y) + y.spatial[0] * y.spatial[1])
    assert main(["verify", "lenet5"]) == 1
    captured = capsys.readouterr()
    # C1: 6 maps × 25 taps × 28·28 = 117,600 MACs; the wrong engine adds 784
    assert "C1: MACs: engine 118,384, numpy 117,600" in captured.out
    assert "disagree" in captured.err


def test_wrong_engine_params_are_caught(monkeypatch):
    """An engine that forgets the subsampling bias (1 coefficient per map instead of 2)."""
    from archcalc.layers.pool import Subsample

    monkeypatch.setattr(Subsample, "params", lambda self, x: x.channels)
    result = verify(load("lenet5"))
    assert not result.ok
    assert [c.name for c in result.checks if not c.params_ok] == ["S2", "S4"]
    assert "S2: params: engine 6, numpy 12" in result.disagreements()


def test_wrong_engine_shape_is_caught(monkeypatch):
    """An engine whose max pool adds a row mis-sizes torchvision AlexNet's pools (at 64×72:
    conv1 gives (64 + 4 − 11) // 4 + 1 = 15 rows, pool1 (15 − 3) // 2 + 1 = 7, not 8): the
    output shape check fails there, while the adaptive pool keeps the rest computable."""
    from archcalc.layers.pool import MaxPool
    from archcalc.core.shapes import Shape

    right = MaxPool.out_shape
    monkeypatch.setattr(MaxPool, "out_shape",
                        lambda self, x: Shape.of(*(d + 1 if i else d for i, d in enumerate(right(self, x).dims))))
    result = verify(load("alexnet_torchvision"), Shape.of(3, 64, 72))
    assert not result.ok
    pool1 = next(c for c in result.checks if not c.shape_ok)
    assert (pool1.engine_shape[1], pool1.numpy_shape[1]) == (8, 7)


def test_memory_refusal_before_allocating():
    """VGG-19 at batch 512 needs tens of GiB: with 1 GiB available, verify refuses (exit 2
    through the CLI's error path) instead of trying."""
    from archcalc.errors import ArchcalcError

    with pytest.raises(ArchcalcError, match="needs about .* GiB .* only 1.00 GiB is available"):
        verify(load("vgg19"), batch=512, available=1 << 30)


def test_memory_refusal_exit_status(monkeypatch, capsys):
    """Through the CLI: one error line, exit 2."""
    monkeypatch.setattr("archcalc.numeric.verify.available_memory", lambda: 1 << 20)
    assert main(["verify", "alexnet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("archcalc: error:") and err.count("\n") == 1


def test_available_memory_reads_meminfo(tmp_path):
    """MemAvailable is given in kB: 2048 kB → 2,097,152 bytes; missing → None."""
    f = tmp_path / "meminfo"
    f.write_text("MemTotal:       4096 kB\nMemAvailable:   2048 kB\n")
    assert available_memory(f) == 2048 * 1024
    f.write_text("MemTotal:       4096 kB\n")
    assert available_memory(f) is None


def test_memory_band():
    """Agreement means measured within [predicted / 1.5, predicted × 1.5] above 1 MiB."""
    mib = 1 << 20
    assert memory_agrees(10 * mib, 14 * mib)
    assert not memory_agrees(10 * mib, 16 * mib)
    assert not memory_agrees(10 * mib, 6 * mib)
    assert memory_agrees(1000, 100_000)


def test_predicted_memory_close_to_measured_for_alexnet():
    """The documented prediction (params + outputs so far + workspace) is within 5% of
    tracemalloc's peak on a model with 240 MB of weights."""
    result = verify(load("alexnet"))
    assert abs(result.measured_peak / result.predicted_peak - 1) < 0.05


def test_save_writes_input_weights_and_outputs(tmp_path):
    """--save holds input, <layer>/weight, <layer>/bias and <layer>/output; rerunning the
    saved C1 weights on the saved input reproduces the saved output."""
    path = tmp_path / "lenet.npz"
    assert main(["verify", "lenet5", "--save", str(path), "--seed", "3"]) == 0
    data = np.load(path)
    assert data["input"].shape == (1, 1, 32, 32)
    assert data["C1/weight"].shape == (6, 1, 5, 5)       # PyTorch (out, in/groups, kh, kw)
    assert data["F6/weight"].shape == (84, 120)          # PyTorch (out, in)
    assert data["OUTPUT/output"].shape == (1, 10)
    x, w, b = data["input"][0, 0], data["C1/weight"][0, 0], data["C1/bias"][0]
    by_hand = np.tanh(sum(w[a, c] * x[a:a + 28, c:c + 28] for a in range(5) for c in range(5)) + b)
    np.testing.assert_allclose(data["C1/output"][0, 0], by_hand, rtol=1e-5, atol=1e-6)


def test_seed_makes_weights_deterministic(tmp_path):
    """Same seed, same arrays; another seed, other arrays."""
    paths = [tmp_path / f"{i}.npz" for i in range(3)]
    for path, seed in zip(paths, ("1", "1", "2")):
        assert main(["verify", "lenet5", "--seed", seed, "--save", str(path)]) == 0
    a, b, c = (np.load(p) for p in paths)
    np.testing.assert_array_equal(a["C3/weight"], b["C3/weight"])
    assert not np.array_equal(a["C3/weight"], c["C3/weight"])


def test_json_carries_rows_and_forward_seconds():
    """JSON: one row per engine row with engine/numpy pairs, plus forward_seconds; no bar."""
    result = CliRunner().invoke(cli, ["verify", "lenet5", "--format", "json"])
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert [r["name"] for r in doc["layers"]] == ["C1", "S2", "C3", "S4", "C5", "F6", "OUTPUT"]
    # C3 by the paper's Table I: 60 table entries × 25 taps + 16 biases = 1,516
    assert doc["layers"][2]["params"] == {"engine": 1516, "numpy": 1516, "ok": True}
    assert doc["forward_seconds"] > 0 and doc["ok"] is True


def test_float64_on_request(tmp_path):
    """--dtype float64 makes float64 arrays."""
    path = tmp_path / "f64.npz"
    assert main(["verify", "lenet5", "--dtype", "float64", "--save", str(path)]) == 0
    assert np.load(path)["C5/output"].dtype == np.float64


def test_bad_input_exits_2(capsys):
    """An --input that a dense head cannot take is bad input: exit 2, one line."""
    assert main(["verify", "lenet5", "--input", "1,28,28"]) == 2
    # 28×28 leaves S4 with 4×4 maps, too small for C5's 5×5 kernel (28−4=24, 12, 8, 4)
    assert capsys.readouterr().err.startswith("archcalc: error: specs/lenet5.yaml:")


def test_table_does_not_import_numpy():
    """`archcalc table` stays free of NumPy (the numeric core imports it lazily)."""
    code = ("import sys; from archcalc.cli import main; main(['table', 'lenet5']); "
            "print('numpy' in sys.modules, file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr.strip().endswith("False")


RESIDUAL_SPEC = """\
name: tiny_resnet
input: [3, 7, 11]
layers:
  - {name: stem, type: conv, filters: 4, kernel: 3, padding: 1, activation: relu}
  - name: res
    type: residual
    activation: relu
    body:
      - {name: c1, type: conv, filters: 4, kernel: 3, padding: 1, bias: false}
      - {name: bn, type: batchnorm}
    shortcut: []
  - name: dense
    type: concat
    branches:
      - []
      - - {name: grow, type: conv, filters: 2, kernel: [1, 3], padding: [0, 1], activation: sigmoid}
  - {name: pool, type: avgpool, kernel: 2, ceil_mode: true}
  - {name: gap, type: gap}
  - {name: flat, type: flatten}
  - {name: fc, type: dense, units: 5}
  - {name: prob, type: softmax}
"""


def test_residual_and_identity_concat_branch(tmp_path):
    """A residual with an identity shortcut and folded relu, and a concat with an empty
    (identity) branch, verify; their saved outputs are relu(bn + stem) and [res, grow]."""
    spec = tmp_path / "tiny_resnet.yaml"
    spec.write_text(RESIDUAL_SPEC)
    npz = tmp_path / "r.npz"
    assert main(["verify", str(spec), "--dtype", "float64", "--save", str(npz)]) == 0
    d = np.load(npz)
    np.testing.assert_array_equal(d["res/output"], np.maximum(d["bn/output"] + d["stem/output"], 0))
    np.testing.assert_array_equal(d["dense/output"],
                                  np.concatenate([d["res/output"], d["grow/output"]], axis=1))
    # 7×11 pooled 2×2 in ceil mode: ⌈(7−2)/2⌉+1 = 4 rows, ⌈(11−2)/2⌉+1 = 6 columns
    assert d["pool/output"].shape == (1, 6, 4, 6)
    assert "bn/running_var" in d and d["c1/weight"].shape == (4, 4, 3, 3) and "c1/bias" not in d


def test_connection_table_memory_prediction_at_batch_64():
    """LeNet-5's C3 gathers the columns of one fan-in class at a time (its largest: nine
    maps × 4 inputs × 25 taps × 100 pixels per sample); at batch 64 the traced peak is above
    the 1 MiB floor and within 5% of the prediction."""
    result = verify(load("lenet5"), batch=64)
    c3 = next(c for c in result.checks if c.name == "C3")
    assert c3.predicted_bytes > 1 << 20
    assert abs(c3.measured_bytes / c3.predicted_bytes - 1) < 0.05
    assert result.ok


def test_ceil_pool_pads_only_when_a_window_overhangs():
    """SqueezeNet's first pool (3×3/2, ceil mode) on 109 rows tiles exactly ((109 − 3)/2 is
    whole): no padded copy, workspace 0. On 110 rows the 55th window overhangs by one row,
    so the pool works on a 111×111 copy: 96·111·111 elements."""
    from archcalc.spec.fields import build
    from archcalc.layers import REGISTRY
    from archcalc.core.shapes import Shape

    pool = build(REGISTRY["maxpool"], {"kernel": 3, "stride": 2, "ceil_mode": True})
    assert pool.workspace(Shape.of(96, 109, 109)) == 0
    assert pool.workspace(Shape.of(96, 110, 110)) == 96 * 111 * 111


def test_side_branches_run_and_leave_the_main_path_alone(capsys):
    """GoogLeNet's auxiliary classifiers (--option aux_logits=true) verify like every other
    row, and the main path's output is the same array with or without them: weights come
    from each layer's own path, and a side branch's output feeds nothing."""
    from archcalc.numeric.runner import forward

    assert main(["verify", "googlenet", "--option", "aux_logits=true"]) == 0
    out = capsys.readouterr().out
    assert "loss1/classifier" in out and "loss2/classifier" in out
    _, plain = forward(load("googlenet"))
    _, with_aux = forward(load("googlenet", options={"aux_logits": True}))
    assert len(with_aux) == len(plain) + 10  # 5 rows per auxiliary classifier
    np.testing.assert_array_equal(plain[-1].output, with_aux[-1].output)
