"""Every layer forward against a naive loop reference (tests/reference.py), in float64.

Each property: the forward's output shape equals the engine's prediction exactly, its
values equal the reference's within 1e-10, and the MACs its real matmul/einsum calls
performed equal the engine's MACs times the batch.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from . import reference as ref
from archcalc.spec.fields import build
from archcalc.layers import REGISTRY
from archcalc.core.shapes import Shape
from archcalc.numeric.tally import Ops
from .strategies import conv_cases, pool_cases, small, table_cases
from .test_conv_transpose import FORWARD_CASES as TRANSPOSE_CASES
from .test_merge import FORWARD_CASES as MERGE_CASES
from .test_layer_types import FORWARD_CASES as TYPE_CASES
from .test_pad import FORWARD_CASES as PAD_CASES
from .test_upsample import FORWARD_CASES as UPSAMPLE_CASES

TOL = dict(rtol=1e-10, atol=1e-10)


def run(type_name, raw, dims, batch, seed=0, training=False):
    """(layer, input, weights, output, ops) for one forward in float64."""
    layer = build(REGISTRY[type_name], raw)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch,) + tuple(dims))
    weights = layer.init_weights(Shape(tuple(dims)), rng, np.float64)
    ops = Ops(training=training, rng=np.random.default_rng(seed + 1))
    y = layer.forward(x, weights, ops)
    counts = layer.counts(Shape(tuple(dims)))
    assert y.shape == (batch,) + tuple(counts.out_shape.dims), "shape differs from the engine's"
    assert ops.macs == batch * counts.macs, "performed MACs differ from the engine's"
    return layer, x, weights, y, ops


def activated(y, name):
    return y if name is None else ref.elementwise(y, name)


@given(conv_cases())
def test_conv_matches_reference(case):
    """conv (stride, padding incl. 'same', dilation, groups, bias, folded activation)."""
    raw, dims, pads, batch = case
    layer, x, w, y, _ = run("conv", raw, dims, batch)
    expected = activated(ref.conv(x, w["weight"], w.get("bias"), layer.stride, pads,
                                  layer.dilation, layer.groups), raw["activation"])
    assert expected.shape == y.shape
    np.testing.assert_allclose(y, expected, **TOL)


@given(conv_cases(), st.integers(1, 64))
def test_conv_in_chunks_of_rows_matches_reference(case, budget):
    """The direct conv's chunks of output rows (a column budget of a few elements makes
    each chunk one or two rows, the last one shorter) join into the whole output, with
    the padded sample buffer reused by every sample of the batch."""
    from archcalc.layers import npkit

    raw, dims, pads, batch = case
    saved = npkit.COLUMN_ELEMENTS
    npkit.COLUMN_ELEMENTS = budget
    try:
        layer, x, w, y, _ = run("conv", raw, dims, batch)
    finally:
        npkit.COLUMN_ELEMENTS = saved
    expected = activated(ref.conv(x, w["weight"], w.get("bias"), layer.stride, pads,
                                  layer.dilation, layer.groups), raw["activation"])
    np.testing.assert_allclose(y, expected, **TOL)


@given(table_cases())
def test_conv_connection_table_matches_reference(case):
    """A connection table reads only its listed maps; trainable count is the mask's count."""
    raw, dims, pads, batch = case
    layer, x, w, y, _ = run("conv", raw, dims, batch)
    expected = ref.conv(x, w["weight"], w["bias"], layer.stride, pads, (1, 1),
                        table=raw["connection_table"])
    assert expected.shape == y.shape
    np.testing.assert_allclose(y, expected, **TOL)
    from archcalc.layers.npkit import trainable_count
    kh, kw = raw["kernel"]
    assert trainable_count(w) == sum(map(len, raw["connection_table"])) * kh * kw + raw["filters"]


@given(pool_cases(dilation=True))
def test_maxpool_matches_reference(case):
    """max pooling with padding, 'same', dilation and ceil mode; padding never wins."""
    raw, dims, pads, batch = case
    layer, x, _, y, _ = run("maxpool", raw, dims, batch)
    expected = ref.maxpool(x, layer.kernel, layer.stride, pads, layer.dilation, layer.ceil_mode)
    assert expected.shape == y.shape
    np.testing.assert_allclose(y, expected, **TOL)


@given(pool_cases(), st.booleans())
def test_avgpool_matches_reference(case, include_pad):
    """average pooling: divisor per docs/conventions.md for both count_include_pad values."""
    raw, dims, pads, batch = case
    raw = dict(raw, count_include_pad=include_pad)
    layer, x, _, y, _ = run("avgpool", raw, dims, batch)
    expected = ref.avgpool(x, layer.kernel, layer.stride, pads, layer.ceil_mode, include_pad)
    assert expected.shape == y.shape
    np.testing.assert_allclose(y, expected, **TOL)


@given(pool_cases(ceil=False, same=False), st.sampled_from([None, "tanh", "sigmoid"]))
def test_subsample_matches_reference(case, activation):
    """LeNet-5 subsampling: coefficient times window sum plus bias, per map."""
    raw, dims, pads, batch = case
    raw = dict(raw, activation=activation)
    layer, x, w, y, _ = run("subsample", raw, dims, batch)
    expected = activated(ref.subsample(x, w["weight"], w["bias"], layer.kernel, layer.stride, pads),
                         activation)
    assert expected.shape == y.shape
    np.testing.assert_allclose(y, expected, **TOL)


@given(st.integers(1, 7), st.integers(1, 5), st.integers(1, 4), st.sampled_from([1, 3, 5]),
       st.floats(1e-5, 1.0), st.floats(0.25, 1.0), st.floats(0.5, 2.0))
def test_lrn_matches_reference(c, h, w, size, alpha, beta, k):
    """AlexNet's LRN across channels, window clipped at the first and last map."""
    layer, x, _, y, _ = run("lrn", {"size": size, "alpha": alpha, "beta": beta, "k": k}, (c, h, w), 2)
    np.testing.assert_allclose(y, ref.lrn(x, size, alpha, beta, k), **TOL)


@given(small, st.integers(1, 9), st.integers(1, 9), st.integers(1, 5), st.integers(1, 5))
def test_adaptive_avgpool_matches_reference(c, h, w, oh, ow):
    """PyTorch's adaptive windows, which may overlap and differ in size."""
    layer, x, _, y, _ = run("adaptive_avgpool", {"output": [oh, ow]}, (c, h, w), 2)
    np.testing.assert_allclose(y, ref.adaptive_avgpool(x, (oh, ow)), **TOL)


@given(small, st.integers(1, 6), st.integers(1, 6))
def test_gap_matches_reference(c, h, w):
    """Global average pooling: the mean of each map."""
    _, x, _, y, _ = run("gap", {}, (c, h, w), 2)
    np.testing.assert_allclose(y, ref.adaptive_avgpool(x, (1, 1)), **TOL)


@given(st.sampled_from([(5,), (2, 3, 4)]), st.integers(1, 6), st.booleans(),
       st.sampled_from([None, "relu", "relu6", "sigmoid"]))
def test_dense_matches_reference(dims, units, bias, activation):
    """Dense on features or on a flattened map; weight (out, in) as in PyTorch."""
    raw = {"units": units, "bias": bias, "activation": activation}
    _, x, w, y, _ = run("dense", raw, dims, 2)
    assert w["weight"].shape == (units, int(np.prod(dims)))
    np.testing.assert_allclose(y, activated(ref.dense(x, w["weight"], w.get("bias")), activation), **TOL)


@given(st.sampled_from([(7,), (2, 3, 4)]), st.integers(1, 5))
def test_rbf_matches_reference(dims, units):
    """LeNet-5's Euclidean RBF: squared distance to each unit's centre."""
    _, x, w, y, _ = run("rbf", {"units": units}, dims, 2)
    np.testing.assert_allclose(y, ref.rbf(x, w["weight"]), **TOL)


@given(st.sampled_from([(3, 4, 5), (6,)]))
def test_batchnorm_matches_reference(dims):
    """Inference batch norm with its running statistics, on maps and on features."""
    _, x, w, y, _ = run("batchnorm", {"eps": 1e-3}, dims, 2)
    expected = ref.batchnorm(x, w["gamma"], w["beta"], w["running_mean"], w["running_var"], 1e-3)
    np.testing.assert_allclose(y, expected, **TOL)


@given(st.sampled_from(["relu", "relu6", "tanh", "sigmoid", "softmax"]),
       st.sampled_from([(3, 2, 5), (7,)]))
def test_elementwise_matches_reference(name, dims):
    """Activations leave their input untouched and return a new array."""
    _, x, _, y, _ = run(name, {}, dims, 2)
    before = x.copy()
    np.testing.assert_allclose(y, ref.elementwise(x, name), **TOL)
    np.testing.assert_array_equal(x, before)
    assert not np.shares_memory(x, y)


def test_softmax_is_stable_for_large_inputs():
    """exp(1000) overflows; softmax of [1000, 1001, 1002] is that of [0, 1, 2]:
    e^0, e^1, e^2 over their sum 1 + e + e² = 11.107..."""
    layer = build(REGISTRY["softmax"], {})
    y = layer.forward(np.array([[1000.0, 1001.0, 1002.0]]), {}, Ops())
    e = np.e
    np.testing.assert_allclose(y, [[1 / (1 + e + e * e), e / (1 + e + e * e), e * e / (1 + e + e * e)]],
                               rtol=1e-12)


def test_dropout_is_identity_at_inference_and_rescales_in_training():
    """Inference returns the input itself; training zeroes units and scales the kept ones by
    1 / (1 − 0.25) = 4/3, so the mean of many ones stays near 1."""
    layer = build(REGISTRY["dropout"], {"rate": 0.25})
    x = np.ones((4, 3, 50, 50))
    assert layer.forward(x, {}, Ops()) is x
    y = layer.forward(x, {}, Ops(training=True, rng=np.random.default_rng(1)))
    assert set(np.unique(y)) == {0.0, 4 / 3}
    assert abs(y.mean() - 1) < 0.02
    assert abs((y == 0).mean() - 0.25) < 0.02


def test_flatten_is_a_c_major_view():
    """flatten of arange(2·3·7·11) keeps element order and shares memory."""
    x = np.arange(2 * 3 * 7 * 11, dtype=float).reshape(2, 3, 7, 11)
    y = build(REGISTRY["flatten"], {}).forward(x, {}, Ops())
    assert y.shape == (2, 231)
    assert np.shares_memory(x, y)
    assert y[1, 77] == x[1, 1, 0, 0]


def test_conv_hand_computed_case():
    """A 2×2 kernel of ones with bias 1 over arange(3×4) (rows 0..3, 4..7, 8..11), stride 1:
    window sums 0+1+4+5=10, 1+2+5+6=14, 18, then 4+5+8+9=26, 30, 34; plus the bias 1."""
    layer = build(REGISTRY["conv"], {"filters": 1, "kernel": 2})
    x = np.arange(12, dtype=float).reshape(1, 1, 3, 4)
    y = layer.forward(x, {"weight": np.ones((1, 1, 2, 2)), "bias": np.ones(1)}, ops := Ops())
    np.testing.assert_array_equal(y[0, 0], [[11, 15, 19], [27, 31, 35]])
    assert ops.macs == 6 * 4  # 6 outputs × 4 taps


def test_avgpool_ceil_mode_hand_case():
    """PyTorch: avg_pool2d(arange(5), kernel 2, stride 2, ceil_mode) on a 1×5 row gives windows
    [0,1], [2,3], [4] and the last divisor is 1 (the overhang is not padding): 0.5, 2.5, 4."""
    layer = build(REGISTRY["avgpool"], {"kernel": [1, 2], "ceil_mode": True})
    y = layer.forward(np.arange(5, dtype=float).reshape(1, 1, 1, 5), {}, Ops())
    np.testing.assert_array_equal(y[0, 0, 0], [0.5, 2.5, 4.0])


#: layer type → the tests above that exercise its forward
FORWARD_CASES = {
    "conv": test_conv_matches_reference, "maxpool": test_maxpool_matches_reference,
    "avgpool": test_avgpool_matches_reference, "subsample": test_subsample_matches_reference,
    "lrn": test_lrn_matches_reference, "adaptive_avgpool": test_adaptive_avgpool_matches_reference,
    "gap": test_gap_matches_reference, "dense": test_dense_matches_reference,
    "rbf": test_rbf_matches_reference, "batchnorm": test_batchnorm_matches_reference,
    "relu": test_elementwise_matches_reference, "relu6": test_elementwise_matches_reference,
    "tanh": test_elementwise_matches_reference, "sigmoid": test_elementwise_matches_reference,
    "softmax": test_elementwise_matches_reference,
    "dropout": test_dropout_is_identity_at_inference_and_rescales_in_training,
    "flatten": test_flatten_is_a_c_major_view,
    **MERGE_CASES, **TYPE_CASES, **UPSAMPLE_CASES, **TRANSPOSE_CASES, **PAD_CASES,
}


def test_every_registered_layer_type_has_forward_cases():
    """Adding a layer type without a forward test fails here."""
    assert sorted(REGISTRY) == sorted(FORWARD_CASES)


@pytest.mark.parametrize("type_name", sorted(REGISTRY))
def test_every_registered_layer_type_has_a_forward(type_name):
    """No layer type falls back to the base class's missing forward."""
    from archcalc.layers.base import Layer
    assert REGISTRY[type_name].forward is not Layer.forward
