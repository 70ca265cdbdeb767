"""The NumPy training step (archcalc.numeric.backward) over whole graphs: on random DAGs
(convs, pools, batch norm, activations, add, multiply, concat) in float64, the gradients of
the input and of every weight equal central finite differences of the step's own loss; the
products each backward performs equal the engine's backward MACs; the tapes hold exactly
the engine's saved bytes; frozen layers get no gradient and run no backward."""
import numpy as np
import pytest
from hypothesis import given, settings

from archcalc.analyses.training import analyse_training
from archcalc.core.engine import propagate
from archcalc.numeric.backward import train_step, trainable
from archcalc.spec.build import build_model
from archcalc.spec.catalog import load

from .strategies import graph_specs

STEP = 1e-6
TOLERANCE = 1e-6


def _directional(model, run, batch, what, rng, shape=None):
    """(analytic, numeric) ⟨gradient, v⟩ for a random direction v of the input (``what``
    None) or of the weight ``what`` = (path, name)."""
    if what is None:
        base, grad = run.x, run.input_grad
    else:
        base, grad = run.weights[what[0]][what[1]], run.grads[what[0]][what[1]]
    v = rng.standard_normal(base.shape)

    def loss(t):
        if what is None:
            return train_step(model, shape, batch=batch, dtype="float64", input_grad=True,
                              weights=run.weights, x=t).loss
        layer = {**run.weights[what[0]], what[1]: t}
        return train_step(model, shape, batch=batch, dtype="float64", input_grad=True, x=run.x,
                          weights={**run.weights, what[0]: layer}).loss

    numeric = (loss(base + STEP * v) - loss(base - STEP * v)) / (2 * STEP)
    return float(np.vdot(grad, v)), numeric


@settings(max_examples=25, deadline=None)
@given(graph_specs(max_nodes=6))
def test_graph_gradients_equal_finite_differences(doc):
    """The input's gradient and two weights' (drawn among all), along random directions."""
    model = build_model(doc)
    batch = 2
    run = train_step(model, batch=batch, dtype="float64", input_grad=True)
    rng = np.random.default_rng(0)
    trained = [(path, name) for path, grads in run.grads.items() for name in trainable(grads)]
    picks = [None] + [trained[i] for i in rng.permutation(len(trained))[:2]]
    for what in picks:
        analytic, numeric = _directional(model, run, batch, what, rng)
        assert abs(analytic - numeric) <= TOLERANCE * (1 + abs(numeric)), (what, analytic, numeric)


@settings(max_examples=25, deadline=None)
@given(graph_specs())
def test_graph_backward_products_and_tapes_are_the_engines(doc):
    """Per backward step, the tallied MACs (input and weights apart) equal the engine's;
    the nodes that run a backward are the engine's; the tapes' bytes are its saved bytes."""
    model = build_model(doc)
    run = train_step(model, batch=2)
    t = analyse_training(model, batch=2)
    rows = {r.name: r for r in t.rows}
    ran = {s.name for s in run.steps if s.phase == "backward"}
    assert ran == {r.name for r in t.rows if r.needs.any}
    for s in run.steps:
        if s.phase == "backward":
            assert s.macs == rows[s.name].backward_macs, s.name
    assert run.saved_bytes == t.saved_bytes


def test_frozen_layers_get_no_gradient_and_below_them_no_backward_runs():
    """resnet18 with its stem and first stage frozen: no gradient for their weights, and
    no backward below the first trainable layer (layer2's first conv)."""
    model = load("resnet18")
    from archcalc.core.shapes import Shape

    run = train_step(model, Shape.of(3, 16, 16), freeze=("conv1", "bn1", "layer1/*"))
    assert not any(p == "conv1" or p == "bn1" or p.startswith("layer1/") for p in run.grads)
    backward = [s for s in run.steps if s.phase == "backward"]
    first = model.index["layer2/0/conv1"]
    assert min(s.index for s in backward) == first
    assert [s.name for s in backward][-1] == "layer2/0/conv1"
    conv = next(s for s in backward if s.name == "layer2/0/conv1")
    assert conv.input_macs == 0 and conv.weight_macs > 0  # its input needs no gradient


def test_the_step_is_deterministic_in_its_seed():
    """Weights, input, masks and R come from the seed: two runs give identical gradients."""
    model = load("mbconv_se")
    from archcalc.core.shapes import Shape

    a = train_step(model, Shape.of(24, 6, 6), batch=2, seed=3, dtype="float64")
    b = train_step(model, Shape.of(24, 6, 6), batch=2, seed=3, dtype="float64")
    assert a.loss == b.loss
    for path in a.grads:
        for name in a.grads[path]:
            np.testing.assert_array_equal(a.grads[path][name], b.grads[path][name])


@pytest.mark.parametrize("name, dims", [("lenet5", None), ("se_resnet_block", (64, 6, 6)),
                                        ("unet_small", None)])
def test_bundled_graph_gradients_equal_finite_differences(name, dims):
    """Whole bundled graphs (connection table, subsampling and RBF; squeeze-and-excitation;
    crops, upsampling and concatenation) in float64, at a small batch."""
    from archcalc.core.shapes import Shape

    model = load(name)
    shape = Shape(dims) if dims else None
    run = train_step(model, shape, batch=1, dtype="float64", input_grad=True)
    rng = np.random.default_rng(1)
    trained = [(path, k) for path, grads in run.grads.items() for k in trainable(grads)]
    for what in [None] + [trained[i] for i in rng.permutation(len(trained))[:3]]:
        analytic, numeric = _directional(model, run, 1, what, rng, shape)
        assert abs(analytic - numeric) <= TOLERANCE * (1 + abs(numeric)), (what, analytic, numeric)
    assert len(propagate(model, shape)) == sum(s.phase == "forward" for s in run.steps)


@pytest.mark.parametrize("narrowing, kept", [
    ({"type": "slice", "stop": 2}, 2 * 10 * 10),
    ({"type": "crop", "inputs": ["c", "like"]}, 3 * 6 * 6),
], ids=["slice", "crop"])
def test_a_narrowing_views_backward_makes_its_inputs_gradient_anew(narrowing, kept):
    """A view that keeps part of its input (slice, crop) passes no view of its gradient
    back: autograd's SliceBackward writes it into zeros of the input's size.  So at the
    view's backward a 3×10×10 conv output's gradient (300) exists beside the view's own
    (what the view kept), with the input (1×10×10) its conv keeps; crop's size-giving
    input is freed after the forward, as nothing keeps it: by hand, in float64."""
    layers = [{"type": "conv", "name": "c", "filters": 3, "kernel": 1, "bias": False}]
    if narrowing["type"] == "crop":
        layers.append({"type": "conv", "name": "like", "filters": 3, "kernel": 5, "bias": False,
                       "inputs": ["input"]})
    layers.append(dict(narrowing, name="view"))
    model = build_model({"name": "views", "input": [1, 10, 10], "layers": layers})
    t = analyse_training(model, batch=1, dtype="float64")
    at = next(m for m in t.moments if m.layer == "view" and m.phase == "backward")
    assert at.per_sample == 8 * (100 + 300 + kept)
