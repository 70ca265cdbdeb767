"""The newer layer vocabulary (activations, data-driven norms, channel shuffle and slice,
identity, stochastic depth, layer scale): hand-computed figures, forwards against the naive loop
references (tests/reference.py) in float64 on inputs of every rank, the engine's shape,
params and MACs against what each forward produces, holds and performs, and their errors.
"""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from archcalc import analyse
from archcalc.core.shapes import Shape
from archcalc.errors import ArchcalcError, ShapeError, SpecError
from archcalc.layers import REGISTRY
from archcalc.layers.npkit import trainable_count
from archcalc.numeric.tally import Ops
from archcalc.spec.build import build_model
from archcalc.spec.fields import build

from . import reference as ref

TOL = dict(rtol=1e-10, atol=1e-10)

#: (type, attributes, the reference's name and attributes) of every activation layer
ACTIVATION_CASES = [
    ("silu", {}, "silu", {}), ("hardswish", {}, "hardswish", {}),
    ("hardsigmoid", {}, "hardsigmoid", {}), ("gelu", {}, "gelu", {}),
    ("gelu", {"approximate": "tanh"}, "gelu_tanh", {}), ("mish", {}, "mish", {}),
    ("leaky_relu", {}, "leaky_relu", {}), ("leaky_relu", {"slope": -0.3}, "leaky_relu", {"slope": -0.3}),
    ("elu", {}, "elu", {}), ("elu", {"alpha": 2.5}, "elu", {"alpha": 2.5}),
]

#: sample shapes of every rank: features, (C, L), (C, H, W), (C, D, H, W)
ranks = st.sampled_from([1, 2, 3, 4])


@st.composite
def dims_of(draw, min_rank=1):
    rank = draw(st.integers(min_rank, 4))
    return (draw(st.integers(1, 6)),) + tuple(draw(st.integers(1, 4)) for _ in range(rank - 1))


def run(type_name, raw, dims, batch=2, seed=0, training=False, scale=3.0):
    """(layer, input, weights, output, ops): one float64 forward, with the engine's shape,
    params and MACs checked against what it produced, holds and performed."""
    layer = build(REGISTRY[type_name], raw)
    rng = np.random.default_rng(seed)
    x = scale * rng.standard_normal((batch,) + tuple(dims))
    shape = Shape(tuple(dims))
    weights = layer.init_weights(shape, rng, np.float64)
    ops = Ops(training=training, rng=np.random.default_rng(seed + 1))
    before = x.copy()
    y = layer.forward(x, weights, ops)
    counts = layer.counts(shape)
    assert y.shape == (batch,) + tuple(counts.out_shape.dims), "shape differs from the engine's"
    assert ops.macs == batch * counts.macs, "performed MACs differ from the engine's"
    assert trainable_count(weights) == counts.params, "held parameters differ from the engine's"
    np.testing.assert_array_equal(x, before)  # the input is never written
    assert np.shares_memory(x, y) == layer.is_view
    return layer, x, weights, y, ops


# --- forwards against the references -------------------------------------------------------

@given(st.sampled_from(ACTIVATION_CASES), dims_of())
def test_activation_matches_reference(case, dims):
    """Each function, on features and maps of 1 to 3 spatial axes, scaled so that
    every branch (below −3, around 0, above 3) is reached."""
    type_name, raw, name, attrs = case
    _, x, _, y, _ = run(type_name, raw, dims)
    np.testing.assert_allclose(y, ref.elementwise(x, name, **attrs), **TOL)


@given(st.sampled_from(["shared", "per_channel"]), dims_of())
def test_prelu_matches_reference(slopes, dims):
    """One slope for every channel, or one per channel (axis 1); params 1 or C."""
    layer, x, w, y, _ = run("prelu", {"slopes": slopes}, dims)
    assert w["weight"].shape == ((dims[0],) if slopes == "per_channel" else (1,))
    np.testing.assert_allclose(y, ref.prelu(x, w["weight"]), **TOL)


@given(dims_of(), st.booleans(), st.sampled_from([1e-5, 1e-3]))
def test_layernorm_matches_reference(dims, affine, eps):
    """Over the channels at each position (the features of a vector)."""
    _, x, w, y, _ = run("layernorm", {"affine": affine, "eps": eps}, dims)
    expected = ref.normalise(x, ref.layernorm_members(x.shape), eps, w.get("gamma"), w.get("beta"))
    np.testing.assert_allclose(y, expected, **TOL)


@given(dims_of(), st.booleans(), st.data())
def test_groupnorm_matches_reference(dims, affine, data):
    """Over the channels of each group at every position; any divisor of C."""
    groups = data.draw(st.sampled_from([g for g in range(1, dims[0] + 1) if dims[0] % g == 0]))
    _, x, w, y, _ = run("groupnorm", {"groups": groups, "affine": affine}, dims)
    expected = ref.normalise(x, ref.groupnorm_members(x.shape, groups), 1e-5, w.get("gamma"),
                             w.get("beta"))
    np.testing.assert_allclose(y, expected, **TOL)


@given(dims_of(min_rank=2), st.booleans())
def test_instancenorm_matches_reference(dims, affine):
    """Each channel over its own positions, on (C, L), (C, H, W) and (C, D, H, W)."""
    _, x, w, y, _ = run("instancenorm", {"affine": affine}, dims)
    expected = ref.normalise(x, ref.instancenorm_members(x.shape), 1e-5, w.get("gamma"),
                             w.get("beta"))
    np.testing.assert_allclose(y, expected, **TOL)


@given(dims_of(min_rank=2), st.data())
def test_channel_shuffle_matches_reference(dims, data):
    """A permutation of the channels into a new array; any divisor of C as groups."""
    groups = data.draw(st.sampled_from([g for g in range(1, dims[0] + 1) if dims[0] % g == 0]))
    _, x, _, y, _ = run("channel_shuffle", {"groups": groups}, dims)
    np.testing.assert_array_equal(y, ref.channel_shuffle(x, groups))


@given(dims_of(), st.data())
def test_slice_matches_reference(dims, data):
    """y[n, j, …] = x[n, start + j, …] for every 0 ≤ start < stop ≤ C, on features and maps
    of every rank; a view of the input (checked in run())."""
    stop = data.draw(st.integers(1, dims[0]))
    start = data.draw(st.integers(0, stop - 1))
    _, x, _, y, _ = run("slice", {"start": start, "stop": stop}, dims)
    expected = np.zeros((x.shape[0], stop - start) + x.shape[2:])
    for index in np.ndindex(expected.shape):
        expected[index] = x[(index[0], start + index[1]) + index[2:]]
    np.testing.assert_array_equal(y, expected)


@given(dims_of())
def test_layer_scale_matches_reference(dims):
    """y[n, c, …] = γ_c · x[n, c, …]."""
    _, x, w, y, _ = run("layer_scale", {}, dims)
    expected = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        expected[index] = w["gamma"][index[1]] * x[index]
    np.testing.assert_allclose(y, expected, **TOL)


def test_identity_and_inference_stochastic_depth_are_views():
    """Both return the input itself; they count no activations (the checks in run())."""
    for type_name, raw in (("identity", {}), ("stochastic_depth", {"rate": 0.3})):
        _, x, _, y, _ = run(type_name, raw, (3, 7, 11))
        assert y is x
        assert build(REGISTRY[type_name], raw).counts(Shape.of(3, 7, 11)).activations == 0


def test_slice_figures_and_split_by_hand():
    """Channels 1 and 2 of 3×7×11: a 2×7×11 view, no params, work, connections or
    activations; ShuffleNet V2's split of 116 channels into two slices of 58 gives
    channels 0…57 and 58…115 of the same storage, which concatenate back to the input."""
    c = build(REGISTRY["slice"], {"start": 1, "stop": 3}).counts(X)
    assert c.out_shape == Shape.of(2, 7, 11)
    assert (c.params, c.macs, c.flops, c.connections, c.activations) == (0, 0, 0, 0, 0)
    x = np.arange(116 * 2.0).reshape(1, 116, 2, 1)
    halves = [build(REGISTRY["slice"], raw).forward(x, {}, Ops())
              for raw in ({"stop": 58}, {"start": 58, "stop": 116})]
    assert [h.shape for h in halves] == [(1, 58, 2, 1)] * 2
    assert halves[1][0, 0, 0, 0] == x[0, 58, 0, 0] and np.shares_memory(halves[1], x)
    np.testing.assert_array_equal(np.concatenate(halves, axis=1), x)


def test_slice_refuses_empty_or_overlong_ranges():
    """start must be below stop, and stop at most the input's channels."""
    with pytest.raises(ShapeError, match="below its stop"):
        build(REGISTRY["slice"], {"start": 3, "stop": 3}).counts(X)
    with pytest.raises(ShapeError, match="past the input's 3 channels"):
        build(REGISTRY["slice"], {"stop": 4}).counts(X)
    with pytest.raises(SpecError):
        build(REGISTRY["slice"], {"start": -1, "stop": 2})


def test_stochastic_depth_drops_whole_samples_in_training():
    """torchvision's mode 'row': each sample is all zeros or all 1 / (1 − 0.25) = 4/3
    times its input; about a quarter of 4,000 samples are dropped."""
    layer = build(REGISTRY["stochastic_depth"], {"rate": 0.25})
    x = np.ones((4000, 3, 2, 5))
    y = layer.forward(x, {}, Ops(training=True, rng=np.random.default_rng(3)))
    per_sample = y.reshape(4000, -1)
    assert set(np.unique(per_sample.min(axis=1))) == {0.0, 4 / 3}
    assert np.array_equal(per_sample.min(axis=1), per_sample.max(axis=1))  # all or nothing
    assert abs((per_sample[:, 0] == 0).mean() - 0.25) < 0.03


# --- hand-computed values -------------------------------------------------------------------

def test_activation_values_by_hand():
    """silu(1) = 1/(1 + e⁻¹) = 0.7310585786…; gelu(1) = Φ(1) = 0.8413447460…;
    hardswish(1) = 1·4/6; hardswish(−4) = 0; hardsigmoid(−1) = 2/6; leaky_relu(−2, 0.1) =
    −0.2; elu(−1) = e⁻¹ − 1 = −0.6321205588…; mish(1) = tanh(ln(1 + e)) = 0.8650983882…;
    prelu(−2) with slope 0.25 = −0.5."""
    def f(type_name, v, **raw):
        layer = build(REGISTRY[type_name], raw)
        w = {"weight": np.array([0.25])} if type_name == "prelu" else {}
        return float(layer.forward(np.array([[v]]), w, Ops())[0, 0])

    assert f("silu", 1.0) == pytest.approx(1 / (1 + math.exp(-1)), rel=1e-15)
    assert f("silu", 1.0) == pytest.approx(0.7310585786300049, rel=1e-12)
    assert f("gelu", 1.0) == pytest.approx(0.8413447460685429, rel=1e-13)
    assert f("gelu", 1.0, approximate="tanh") == pytest.approx(0.8411919906082768, rel=1e-13)
    assert f("hardswish", 1.0) == pytest.approx(4 / 6) and f("hardswish", -4.0) == 0
    assert f("hardsigmoid", -1.0) == pytest.approx(2 / 6) and f("hardsigmoid", 5.0) == 1
    assert f("leaky_relu", -2.0, slope=0.1) == pytest.approx(-0.2) and f("leaky_relu", 3.0) == 3
    assert f("elu", -1.0) == pytest.approx(math.exp(-1) - 1, rel=1e-15)
    assert f("mish", 1.0) == pytest.approx(0.8650983882673103, rel=1e-13)
    assert f("prelu", -2.0) == pytest.approx(-0.5) and f("prelu", 2.0) == 2


@pytest.mark.parametrize("dtype, rel", [(np.float64, 5e-14), (np.float32, 5e-6)])
def test_erfc_and_normal_cdf_equal_math_erfc(dtype, rel):
    """GELU's erfc, on a grid over [−10, 10] in the run's dtype, against math.erfc of the
    same values: relatively within 5e-14 (float64) or about 40 ulp (float32, where the
    rounding of z² in e^(−z²) alone costs 20 at z = 6), and Φ keeps that relative
    precision in its lower tail (Φ(−8) ≈ 6.2e-16, which 1 + erf(−8/√2) would lose)."""
    from archcalc.layers.npact import erfc_abs, normal_cdf

    x = np.linspace(-10, 10, 20_001).astype(dtype)
    exact = np.array([math.erfc(abs(v) / math.sqrt(2)) for v in x.astype(float)])
    got = erfc_abs(x, math.sqrt(0.5)).astype(float)
    inside = exact > 1e-300
    assert np.all(np.abs(got - exact)[inside] <= rel * exact[inside] + 1e-17)
    phi = normal_cdf(x).astype(float)
    phi_exact = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x.astype(float)])
    assert np.all(np.abs(phi - phi_exact) <= rel * phi_exact + 1e-17)
    assert normal_cdf(np.array([-8.0]))[0] == pytest.approx(0.5 * math.erfc(8 / math.sqrt(2)), rel=1e-13)


def test_layernorm_and_shuffle_values_by_hand():
    """Channels [1, 2, 3] at one position: mean 2, variance 2/3, so x̂ = ∓√(3/2), 0.
    Channel shuffle of channels 0..5 in 2 groups gives 0, 3, 1, 4, 2, 5."""
    ln = build(REGISTRY["layernorm"], {"eps": 0.0, "affine": False})
    y = ln.forward(np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1), {}, Ops())
    np.testing.assert_allclose(y.ravel(), [-math.sqrt(1.5), 0, math.sqrt(1.5)], rtol=1e-14)
    shuffle = build(REGISTRY["channel_shuffle"], {"groups": 2})
    y = shuffle.forward(np.arange(6.0).reshape(1, 6, 1, 1), {}, Ops())
    assert y.ravel().tolist() == [0, 3, 1, 4, 2, 5]


# C, H, W = 3, 7, 11: 231 elements, 77 positions
X = Shape.of(3, 7, 11)

#: type, attributes → (params, FLOPs, connections, activations), written out by hand
HAND = [
    ("silu", {}, (0, 2 * 231, 231, 231)),                  # exp + multiply
    ("hardswish", {}, (0, 5 * 231, 231, 231)),             # add, 2 comparisons, divide, multiply
    ("hardsigmoid", {}, (0, 4 * 231, 231, 231)),
    ("gelu", {}, (0, 5 * 231, 231, 231)),                  # 3 multiplies, add, erf
    ("gelu", {"approximate": "tanh"}, (0, 9 * 231, 231, 231)),  # 6 multiplies, 2 adds, tanh
    ("leaky_relu", {"slope": 0.2}, (0, 2 * 231, 231, 231)),
    ("elu", {}, (0, 4 * 231, 231, 231)),
    ("mish", {}, (0, 5 * 231, 231, 231)),                  # exp, log, tanh, add, multiply
    ("prelu", {}, (1, 2 * 231, 231, 231)),
    ("prelu", {"slopes": "per_channel"}, (3, 2 * 231, 231, 231)),
    # 77 sets of 3: 7·231 + 3·77 with γ, β; every output reads its 3 + its bias
    ("layernorm", {}, (6, 7 * 231 + 3 * 77, 231 * 3 + 231, 231)),
    ("layernorm", {"affine": False}, (0, 5 * 231 + 3 * 77, 231 * 3, 231)),
    # 3 groups of 77 (one channel each): 7·231 + 3·3
    ("groupnorm", {"groups": 3}, (6, 7 * 231 + 3 * 3, 231 * 77 + 231, 231)),
    ("groupnorm", {"groups": 1}, (6, 7 * 231 + 3 * 1, 231 * 231 + 231, 231)),
    # 3 channels of 77 positions, no affine by default: 5·231 + 3·3
    ("instancenorm", {}, (0, 5 * 231 + 3 * 3, 231 * 77, 231)),
    ("instancenorm", {"affine": True}, (6, 7 * 231 + 3 * 3, 231 * 77 + 231, 231)),
    ("channel_shuffle", {"groups": 3}, (0, 0, 231, 231)),
    ("identity", {}, (0, 0, 0, 0)),
    ("stochastic_depth", {"rate": 0.2}, (0, 0, 0, 0)),
    ("layer_scale", {}, (3, 231, 231, 231)),               # one multiply per element
]


@pytest.mark.parametrize("type_name, raw, expected", HAND)
def test_figures_by_hand(type_name, raw, expected):
    """params, FLOPs, connections and activations on 3×7×11; no MACs (no weighted sums)."""
    c = build(REGISTRY[type_name], raw).counts(X)
    assert (c.params, c.flops, c.connections, c.activations) == expected
    assert c.macs == 0 and c.out_shape == X


def test_layernorm_work_split_by_hand():
    """m = 231 elements in k = 77 sets: additions 3m − k + m (β) = 847, multiplications
    2m + m (γ) = 693, divisions 3k = 231, exponentials (√) k = 77."""
    w = build(REGISTRY["layernorm"], {}).work(X, X)
    assert (w.additions, w.multiplications, w.divisions, w.exponentials, w.comparisons) == (847, 693, 231, 77, 0)


def test_norms_on_other_ranks_by_hand():
    """layernorm on 16 features: one set of 16, 2·16 params, 7·16 + 3 FLOPs; on a 1-D map
    8×100: 100 sets of 8; groupnorm 4 groups on 8×5×6×7 (3-D): 4 sets of 420."""
    ln = build(REGISTRY["layernorm"], {})
    assert (ln.counts(Shape.of(16)).params, ln.counts(Shape.of(16)).flops) == (32, 7 * 16 + 3)
    assert ln.counts(Shape.of(8, 100)).flops == 7 * 800 + 3 * 100
    gn = build(REGISTRY["groupnorm"], {"groups": 4})
    assert gn.counts(Shape.of(8, 5, 6, 7)).flops == 7 * 1680 + 3 * 4


# --- the engine against the forward, on random configurations --------------------------------

@st.composite
def configurations(draw):
    """(type, attributes, sample dims) of any new type on an input it accepts."""
    dims = draw(dims_of())
    c = dims[0]
    divisor = draw(st.sampled_from([g for g in range(1, c + 1) if c % g == 0]))
    options = [(t, raw) for t, raw, _, _ in ACTIVATION_CASES] + [
        ("prelu", {"slopes": draw(st.sampled_from(["shared", "per_channel"]))}),
        ("layernorm", {"affine": draw(st.booleans())}), ("groupnorm", {"groups": divisor}),
        ("identity", {}), ("stochastic_depth", {"rate": 0.5}), ("layer_scale", {"init": 0.5}),
        ("slice", {"start": c // 2, "stop": c})]
    if len(dims) > 1:
        options += [("instancenorm", {"affine": draw(st.booleans())}),
                    ("channel_shuffle", {"groups": divisor})]
    type_name, raw = draw(st.sampled_from(options))
    return type_name, raw, dims


@given(configurations(), st.integers(1, 3))
def test_engine_figures_equal_what_the_forward_does(case, batch):
    """Output shape, parameters held (weights made for the input) and MACs performed equal
    the engine's shape, params and MACs × batch, on every type and rank (run() checks)."""
    type_name, raw, dims = case
    run(type_name, raw, dims, batch=batch)


def test_new_activation_workspace_is_a_few_blocks():
    """The functions evaluated block by block hold their temporaries per block of 8,192
    elements: a gelu on 4×64×56×56 holds 3 blocks (|x|/√2 turned into erfc's polynomial
    variable, e^(−z²), the polynomial), whatever the batch; hardsigmoid none."""
    gelu = build(REGISTRY["gelu"], {})
    assert gelu.workspace(Shape.of(64, 56, 56), 4) == 3 * 8192
    assert gelu.workspace(Shape.of(3, 10), 2) == 3 * 60
    assert build(REGISTRY["hardsigmoid"], {}).workspace(Shape.of(64, 56, 56), 4) == 0


# --- folded into a row ----------------------------------------------------------------------

FOLDABLE = ["silu", "hardswish", "hardsigmoid", "gelu", "leaky_relu", "elu", "mish"]


@pytest.mark.parametrize("name", FOLDABLE)
def test_folded_activation_equals_its_layer(name):
    """conv+act, dense+act and add+act give the plain row's output through the standalone
    layer (defaults: slope 0.01, α 1, erf form), and the row's FLOPs gain exactly the
    layer's FLOPs: the activation's work on the row's outputs."""
    rng = np.random.default_rng(5)
    x = 3 * rng.standard_normal((2, 3, 9, 10))
    act = build(REGISTRY[name], {})
    for type_name, raw in (("conv", {"filters": 4, "kernel": 3, "padding": 1}), ("dense", {"units": 5})):
        plain, folded = build(REGISTRY[type_name], raw), build(REGISTRY[type_name], dict(raw, activation=name))
        w = plain.init_weights(Shape.of(3, 9, 10), rng, np.float64)
        expected = act.forward(plain.forward(x, w, Ops()), {}, Ops())
        np.testing.assert_allclose(folded.forward(x, w, Ops()), expected, **TOL)
        y = plain.counts(Shape.of(3, 9, 10)).out_shape
        assert folded.counts(Shape.of(3, 9, 10)).flops == (plain.counts(Shape.of(3, 9, 10)).flops
                                                           + act.counts(y).flops)
    add = build(REGISTRY["add"], {"activation": name})
    np.testing.assert_allclose(add.forward((x, x), {}, Ops()), act.forward(x + x, {}, Ops()), **TOL)


def test_folded_activation_in_a_strided_chunk_of_conv_rows():
    """A column budget of a few elements makes the conv finish each chunk of one output row
    on a strided view: the block-by-block gelu writes it back in place all the same."""
    from archcalc.layers import npkit

    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 8, 9))
    raw = {"filters": 4, "kernel": 3, "padding": 1}
    plain, folded = build(REGISTRY["conv"], raw), build(REGISTRY["conv"], dict(raw, activation="gelu"))
    w = plain.init_weights(Shape.of(3, 8, 9), rng, np.float64)
    saved = npkit.COLUMN_ELEMENTS
    npkit.COLUMN_ELEMENTS = 30
    try:
        y = folded.forward(x, w, Ops())
    finally:
        npkit.COLUMN_ELEMENTS = saved
    np.testing.assert_allclose(y, ref.elementwise(plain.forward(x, w, Ops()), "gelu"), **TOL)


def _spec(layers, input_=(6, 5, 7)):
    return {"name": "types", "input": list(input_), "layers": layers}


def test_aliases_and_folded_spellings():
    """swish is silu (as a type and as a folded activation), drop_path is stochastic_depth;
    the row shows the type itself."""
    model = build_model(_spec([{"name": "a", "type": "swish"},
                               {"name": "b", "type": "conv", "filters": 2, "kernel": 1, "activation": "swish"},
                               {"name": "c", "type": "drop_path", "rate": 0.1}]))
    kinds = [node.layer.type_name for node in model.nodes]
    assert kinds == ["silu", "conv", "stochastic_depth"]
    assert model.nodes[1].layer.activation == "silu"
    assert model.nodes[1].layer.label == "conv+silu"


# --- errors ---------------------------------------------------------------------------------

def _error(layers, input_=(6, 5, 7)) -> str:
    with pytest.raises(ArchcalcError) as info:
        analyse(build_model(_spec(layers, input_)))
    message = str(info.value)
    assert "\n" not in message
    return message


def test_indivisible_groups_are_one_line_naming_the_layer():
    """groupnorm and channel_shuffle with 4 groups on 6 channels."""
    for kind in ("groupnorm", "channel_shuffle"):
        message = _error([{"name": "g", "type": kind, "groups": 4}])
        assert "g" in message and "6" in message and "4" in message and "divisible" in message


def test_folding_prelu_is_refused_with_a_pointer():
    """prelu's slopes are parameters: folding it is refused, naming the layer and the key."""
    for layer in ({"name": "c", "type": "conv", "filters": 2, "kernel": 1, "activation": "prelu"},
                  {"name": "c", "type": "dense", "units": 2, "activation": "prelu"}):
        message = _error([layer])
        assert "prelu" in message and "{type: prelu}" in message and "c" in message
    with pytest.raises(SpecError, match="prelu"):
        build_model(_spec([{"name": "r", "type": "residual", "activation": "prelu",
                            "body": [{"type": "relu"}]}]))


def test_bad_attributes_and_inputs_are_refused():
    """An unknown gelu form, an unknown prelu mode, a rate of 1, a missing groups, and the
    two types that need positions on a vector of features."""
    assert "none, tanh" in _error([{"name": "a", "type": "gelu", "approximate": "fast"}])
    assert "shared, per_channel" in _error([{"name": "a", "type": "prelu", "slopes": 3}])
    assert "[0, 1)" in _error([{"name": "a", "type": "stochastic_depth", "rate": 1.0}])
    assert "groups" in _error([{"name": "a", "type": "groupnorm"}])
    for kind, raw in (("instancenorm", {}), ("channel_shuffle", {"groups": 2})):
        with pytest.raises(ShapeError, match="map"):
            build(REGISTRY[kind], raw).counts(Shape.of(12))


#: layer type → the test above that exercises its forward (tests/test_kernels.py collects them)
FORWARD_CASES = {
    "silu": test_activation_matches_reference, "hardswish": test_activation_matches_reference,
    "hardsigmoid": test_activation_matches_reference, "gelu": test_activation_matches_reference,
    "leaky_relu": test_activation_matches_reference, "elu": test_activation_matches_reference,
    "mish": test_activation_matches_reference, "prelu": test_prelu_matches_reference,
    "layernorm": test_layernorm_matches_reference, "groupnorm": test_groupnorm_matches_reference,
    "instancenorm": test_instancenorm_matches_reference,
    "channel_shuffle": test_channel_shuffle_matches_reference,
    "slice": test_slice_matches_reference,
    "layer_scale": test_layer_scale_matches_reference,
    "identity": test_identity_and_inference_stochastic_depth_are_views,
    "stochastic_depth": test_stochastic_depth_drops_whole_samples_in_training,
}
