"""PyTorch's autograd as the oracle for the NumPy backward (float64): for every layer type
on random configurations of every rank it takes, and for random graphs and the bundled
graph examples with archcalc's weights copied across, the gradients of the inputs and of
every trained weight equal torch's (max pooling's indices too).

Optional: skipped, visibly, without torch."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install -e '.[torch]' runs the oracle tests")

from archcalc.core.backward import Needs  # noqa: E402
from archcalc.core.graph import INPUT  # noqa: E402
from archcalc.core.shapes import Shape  # noqa: E402
from archcalc.layers import REGISTRY  # noqa: E402
from archcalc.numeric.backward import loss_weights, train_step  # noqa: E402
from archcalc.numeric.runner import layer_rng  # noqa: E402
from archcalc.numeric.tally import Ops  # noqa: E402
from archcalc.spec.build import build_model  # noqa: E402
from archcalc.spec.catalog import load  # noqa: E402
from archcalc.spec.fields import build  # noqa: E402

from .gradcheck import layer_step  # noqa: E402
from .strategies import grad_cases, graph_specs  # noqa: E402
from .torch_forms import FORMS  # noqa: E402

TOL = dict(rtol=1e-9, atol=1e-9)
#: torch's hardsigmoid_backward and hardswish_backward scale by float constants (1.0f / 6.0f)
#: whatever the dtype, so their double gradients are good to float precision only
FLOAT_CONSTANTS = ("hardsigmoid", "hardswish")


def _tolerance(layer) -> dict:
    kinds = {layer.type_name, getattr(layer, "activation", None)}
    return dict(rtol=1e-7, atol=1e-9) if kinds & set(FLOAT_CONSTANTS) else TOL
BUFFERS = ("running_mean", "running_var", "mask")


def t(a, grad=False):
    tensor = torch.from_numpy(np.array(a))  # a copy: torch takes no read-only arrays
    return tensor.requires_grad_(grad)


def test_every_layer_type_has_a_torch_form():
    assert sorted(FORMS) == sorted(REGISTRY)


@pytest.mark.parametrize("type_name", sorted(REGISTRY))
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_layer_gradients_equal_torch_autograd(type_name, data):
    """Output, input gradients and weight gradients of one layer against torch's."""
    raw, dims, batch = data.draw(grad_cases(type_name))
    layer = build(REGISTRY[type_name], raw)
    step = layer_step(layer, dims, batch, Needs(True, True))
    assume(np.isfinite(step.y).all())
    xs = [t(x, grad=True) for x in step.inputs]
    ws = {k: t(v, grad=k not in BUFFERS) for k, v in step.weights.items()}
    try:
        y = FORMS[type_name](layer, ws, xs, step.cache)
    except (RuntimeError, ValueError) as err:
        # torch refuses a few degenerate cases archcalc takes: a map smaller than an
        # average window even with its padding, a normalisation set of one value
        assume("smaller than kernel" not in str(err) and "Expected more than 1" not in str(err))
        raise
    np.testing.assert_allclose(y.detach().numpy(), step.y, **TOL)
    (y * t(step.target)).sum().backward()
    tol = _tolerance(layer)
    for x, ours in zip(xs, step.dx):
        if ours is not None:
            expected = x.grad if x.grad is not None else torch.zeros_like(x)
            np.testing.assert_allclose(ours, expected.numpy(), **tol)
    for name, ours in step.dw.items():
        np.testing.assert_allclose(ours, ws[name].grad.numpy(), **tol, err_msg=name)
    if type_name == "maxpool":
        _, indices = FORMS["maxpool"](layer, ws, [x.detach() for x in xs], step.cache, indices=True)
        np.testing.assert_array_equal(step.cache["indices"], indices.numpy())


def torch_step(model, run, shape, batch, seed):
    """The model replayed in torch from the run's input and weights: (loss, input tensor,
    weight tensors by path and name)."""
    from archcalc.core.engine import propagate

    rows = propagate(model, shape)
    x = t(run.x, grad=True)
    weights = {path: {k: t(v, grad=k not in BUFFERS) for k, v in w.items()}
               for path, w in run.weights.items()}
    values, arrays = {INPUT: x}, {INPUT: run.x}
    for node in model.nodes:
        layer = node.layer
        ops = Ops(training=True, rng=layer_rng(seed + 1, node.path))
        y_np, cache = layer.train_forward(layer.take(tuple(arrays[i] for i in node.inputs)),
                                          run.weights[node.path], ops)
        arrays[node.path] = y_np
        values[node.path] = FORMS[layer.type_name](layer, weights[node.path],
                                                   [values[i] for i in node.inputs], cache)
    targets = loss_weights(model, rows, batch, seed, np.float64)
    loss = sum((values[name] * t(r)).sum() for name, r in targets.items())
    loss.backward()
    return loss, x, weights


def _close(ours, theirs, what):
    """Equal to rounding over a whole graph: relative 1e-8 of the larger of the element
    and the tensor's largest (batch norm over two values makes some gradients large)."""
    scale = max(float(np.abs(theirs).max(initial=0)), 1.0)
    np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-8 * scale, err_msg=what)


def _compare(model, shape=None, batch=2, seed=0, freeze=()):
    run = train_step(model, shape, batch=batch, seed=seed, dtype="float64", input_grad=True,
                     freeze=freeze)
    loss, x, weights = torch_step(model, run, shape, batch, seed)
    assert abs(loss.item() - run.loss) <= 1e-8 * (1 + abs(run.loss))
    _close(run.input_grad, x.grad.numpy(), "input")
    for path, grads in run.grads.items():
        for name, ours in grads.items():
            _close(ours, weights[path][name].grad.numpy(), f"{path}/{name}")
    return run


@settings(max_examples=20, deadline=None)
@given(graph_specs(max_nodes=7))
def test_random_graph_gradients_equal_torch_autograd(doc):
    """Random DAGs of convs (grouped, folded activations), pools, batch norm, relu, add,
    multiply (with C×1×1 gates) and concat."""
    _compare(build_model(doc))


@pytest.mark.parametrize("name, dims", [
    ("lenet5", None), ("se_resnet_block", (64, 8, 8)), ("mbconv_se", (24, 10, 10)),
    ("unet_small", None), ("m5", (1, 2000)),
    ("c3d_block", (3, 4, 12, 12)), ("squeezenet1_1", (3, 33, 33))])
def test_bundled_graph_gradients_equal_torch_autograd(name, dims):
    _compare(load(name), Shape(dims) if dims else None)


def test_frozen_layers_match_torch_with_requires_grad_off():
    """Freezing an MBConv block's expansion and depthwise convs and their batch norms: no
    gradient for them, and the trained weights' gradients are still torch's."""
    run = _compare(load("mbconv_se"), Shape.of(24, 10, 10), freeze=("expand*", "dw*"))
    assert sorted(run.grads) == ["fc1", "fc2", "project", "project_bn"]
