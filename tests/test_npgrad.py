"""Every layer type's NumPy backward (Layer.backward_numpy) in float64 against central
finite differences of its own training forward, on tiny inputs of every rank it takes
(1-D, 2-D and 3-D maps, feature vectors) and every configuration the strategies draw;
with the products it performs equal to the engine's backward MACs (input and weights
apart) and its cache equal to the extras ``saved()`` states."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from archcalc.core.backward import Needs
from archcalc.core.shapes import Shape
from archcalc.layers import REGISTRY
from archcalc.layers.base import Layer
from archcalc.spec.fields import build

from .gradcheck import cache_bytes, extras_bytes, finite_differences, layer_step
from .strategies import grad_cases

#: |analytic − numeric| ≤ TOLERANCE · (1 + |numeric|): float64 central differences at
#: STEP = 1e-6 are good to about 1e-9 here; a wrong formula is off by far more
TOLERANCE = 1e-6


def _shapes(layer, dims):
    return layer.take(tuple(Shape(d) for d in (dims if layer.arity != 1 else (dims,))))


def _needs(draw, layer, dims):
    if layer.params(_shapes(layer, dims)) == 0:
        return Needs(input=True, weights=False)
    return draw(st.sampled_from([Needs(True, True), Needs(True, False), Needs(False, True)]))


@pytest.mark.parametrize("type_name", sorted(REGISTRY))
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_backward_equals_finite_differences(type_name, data):
    """Gradients of every input and trained weight the backward computes, along random
    directions and at random coordinates, equal the central differences of the loss."""
    raw, dims, batch = data.draw(grad_cases(type_name))
    layer = build(REGISTRY[type_name], raw)
    needs = _needs(data.draw, layer, dims)
    step = layer_step(layer, dims, batch, needs, seed=data.draw(st.integers(0, 2**16)))
    assume(np.isfinite(step.y).all())  # a dilated max window that reads padding alone is −∞
    assert (step.dx[0] is not None) == needs.input or layer.arity != 1
    assert set(step.dw) == (set(k for k in step.weights if k not in ("mask", "running_mean", "running_var"))
                            if needs.weights else set())
    for what, analytic, numeric in finite_differences(step):
        assert abs(analytic - numeric) <= TOLERANCE * (1 + abs(numeric)), (what, analytic, numeric)


@pytest.mark.parametrize("type_name", sorted(REGISTRY))
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_backward_products_and_cache_are_the_engines(type_name, data):
    """The MACs the backward performs (tallied from the real matmul/einsum calls) equal
    the engine's Backward.input_macs and weight_macs for the gradients ``needs`` asks for;
    what the training forward caches is, to the byte, the extras ``saved()`` names."""
    raw, dims, batch = data.draw(grad_cases(type_name))
    layer = build(REGISTRY[type_name], raw)
    needs = _needs(data.draw, layer, dims)
    step = layer_step(layer, dims, batch, needs)
    shapes = _shapes(layer, dims)
    engine = layer.backward(shapes, layer.out_shape(shapes), needs)
    assert (step.ops.input.macs, step.ops.weights.macs) == (batch * engine.input_macs,
                                                            batch * engine.weight_macs)
    assert cache_bytes(step.cache) == extras_bytes(layer, dims, batch, needs)


def test_every_registered_layer_type_has_a_numpy_backward():
    """A new layer type without its NumPy backward fails here (the base class raises)."""
    missing = [name for name, cls in REGISTRY.items() if cls.backward_numpy is Layer.backward_numpy]
    assert missing == []


def test_a_backward_never_writes_the_gradient_it_is_given():
    """The runner hands gradients over read-only (an add gives one to every input); a
    backward that wrote into it would raise here for every type the strategies draw."""
    # layer_step marks R read-only; the property tests above exercise every type with it
    step = layer_step(build(REGISTRY["relu"], {}), (3, 4), 2, Needs(True, False))
    assert not step.target.flags.writeable and np.all(np.isfinite(step.dx[0]))
