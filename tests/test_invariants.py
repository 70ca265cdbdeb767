"""Invariants of the engine over random conv/pool stacks (hypothesis)."""
from hypothesis import assume, given
from hypothesis import strategies as st

from archcalc import analyse
from archcalc.spec.build import build_model
from archcalc.errors import ShapeError
from archcalc.core.shapes import Shape


@st.composite
def conv_pool_stacks(draw):
    """A spec document: 1-4 conv or pool layers with small random settings."""
    layers = []
    for i in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            layers.append({"type": "conv", "filters": draw(st.integers(1, 6)),
                           "kernel": draw(st.integers(1, 4)), "stride": draw(st.integers(1, 3)),
                           "padding": draw(st.integers(0, 2)), "dilation": draw(st.integers(1, 2))})
        else:
            layers.append({"type": draw(st.sampled_from(["maxpool", "avgpool"])),
                           "kernel": draw(st.integers(1, 3)), "stride": draw(st.integers(1, 3)),
                           "ceil_mode": draw(st.booleans())})
    c = draw(st.integers(1, 4))
    return {"name": "random", "input": [c, 40, 40], "layers": layers}


def report_or_none(doc, shape=None, batch=1):
    try:
        return analyse(build_model(doc), shape, batch=batch)
    except ShapeError:
        return None


@given(conv_pool_stacks(), st.integers(12, 40), st.integers(12, 40))
def test_params_do_not_depend_on_input_size(doc, h, w):
    """Weights are the same whatever the input's height and width."""
    base = report_or_none(doc)
    other = report_or_none(doc, Shape.of(doc["input"][0], h, w))
    assume(base is not None and other is not None)
    assert [r.params for r in base.layers] == [r.params for r in other.layers]


@given(conv_pool_stacks(), st.integers(12, 40), st.integers(12, 40))
def test_conv_macs_scale_with_output_area(doc, h, w):
    """A conv's MACs per output position do not depend on the input size."""
    base = report_or_none(doc)
    other = report_or_none(doc, Shape.of(doc["input"][0], h, w))
    assume(base is not None and other is not None)
    for a, b in zip(base.layers, other.layers):
        if a.type == "conv":
            _, ha, wa = a.out_shape.dims
            _, hb, wb = b.out_shape.dims
            assert a.macs * hb * wb == b.macs * ha * wa


@given(conv_pool_stacks(), st.integers(2, 9))
def test_batch_multiplies_work_and_activations(doc, batch):
    one = report_or_none(doc)
    many = report_or_none(doc, batch=batch)
    assume(one is not None)
    for a, b in zip(one.layers, many.layers):
        assert b.params == a.params
        assert (b.macs, b.flops, b.connections, b.activations, b.activation_bytes) == (
            batch * a.macs, batch * a.flops, batch * a.connections, batch * a.activations,
            batch * a.activation_bytes)
