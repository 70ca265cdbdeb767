"""verify --train's memory prediction (the engine's timeline plus each layer's
train_workspace and backward_workspace) against the traced peak of every step, on models
drawn over every layer type and configuration at sizes where the memory check applies."""
from hypothesis import given, settings

from archcalc.numeric.verify_train import verify_training
from archcalc.spec.build import build_model

from .strategies import memory_models


@settings(max_examples=40, deadline=None)
@given(memory_models())
def test_verify_train_passes_on_drawn_models(case):
    """Every step of a drawn model agrees: MACs, saved bytes, and traced memory within
    verify's tolerance of the prediction."""
    doc, batch, dtype = case
    v = verify_training(build_model(doc), batch=batch, dtype=dtype)
    assert v.ok, v.disagreements()
