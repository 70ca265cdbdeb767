"""PyTorch CPU as an independent oracle for the newer layer types (float64), on random
configurations of 1-D, 2-D and 3-D maps and feature vectors, weights copied across.

Optional: ``pip install -e '.[torch]'``.  Without torch these tests are skipped, visibly.
"""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install -e '.[torch]' runs the oracle tests")
F = torch.nn.functional
nn = torch.nn

from archcalc.core.shapes import Shape  # noqa: E402
from archcalc.layers import REGISTRY  # noqa: E402
from archcalc.numeric.tally import Ops  # noqa: E402
from archcalc.spec.fields import build  # noqa: E402

TOL = dict(rtol=1e-10, atol=1e-10)


@st.composite
def maps(draw, min_rank=1):
    """Sample dims: features (F,), (C, L), (C, H, W) or (C, D, H, W), and a batch."""
    rank = draw(st.integers(min_rank, 4))
    dims = (draw(st.integers(1, 8)),) + tuple(draw(st.integers(1, 5)) for _ in range(rank - 1))
    return dims, draw(st.integers(1, 3))


def ours(type_name, raw, dims, batch, seed=0):
    layer = build(REGISTRY[type_name], raw)
    rng = np.random.default_rng(seed)
    x = 3 * rng.standard_normal((batch,) + tuple(dims))
    weights = layer.init_weights(Shape(tuple(dims)), rng, np.float64)
    return layer, x, weights, layer.forward(x, weights, Ops())


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


#: each activation's torch module, built from archcalc's attributes
MODULES = {
    "silu": lambda layer: nn.SiLU(), "hardswish": lambda layer: nn.Hardswish(),
    "hardsigmoid": lambda layer: nn.Hardsigmoid(), "mish": lambda layer: nn.Mish(),
    "gelu": lambda layer: nn.GELU(approximate=layer.approximate),
    "leaky_relu": lambda layer: nn.LeakyReLU(layer.slope), "elu": lambda layer: nn.ELU(layer.alpha),
}


@settings(max_examples=40)
@given(st.sampled_from(sorted(MODULES)), maps(),
       st.fixed_dictionaries({"approximate": st.sampled_from(["none", "tanh"]),
                              "slope": st.floats(-2, 2), "alpha": st.floats(0.1, 3)}))
def test_activations_match_torch_modules(name, case, attrs):
    """nn.SiLU, nn.Hardswish, nn.Hardsigmoid, nn.GELU (both forms), nn.LeakyReLU,
    nn.ELU, nn.Mish on every rank."""
    dims, batch = case
    keys = {"gelu": ["approximate"], "leaky_relu": ["slope"], "elu": ["alpha"]}.get(name, [])
    layer, x, _, y = ours(name, {k: attrs[k] for k in keys}, dims, batch)
    with torch.no_grad():
        expected = MODULES[name](layer)(t(x))
    np.testing.assert_allclose(y, expected.numpy(), **TOL)


@settings(max_examples=30)
@given(maps(), st.sampled_from(["shared", "per_channel"]))
def test_prelu_matches_torch(case, slopes):
    """nn.PReLU(num_parameters = 1 or C) with archcalc's slopes copied in."""
    dims, batch = case
    layer, x, w, y = ours("prelu", {"slopes": slopes}, dims, batch)
    module = nn.PReLU(dims[0] if slopes == "per_channel" else 1).double()
    with torch.no_grad():
        module.weight.copy_(t(w["weight"]))
        expected = module(t(x))
    np.testing.assert_allclose(y, expected.numpy(), **TOL)
    assert layer.params(Shape(dims)) == sum(p.numel() for p in module.parameters())


def _affine(module, w):
    with torch.no_grad():
        module.weight.copy_(t(w["gamma"]))
        module.bias.copy_(t(w["beta"]))


@settings(max_examples=30)
@given(maps(), st.booleans(), st.sampled_from([1e-5, 1e-6]))
def test_layernorm_matches_torch(case, affine, eps):
    """nn.LayerNorm(C) on the channels-last map (ConvNeXt's block: permute, normalise,
    permute back; its LayerNorm2d does the same), or on the features of a vector."""
    dims, batch = case
    layer, x, w, y = ours("layernorm", {"affine": affine, "eps": eps}, dims, batch)
    module = nn.LayerNorm(dims[0], eps=eps, elementwise_affine=affine).double()
    if affine:
        _affine(module, w)
    last = tuple(range(2, x.ndim)) + (1,)
    with torch.no_grad():
        expected = module(t(x).permute(0, *last)).permute(0, x.ndim - 1, *range(1, x.ndim - 1))
    np.testing.assert_allclose(y, expected.numpy(), **TOL)
    assert layer.params(Shape(dims)) == sum(p.numel() for p in module.parameters())


@settings(max_examples=30)
@given(maps(), st.booleans(), st.data())
def test_groupnorm_matches_torch(case, affine, data):
    """nn.GroupNorm(groups, C, affine) for every divisor of C, vectors included (torch
    refuses sets of one value, whose variance is 0: those are left out)."""
    dims, batch = case
    groups = data.draw(st.sampled_from([g for g in range(1, dims[0] + 1) if dims[0] % g == 0]))
    assume(np.prod(dims) // groups > 1)
    layer, x, w, y = ours("groupnorm", {"groups": groups, "affine": affine}, dims, batch)
    module = nn.GroupNorm(groups, dims[0], affine=affine).double()
    if affine:
        _affine(module, w)
    with torch.no_grad():
        expected = module(t(x))
    np.testing.assert_allclose(y, expected.numpy(), **TOL)
    assert layer.params(Shape(dims)) == sum(p.numel() for p in module.parameters())


@settings(max_examples=30)
@given(maps(min_rank=2), st.booleans())
def test_instancenorm_matches_torch(case, affine):
    """nn.InstanceNorm1d/2d/3d in eval mode (statistics from the sample, no running ones),
    on (N, C, L), (N, C, H, W), (N, C, D, H, W); a single position is excluded (torch
    refuses it: its variance is 0)."""
    dims, batch = case
    if np.prod(dims[1:]) == 1:
        dims = dims[:1] + (2,) + dims[2:]
    layer, x, w, y = ours("instancenorm", {"affine": affine}, dims, batch)
    cls = {2: nn.InstanceNorm1d, 3: nn.InstanceNorm2d, 4: nn.InstanceNorm3d}[len(dims)]
    module = cls(dims[0], affine=affine).double().eval()
    if affine:
        _affine(module, w)
    with torch.no_grad():
        expected = module(t(x))
    np.testing.assert_allclose(y, expected.numpy(), **TOL)
    assert layer.params(Shape(dims)) == sum(p.numel() for p in module.parameters())


@settings(max_examples=30)
@given(maps(min_rank=2), st.data())
def test_channel_shuffle_matches_torch(case, data):
    """nn.ChannelShuffle(groups) for every divisor of C."""
    dims, batch = case
    groups = data.draw(st.sampled_from([g for g in range(1, dims[0] + 1) if dims[0] % g == 0]))
    _, x, _, y = ours("channel_shuffle", {"groups": groups}, dims, batch)
    np.testing.assert_array_equal(y, nn.ChannelShuffle(groups)(t(x)).numpy())


@settings(max_examples=30)
@given(maps(), st.data())
def test_slice_matches_torch(case, data):
    """x[:, start:stop] for every range of the channels (features of a vector), and the two
    slices of an even split are torch.chunk(x, 2, dim=1), ShuffleNet V2's channel split."""
    dims, batch = case
    stop = data.draw(st.integers(1, dims[0]))
    start = data.draw(st.integers(0, stop - 1))
    _, x, _, y = ours("slice", {"start": start, "stop": stop}, dims, batch)
    np.testing.assert_array_equal(y, t(x)[:, start:stop].numpy())
    if dims[0] % 2 == 0:
        half = dims[0] // 2
        for piece, raw in zip(torch.chunk(t(x), 2, dim=1), ({"stop": half}, {"start": half, "stop": dims[0]})):
            np.testing.assert_array_equal(ours("slice", raw, dims, batch)[3], piece.numpy())


@settings(max_examples=20)
@given(maps())
def test_layer_scale_identity_and_stochastic_depth_match_torch(case):
    """ConvNeXt's ``layer_scale * x`` with a (C, 1, …) parameter, nn.Identity, and
    torchvision's stochastic_depth(p, 'row') at inference."""
    torchvision = pytest.importorskip("torchvision")
    dims, batch = case
    _, x, w, y = ours("layer_scale", {}, dims, batch)
    gamma = t(w["gamma"]).reshape((-1,) + (1,) * (len(dims) - 1))
    np.testing.assert_allclose(y, (gamma * t(x)).numpy(), **TOL)
    _, x, _, y = ours("identity", {}, dims, batch)
    np.testing.assert_array_equal(y, nn.Identity()(t(x)).numpy())
    _, x, _, y = ours("stochastic_depth", {"rate": 0.3}, dims, batch)
    expected = torchvision.ops.stochastic_depth(t(x), 0.3, "row", training=False)
    np.testing.assert_array_equal(y, expected.numpy())


def test_folded_silu_conv_matches_torch():
    """A conv with a folded silu equals F.conv2d then F.silu, and with a folded gelu on a
    1×L map (written 2-D) F.conv2d then F.gelu."""
    for act, f in (("silu", F.silu), ("gelu", F.gelu), ("hardswish", F.hardswish)):
        layer, x, w, y = ours("conv", {"filters": 5, "kernel": 3, "padding": 1, "activation": act},
                              (3, 1 if act == "gelu" else 6, 9), 2)
        expected = f(F.conv2d(t(x), t(w["weight"]), t(w["bias"]), padding=1))
        np.testing.assert_allclose(y, expected.numpy(), **TOL)
