"""The inference forms in tests/torch_forms.py (``INFERENCE_FORMS``, what benchmarks/forward.py
runs in torch) equal archcalc's inference forward for every layer type on random
configurations of every rank it takes, and the ones that differ from the training forms
equal torch's own modules in eval mode (float64).

Optional: skipped, visibly, without torch."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install -e '.[torch]' runs the oracle tests")
nn = torch.nn

from archcalc.core.shapes import Shape  # noqa: E402
from archcalc.layers import REGISTRY  # noqa: E402
from archcalc.numeric.tally import Ops  # noqa: E402
from archcalc.spec.fields import build  # noqa: E402

from .strategies import grad_cases  # noqa: E402
from .torch_forms import FORMS, INFERENCE_FORMS  # noqa: E402

TOL = dict(rtol=1e-9, atol=1e-9)


def t(a):
    return torch.from_numpy(np.array(a))  # a copy: torch takes no read-only arrays


def _case(type_name, raw, dims, batch, seed=0):
    """(layer, inputs, weights, archcalc's inference output) in float64."""
    layer = build(REGISTRY[type_name], raw)
    rng = np.random.default_rng(seed)
    all_dims = tuple(dims) if layer.arity != 1 else (tuple(dims),)
    inputs = tuple(2 * rng.standard_normal((batch,) + d) for d in all_dims)
    weights = layer.init_weights(layer.take(tuple(Shape(d) for d in all_dims)), rng, np.float64)
    return layer, inputs, weights, layer.forward(layer.take(inputs), weights, Ops())


def _inference(layer, inputs, weights):
    with torch.inference_mode():
        return INFERENCE_FORMS[layer.type_name](layer, {k: t(v) for k, v in weights.items()},
                                                [t(x) for x in inputs], None)


def test_every_layer_type_has_an_inference_form():
    assert sorted(INFERENCE_FORMS) == sorted(FORMS) == sorted(REGISTRY)


@pytest.mark.parametrize("type_name", sorted(REGISTRY))
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_inference_forms_equal_archcalc_forward(type_name, data):
    """Layer.forward (Ops(): inference) against the type's inference form."""
    layer, inputs, weights, y = _case(type_name, *data.draw(grad_cases(type_name)))
    assume(np.isfinite(y).all())
    try:
        expected = _inference(layer, inputs, weights)
    except (RuntimeError, ValueError) as err:
        # torch refuses a few degenerate cases archcalc takes: a map smaller than an
        # average window even with its padding, a normalisation set of one value
        assume("smaller than kernel" not in str(err) and "Expected more than 1" not in str(err))
        raise
    assert tuple(expected.shape) == y.shape
    np.testing.assert_allclose(y, expected.numpy(), **TOL)


def _batchnorm_module(layer, weights, x):
    module = (nn.BatchNorm1d, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)[x.ndim - 2](
        x.shape[1], eps=layer.eps).double().eval()
    with torch.no_grad():
        for ours, theirs in (("gamma", "weight"), ("beta", "bias"), ("running_mean", "running_mean"),
                             ("running_var", "running_var")):
            getattr(module, theirs).copy_(t(weights[ours]))
    return module


def _stochastic_depth_module(layer, weights, x):
    torchvision = pytest.importorskip("torchvision", reason="torchvision not installed")
    return torchvision.ops.StochasticDepth(layer.rate, "row").eval()


#: the eval-mode module of each type whose inference form is not its training form
EVAL_MODULES = {
    "batchnorm": _batchnorm_module,
    "dropout": lambda layer, weights, x: nn.Dropout(layer.rate).eval(),
    "stochastic_depth": _stochastic_depth_module,
}


def test_eval_modules_are_the_overridden_forms():
    assert sorted(EVAL_MODULES) == sorted(k for k in FORMS if INFERENCE_FORMS[k] is not FORMS[k])


@pytest.mark.parametrize("type_name", sorted(EVAL_MODULES))
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_inference_forms_equal_torch_eval_modules(type_name, data):
    """nn.BatchNorm1d/2d/3d with archcalc's γ, β and running statistics, nn.Dropout and
    torchvision's StochasticDepth, all in eval mode."""
    layer, inputs, weights, _ = _case(type_name, *data.draw(grad_cases(type_name)))
    x = t(inputs[0])
    with torch.inference_mode():
        expected = EVAL_MODULES[type_name](layer, weights, x)(x)
    np.testing.assert_allclose(_inference(layer, inputs, weights).numpy(), expected.numpy(), **TOL)
