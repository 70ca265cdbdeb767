"""Where gradients flow in a training step (archcalc.analyses.training.gradient_needs):
the tensors a layer reads for their size only receive none."""
from archcalc.analyses.training import analyse_training, gradient_needs
from archcalc.core.engine import propagate
from archcalc.spec.build import build_model

CROPPED = {"name": "cropped", "input": [2, 9, 9], "layers": [
    {"name": "a", "type": "conv", "filters": 3, "kernel": 1},                     # 3×9×9
    {"name": "b", "type": "conv", "filters": 3, "kernel": 3, "inputs": ["a"]},    # 3×7×7
    {"name": "crop", "type": "crop", "inputs": ["a", "b"]},                        # 3×7×7
    {"name": "cat", "type": "concat", "inputs": ["crop", "b"]}]}


def test_crop_sends_no_gradient_to_the_tensor_it_reads_for_its_size():
    """b's output is read by crop (for its size) and by concat: its gradient is concat's
    slice alone, so no sum of two gradients is counted on b's row (a's output, read by b
    and by crop as the cropped tensor, does sum two: 3·9·9 additions)."""
    model = build_model(CROPPED)
    rows = {r.name: r for r in analyse_training(model).rows}
    macs = 3 * 3 * 9 * 49
    assert rows["b"].backward_flops == 2 * 2 * macs + 3 * 49          # input, weights, bias
    assert rows["a"].backward_flops == 2 * 3 * 2 * 81 + 3 * 81 + 3 * 81  # weights, bias, the sum


def test_a_crop_whose_cropped_input_needs_no_gradient_computes_none():
    """Only crop's first input decides whether its output needs a gradient."""
    doc = {"name": "c", "input": [2, 9, 9], "layers": [
        {"name": "b", "type": "conv", "filters": 2, "kernel": 3},
        {"name": "crop", "type": "crop", "inputs": ["input", "b"]},
        {"name": "add", "type": "add", "inputs": ["crop", "b"]}]}
    model = build_model(doc)
    needs, grad = gradient_needs(model, propagate(model))
    assert [n.input for n in needs] == [False, False, True]
    assert grad["crop"] is False and grad["b"] is True


def test_a_second_gradient_exists_beside_the_running_sum():
    """A residual block's input is read by conv b and by the add: at b's backward (after
    the add's, which handed over its gradient), b's gradient for it exists beside the one
    already there, until added in: one more tensor of 16·8·8 values at that time."""
    doc = {"name": "res", "input": [16, 8, 8], "layers": [
        {"name": "stem", "type": "conv", "filters": 16, "kernel": 3, "padding": 1},
        {"name": "b", "type": "conv", "filters": 16, "kernel": 3, "padding": 1, "inputs": ["stem"]},
        {"name": "add", "type": "add", "inputs": ["stem", "b"]}]}
    t = analyse_training(build_model(doc))
    sums = [s for s in t.spans if s.kind == "summand"]
    # b's backward is at time 2·3 − 1 − 1 = 4
    assert [(s.start, s.node, s.per_sample) for s in sums] == [(4, 1, 16 * 64 * 4)]
