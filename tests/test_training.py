"""Training figures: backward MACs and FLOPs, what autograd keeps, memory over the step,
optimizers, mixed precision, the largest batch under a budget and pipeline splits —
against hand arithmetic on small models, and against brute force where it applies."""
import pytest
from hypothesis import given, settings, strategies as st

from archcalc.analyses.devices import partition, split
from archcalc.analyses.memory import OPTIMIZERS, largest_batch, max_batch, parse_size, plan
from archcalc.analyses.training import analyse_training
from archcalc.core.engine import propagate
from archcalc.errors import ArchcalcError
from archcalc.layers import REGISTRY
from archcalc.spec.build import build_model
from archcalc.spec.catalog import load

TINY = {"name": "tiny", "input": [3, 8, 8], "layers": [
    {"name": "conv", "type": "conv", "filters": 4, "kernel": 3},     # 4×6×6
    {"name": "relu", "type": "relu"},
    {"name": "pool", "type": "maxpool", "kernel": 2},                # 4×3×3
    {"name": "flat", "type": "flatten"},
    {"name": "fc", "type": "dense", "units": 10}]}


def test_tiny_model_by_hand():
    """conv: 4·27 weights × 36 positions = 3,888 MACs per sample; its input needs no
    gradient, so the backward is the weights' 3,888 MACs plus 144 bias adds.  relu: a
    comparison per element (144); pool: an add per output (36); fc: 360 MACs for the
    input's gradient and 360 for the weights', 10 bias adds."""
    t = analyse_training(build_model(TINY), batch=2)
    rows = {r.name: r for r in t.rows}
    assert rows["conv"].needs.input is False and rows["conv"].needs.weights is True
    assert rows["conv"].backward_macs == 2 * 3888
    assert rows["conv"].backward_flops == 2 * (2 * 3888 + 144)
    assert rows["relu"].backward_flops == 2 * 144
    assert rows["pool"].backward_flops == 2 * 36
    assert rows["fc"].backward_macs == 2 * (360 + 360)
    assert rows["fc"].backward_flops == 2 * (2 * 720 + 10)
    # kept: conv its input (192 floats), relu its output (144), pool its input (the same
    # tensor) and 36 int64 indices, fc its input (pool's output through flatten's view)
    assert rows["conv"].saved_bytes == 2 * 192 * 4
    assert rows["relu"].saved_bytes == 2 * 144 * 4
    assert rows["pool"].saved_bytes == 2 * 36 * 8
    assert rows["fc"].saved_bytes == 2 * 36 * 4
    assert t.saved_bytes == 2 * (192 * 4 + 144 * 4 + 36 * 8 + 36 * 4)


def test_tiny_model_memory_over_the_step_by_hand():
    """Per sample, in bytes: the input 768 (kept by conv to its backward), conv's output
    576, relu's 576, pool's 144 and its indices 288, fc's output 40; gradients of fc's
    output 40, pool's output 144, relu's output 576, conv's output 576.  The peak is relu's
    backward: input, relu's output, and the gradients of relu's and conv's outputs."""
    t = analyse_training(build_model(TINY), batch=1)
    by_step = [m.at(1) for m in t.moments]
    assert by_step[:5] == [768 + 576, 768 + 576 + 576, 768 + 576 + 144 + 288,
                           768 + 576 + 144 + 288, 768 + 576 + 144 + 288 + 40]
    assert by_step[5:] == [768 + 576 + 144 + 288 + 40 + 144,   # fc backward
                           768 + 576 + 288 + 144,               # flatten
                           768 + 576 + 288 + 144 + 576,         # pool
                           768 + 576 + 576 + 576,               # relu
                           768 + 576]                           # conv
    peak = t.peak()
    assert (peak.layer, peak.phase, peak.at(1)) == ("relu", "backward", 2496)
    # inference: the input is held throughout (by the caller); conv's output until relu
    # has read it, relu's until pool has
    assert [m.at(1) for m in t.inference] == [768 + 576, 768 + 576 + 576, 768 + 576 + 144,
                                              768 + 144, 768 + 144 + 40]


def test_freezing_the_conv_drops_every_backward_below_the_dense_layer():
    t = analyse_training(build_model(TINY), batch=1, freeze=("conv",))
    rows = {r.name: r for r in t.rows}
    assert [rows[n].backward_flops for n in ("conv", "relu", "pool", "flat")] == [0, 0, 0, 0]
    assert rows["fc"].backward_macs == 360  # the weights' gradient only
    assert t.saved_bytes == 36 * 4          # fc's input, nothing else
    assert t.trainable_params == 370 and t.frozen_params == 112


def test_a_freeze_pattern_that_matches_nothing_is_an_error():
    with pytest.raises(ArchcalcError, match="matches no layer"):
        analyse_training(build_model(TINY), freeze=("conv9*",))


def test_a_tensor_read_twice_sums_two_gradients():
    """A residual block: the stem's output feeds conv b and the add; its gradient is the
    sum of the two (16·8·8 additions), counted on the stem's row."""
    doc = {"name": "res", "input": [16, 8, 8], "layers": [
        {"name": "stem", "type": "conv", "filters": 16, "kernel": 3, "padding": 1},
        {"name": "b", "type": "conv", "filters": 16, "kernel": 3, "padding": 1, "inputs": ["stem"]},
        {"name": "add", "type": "add", "inputs": ["stem", "b"]}]}
    rows = {r.name: r for r in analyse_training(build_model(doc)).rows}
    macs = 16 * 16 * 9 * 64
    assert rows["stem"].backward_flops == 2 * macs + 16 * 64 + 16 * 64  # weights, bias, the sum
    assert rows["b"].backward_flops == 2 * (2 * macs) + 16 * 64


def test_batch_norm_and_dropout_train_differently():
    """Training batch norm normalises by the batch's statistics (7 FLOPs per element
    here, 2 at inference); dropout masks (a comparison and two products per element) and
    keeps a one-byte mask."""
    doc = {"name": "bd", "input": [2, 4, 4], "layers": [
        {"name": "conv", "type": "conv", "filters": 2, "kernel": 1},
        {"name": "bn", "type": "batchnorm"}, {"name": "drop", "type": "dropout"}]}
    t = analyse_training(build_model(doc), batch=3)
    rows = {r.name: r for r in t.rows}
    assert rows["bn"].forward_flops == 3 * 7 * 32
    assert rows["drop"].forward_flops == 3 * 3 * 32
    # bn keeps its input and 2·C batch statistics once per batch; dropout its mask
    assert rows["bn"].saved_bytes == 3 * 32 * 4 + 2 * 2 * 4
    assert rows["drop"].saved_bytes == 3 * 32
    assert t.saved == (2 * 2 * 4, 2 * 16 * 4 + 32 * 4 + 32)


def test_every_layer_type_states_its_backward_and_what_it_keeps():
    """A new layer type without its training rules fails here (the base class raises)."""
    from archcalc.layers.base import Layer

    missing = [name for name, cls in REGISTRY.items()
               if cls.backward is Layer.backward or cls.saved is Layer.saved]
    assert missing == []


# --- memory: optimizers, precision, budgets -------------------------------------------------

def test_adam_at_float32_and_mixed_precision():
    """Adam keeps two float32 moments per trained weight: 4 + 4 + 8 = 16 bytes per weight in
    float32; mixed precision holds 16-bit weights and gradients and float32 master weights
    and moments: 2 + 2 + 4 + 8 = 16 too (the usual figure), and halves the activations."""
    model = build_model(TINY)
    p32 = plan(analyse_training(model), "adam")
    p16 = plan(analyse_training(model, dtype="float16"), "adam")
    params = 112 + 370
    assert (p32.params_bytes, p32.gradients_bytes, p32.optimizer_bytes, p32.master_bytes) == \
        (4 * params, 4 * params, 8 * params, 0)
    assert (p16.params_bytes, p16.gradients_bytes, p16.optimizer_bytes, p16.master_bytes) == \
        (2 * params, 2 * params, 8 * params, 4 * params)
    assert p16.static_training_bytes == p32.static_training_bytes == 16 * params
    # kept: 372 values in the dtype, and 36 int64 indices whatever it is
    assert (p32.saved_activation_bytes, p16.saved_activation_bytes) == \
        (372 * 4 + 36 * 8, 372 * 2 + 36 * 8)
    assert p32.optimizer_flops == 14 * params


@pytest.mark.parametrize("name, slots", [("sgd", 0), ("momentum", 1), ("nesterov", 1),
                                         ("adam", 2), ("adamw", 2), ("rmsprop", 1), ("adagrad", 1)])
def test_optimizer_state_slots(name, slots):
    """torch.optim's state per parameter: momentum_buffer; exp_avg, exp_avg_sq; square_avg;
    sum."""
    assert OPTIMIZERS[name].slots == slots


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1000), st.integers(0, 1000)), min_size=1, max_size=8),
       st.integers(0, 2000), st.integers(1, 100_000))
def test_largest_batch_is_the_brute_force_answer(pairs, static, budget):
    from archcalc.analyses.training import Moment

    moments = tuple(Moment(i, "x", "forward", a, b) for i, (a, b) in enumerate(pairs))
    fits = lambda b: static + max(m.at(b) for m in moments) <= budget  # noqa: E731
    brute = 0
    while brute < 100_001 and fits(brute + 1):
        brute += 1
    if brute <= 100_000:
        assert largest_batch(moments, static, budget) == brute


def test_largest_batch_fits_and_one_more_does_not():
    model = load("resnet18")
    budget = parse_size("2GiB")
    t = analyse_training(model, batch=1)
    best = max_batch(t, plan(t, "adam"), budget)["training"]
    assert plan(analyse_training(model, batch=best), "adam").peak_training_bytes <= budget
    assert plan(analyse_training(model, batch=best + 1), "adam").peak_training_bytes > budget


@pytest.mark.parametrize("text, value", [("24GiB", 24 * 2**30), ("16 GB", 16 * 10**9),
                                         ("3000000000", 3 * 10**9), ("1.5KiB", 1536)])
def test_parse_size(text, value):
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["", "GiB", "-1GB", "3 parsecs", "0", "1e9"])
def test_parse_size_refuses(text):
    with pytest.raises(ArchcalcError):
        parse_size(text)


# --- pipeline splits --------------------------------------------------------------------------

@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=1, max_size=9), st.data())
def test_partition_minimises_the_largest_group(costs, data):
    import itertools

    parts = data.draw(st.integers(1, len(costs)))
    starts = partition(costs, parts)
    assert len(starts) == parts and starts[0] == 0 and starts == sorted(set(starts))
    bounds = starts + [len(costs)]
    got = max(sum(costs[a:b]) for a, b in zip(bounds, bounds[1:]))
    best = min(max(sum(costs[a:b]) for a, b in zip((0,) + cut, cut + (len(costs),)))
               for cut in itertools.combinations(range(1, len(costs)), parts - 1))
    assert got == best


def test_split_into_two_devices_sends_the_tensor_at_the_cut():
    model = build_model(TINY)
    t = analyse_training(model, batch=4)
    params = [r.counts.params for r in propagate(model)]
    devices = split(t, params, OPTIMIZERS["sgd"], 2, "compute")
    assert [len(d.layers) for d in devices] and sum(len(d.layers) for d in devices) == 5
    first, second = devices
    cut_tensor = {"conv": 144, "relu": 144, "pool": 36, "flat": 36}[first.layers[-1]]
    assert first.sends_bytes == 4 * cut_tensor * 4 and second.sends_bytes == 0
    assert sum(d.params_bytes for d in devices) == 4 * (112 + 370) * 2  # weights and gradients


# --- the CLI -------------------------------------------------------------------------------

def test_memory_json_contract(capsys):
    import json

    from .helpers import run_cli

    status, out, _ = run_cli(capsys, "memory", "lenet5", "--train", "--optimizer", "adam",
                             "--batch", "8", "--budget", "1GiB", "--devices", "2", "--format", "json")
    doc = json.loads(out)
    assert status == 0
    for key in ("model", "batch", "dtype", "optimizer", "params_bytes", "gradients_bytes",
                "optimizer_bytes", "saved_activation_bytes", "peak_inference_bytes",
                "peak_training_bytes", "peak_layer"):
        assert key in doc
    assert doc["optimizer_bytes"] == 2 * doc["gradients_bytes"] == 2 * 4 * 60_840
    assert set(doc["max_batch"]) == {"inference", "training"}
    assert [set(d) for d in doc["devices"]] == [{"layers", "params_bytes", "peak_bytes", "sends_bytes"}] * 2
    t = analyse_training(load("lenet5"), batch=8)
    assert doc["saved_activation_bytes"] == t.saved_bytes
    assert sum(len(d["layers"]) for d in doc["devices"]) == len(t.rows)


@pytest.mark.parametrize("args, fragment", [
    (["--budget", "lots"], "--budget must be a size"),
    (["--freeze", "nothing*"], "matches no layer"),
    (["--devices", "99"], "--devices must be 1 to 7"),
    (["--optimizer", "adamax"], "adamax"),
])
def test_memory_bad_input_is_one_line(capsys, args, fragment):
    from .helpers import run_cli

    status, out, err = run_cli(capsys, "memory", "lenet5", "--train", *args)
    assert status == 2 and out == "" and err.count("\n") == 1 and fragment in err, err


def test_alexnet_towers_split_the_weights_in_half_and_each_half_fits_a_gtx_580():
    """Each GPU holds half of every layer's weights (with gradients and momentum: 3 × 4 ×
    60,965,224 / 2 bytes) and, at batch 128, peaks under 3 GB."""
    from archcalc.analyses.devices import towers

    model = load("alexnet")
    t = analyse_training(model, batch=128)
    halves = towers(t, model, propagate(model), OPTIMIZERS["momentum"], 2)
    assert [d.params_bytes for d in halves] == [3 * 4 * 60_965_224 // 2] * 2
    assert all(d.peak_bytes < 3 * 2**30 for d in halves)
    # conv3, fc6, fc7, fc8 and the softmax read across: each GPU sends half of their inputs
    sends = 128 * 4 * (256 * 13 * 13 + 9216 + 4096 + 4096 + 1000) // 2
    assert halves[0].sends_bytes == sends


def test_table_train_json_totals(capsys):
    import json

    from .helpers import run_cli

    status, out, _ = run_cli(capsys, "table", "lenet5", "--train", "--optimizer", "momentum",
                             "--batch", "4", "--format", "json")
    doc = json.loads(out)
    t = analyse_training(load("lenet5"), batch=4)
    totals = doc["totals"]
    assert status == 0
    assert totals["backward_macs"] == sum(r.backward_macs for r in t.rows)
    assert totals["train_flops"] == sum(r.forward_flops + r.backward_flops for r in t.rows)
    assert totals["saved_bytes"] == t.saved_bytes
    assert totals["optimizer_flops"] == 4 * 60_840 and totals["optimizer"] == "momentum"
    # LeNet-5's first layer has no input gradient: its backward is its forward's MACs once
    assert doc["layers"][0]["backward_macs"] == doc["layers"][0]["macs"]


def test_table_train_refuses_a_convention_and_freeze_without_train(capsys):
    from .helpers import run_cli

    status, _, err = run_cli(capsys, "table", "lenet5", "--train", "--convention", "fvcore")
    assert status == 2 and "counts the forward pass only; --train with --convention takes" in err
    status, _, err = run_cli(capsys, "table", "lenet5", "--freeze", "C1")
    assert status == 2 and "go with --train" in err


@settings(max_examples=200)
@given(st.integers(0, 2**40 - 1))
def test_human_units_never_print_an_exponent_below_the_top_unit(n):
    from archcalc.render.formatters import human_bytes, human_count

    assert "e" not in human_bytes(n) and "e" not in human_count(n)
    value, unit = (human_bytes(n).split() + [""])[:2]
    assert float(value) < 1024 or unit == "TiB"


def test_json_md_memory_example_is_the_real_output(capsys):
    """Every integer in docs/json.md's `memory` example is what the command prints."""
    import json
    import re
    from pathlib import Path

    from .helpers import run_cli

    text = (Path(__file__).resolve().parent.parent / "docs" / "json.md").read_text(encoding="utf-8")
    section = text.split("## `memory --format json`")[1].split("```")[1]
    status, out, _ = run_cli(capsys, "memory", "vgg16", "--train", "--optimizer", "adam", "--batch",
                             "64", "--budget", "24GiB", "--devices", "2", "--format", "json")
    doc = json.loads(out)
    flat = {**doc, **doc["max_batch"], **{f"d0_{k}": v for k, v in doc["devices"][0].items()}}
    shown = dict(re.findall(r'"(\w+)": (\d+)', section))
    device_keys = ("params_bytes", "peak_bytes", "sends_bytes")
    devices_at = section.index('"devices"')
    for key, value in shown.items():
        where = f"d0_{key}" if key in device_keys and section.index(f'"{key}": {value}') > devices_at else key
        assert flat[where] == int(value), key
    assert status == 0 and len(shown) >= 15
