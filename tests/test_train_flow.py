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


def test_an_add_hands_its_inputs_one_shared_gradient():
    """A residual block: the stem's output is read by conv b and by the add.  The add hands
    the loss's gradient to both of its inputs (one tensor, as AddBackward returns it), so
    b's output has no gradient of its own; the stem's becomes its own when b's gradient for
    it is summed in (into b's, the first being shared).  Gradients alive: the loss's at the
    add's backward (time 3) and at b's (4, where b reads it), and the stem's from 4 to its
    own backward (5): never three at once, as one tensor per input would have it."""
    doc = {"name": "res", "input": [16, 8, 8], "layers": [
        {"name": "stem", "type": "conv", "filters": 16, "kernel": 3, "padding": 1},
        {"name": "b", "type": "conv", "filters": 16, "kernel": 3, "padding": 1, "inputs": ["stem"]},
        {"name": "add", "type": "add", "inputs": ["stem", "b"]}]}
    t = analyse_training(build_model(doc))
    grads = sorted((s.start, s.end, s.node) for s in t.spans if s.kind in ("gradient", "summand"))
    assert grads == [(3, 4, 2), (4, 5, 0)]
    a_map = 16 * 64 * 4
    at = {m.time: m.at(1) for m in t.moments}
    # b's backward: the input (kept by the stem), the stem's output (kept by b), and two gradients
    assert at[4] == 16 * 64 * 4 + a_map + 2 * a_map


def test_a_second_gradient_exists_beside_the_running_sum():
    """Two convs read the stem's output: the second gradient to arrive exists beside the
    first (the stem's own) at the step that makes it, until added in."""
    doc = {"name": "fork", "input": [4, 6, 6], "layers": [
        {"name": "stem", "type": "conv", "filters": 4, "kernel": 1},
        {"name": "a", "type": "conv", "filters": 4, "kernel": 1, "inputs": ["stem"]},
        {"name": "b", "type": "conv", "filters": 4, "kernel": 1, "inputs": ["stem"]},
        {"name": "cat", "type": "concat", "inputs": ["a", "b"]}]}
    t = analyse_training(build_model(doc))
    sums = [(s.start, s.node, s.per_sample) for s in t.spans if s.kind == "summand"]
    assert sums == [(6, 1, 4 * 36 * 4)]  # a's backward: 2·4 − 1 − 1


def test_a_layer_read_only_for_its_size_runs_no_backward():
    """A pool whose output only gives crop its size: no gradient reaches it, so it runs
    no backward and keeps nothing (torch's autograd never reaches its node), and the conv
    before it gets its gradient from the crop alone."""
    doc = {"name": "c", "input": [2, 8, 8], "layers": [
        {"name": "t", "type": "conv", "filters": 2, "kernel": 1},
        {"name": "p", "type": "maxpool", "kernel": 2},
        {"name": "crop", "type": "crop", "inputs": ["t", "p"]}]}
    t = analyse_training(build_model(doc))
    rows = {r.name: r for r in t.rows}
    assert not rows["p"].needs.any and rows["p"].backward_flops == rows["p"].saved_bytes == 0
    assert rows["t"].backward_flops == 2 * 2 * 2 * 64 + 2 * 64  # weights and bias, no sum
