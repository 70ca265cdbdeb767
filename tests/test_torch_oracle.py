"""PyTorch CPU as an independent oracle for the NumPy forwards (float64).

Optional: ``pip install -e '.[torch]'``.  Without torch these tests are skipped, visibly.
"""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install -e '.[torch]' runs the oracle tests")
F = torch.nn.functional

from archcalc.spec.fields import build  # noqa: E402
from archcalc.layers import REGISTRY  # noqa: E402
from archcalc.core.shapes import Shape, pads_per_axis  # noqa: E402
from archcalc.numeric.tally import Ops  # noqa: E402
from .strategies import conv_cases, pool_cases  # noqa: E402

TOL = dict(rtol=1e-10, atol=1e-10)


def ours(type_name, raw, dims, batch, seed=0):
    layer = build(REGISTRY[type_name], raw)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch,) + tuple(dims))
    weights = layer.init_weights(Shape(tuple(dims)), rng, np.float64)
    return layer, x, weights, layer.forward(x, weights, Ops())


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def symmetric(pads):
    return all(before == after for before, after in pads)


@settings(max_examples=30)
@given(conv_cases())
def test_conv_matches_torch(case):
    """F.conv2d with the same (out, in/groups, kh, kw) weights (symmetric padding only)."""
    raw, dims, pads, batch = case
    assume(symmetric(pads))
    layer, x, w, y = ours("conv", dict(raw, activation=None), dims, batch)
    expected = F.conv2d(t(x), t(w["weight"]), t(w["bias"]) if "bias" in w else None,
                        stride=layer.stride, padding=(pads[0][0], pads[1][0]),
                        dilation=layer.dilation, groups=layer.groups)
    np.testing.assert_allclose(y, expected.numpy(), **TOL)


@settings(max_examples=30)
@given(pool_cases(dilation=True, same=False, torch_pads=True))
def test_maxpool_matches_torch(case):
    """F.max_pool2d incl. dilation and ceil mode (PyTorch allows pad ≤ kernel // 2)."""
    raw, dims, pads, batch = case
    layer = build(REGISTRY["maxpool"], raw)
    assume(symmetric(pads))
    assume(all(p <= k // 2 for (p, _), k in zip(pads, layer.kernel)))
    layer, x, _, y = ours("maxpool", raw, dims, batch)
    expected = F.max_pool2d(t(x), layer.kernel, layer.stride, (pads[0][0], pads[1][0]),
                            layer.dilation, ceil_mode=layer.ceil_mode)
    np.testing.assert_allclose(y, expected.numpy(), **TOL)


@settings(max_examples=30)
@given(pool_cases(same=False, torch_pads=True), st.booleans())
def test_avgpool_matches_torch(case, include_pad):
    """F.avg_pool2d incl. ceil mode and both count_include_pad settings."""
    raw, dims, pads, batch = case
    layer = build(REGISTRY["avgpool"], raw)
    assume(symmetric(pads))
    assume(all(p <= k // 2 for (p, _), k in zip(pads, layer.kernel)))
    layer, x, _, y = ours("avgpool", dict(raw, count_include_pad=include_pad), dims, batch)
    expected = F.avg_pool2d(t(x), layer.kernel, layer.stride, (pads[0][0], pads[1][0]),
                            ceil_mode=layer.ceil_mode, count_include_pad=include_pad)
    np.testing.assert_allclose(y, expected.numpy(), **TOL)


@given(st.integers(1, 7), st.sampled_from([1, 3, 5]))
def test_lrn_matches_torch(c, size):
    """F.local_response_norm with AlexNet's α, β and Caffe's k = 1."""
    layer, x, _, y = ours("lrn", {"size": size, "alpha": 1e-4 * 1e3, "beta": 0.75, "k": 1.0},
                          (c, 3, 4), 2)
    expected = F.local_response_norm(t(x), size, alpha=0.1, beta=0.75, k=1.0)
    np.testing.assert_allclose(y, expected.numpy(), **TOL)


@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 5), st.integers(1, 5))
def test_adaptive_avgpool_matches_torch(h, w, oh, ow):
    """F.adaptive_avg_pool2d, overlapping windows included."""
    _, x, _, y = ours("adaptive_avgpool", {"output": [oh, ow]}, (2, h, w), 2)
    np.testing.assert_allclose(y, F.adaptive_avg_pool2d(t(x), (oh, ow)).numpy(), **TOL)


def test_dense_batchnorm_softmax_match_torch():
    """F.linear with (out, in) weights, F.batch_norm in eval mode, softmax over axis 1."""
    layer, x, w, y = ours("dense", {"units": 5}, (3, 2, 4), 2)
    np.testing.assert_allclose(y, F.linear(t(x.reshape(2, -1)), t(w["weight"]), t(w["bias"])).numpy(), **TOL)
    layer, x, w, y = ours("batchnorm", {}, (3, 7, 11), 2)
    expected = F.batch_norm(t(x), t(w["running_mean"]), t(w["running_var"]), t(w["gamma"]),
                            t(w["beta"]), training=False, eps=layer.eps)
    np.testing.assert_allclose(y, expected.numpy(), **TOL)
    _, x, _, y = ours("softmax", {}, (3, 7, 11), 2)
    np.testing.assert_allclose(y, F.softmax(t(x), dim=1).numpy(), **TOL)


def test_alexnet_torchvision_end_to_end_matches_torch(tmp_path):
    """The saved weights and input of a whole verify run, replayed layer by layer in torch
    (float64), reproduce every saved output."""
    from archcalc.spec.catalog import load
    from archcalc.numeric.verify import verify

    model = load("alexnet_torchvision")
    path = tmp_path / "a.npz"
    verify(model, Shape.of(3, 64, 72), dtype="float64", save=str(path))
    data = np.load(path)
    x = t(data["input"])
    for node in model.layer_nodes():
        layer, name = node.layer, node.path
        if layer.type_name == "conv":
            x = F.conv2d(x, t(data[f"{name}/weight"]), t(data[f"{name}/bias"]), layer.stride,
                         tuple(p for p, _ in pads_per_axis(layer.padding, 2)), layer.dilation, layer.groups)
        elif layer.type_name == "maxpool":
            x = F.max_pool2d(x, layer.kernel, layer.stride, tuple(p for p, _ in pads_per_axis(layer.padding, 2)),
                             layer.dilation, ceil_mode=layer.ceil_mode)
        elif layer.type_name == "adaptive_avgpool":
            x = F.adaptive_avg_pool2d(x, layer.output)
        elif layer.type_name == "dense":
            x = F.linear(x.flatten(1), t(data[f"{name}/weight"]), t(data[f"{name}/bias"]))
        elif layer.type_name == "softmax":
            x = F.softmax(x, dim=1)
        elif layer.type_name in ("dropout", "flatten"):
            x = x.flatten(1) if layer.type_name == "flatten" else x
        else:
            raise AssertionError(f"add {layer.type_name} to this replay")
        if getattr(layer, "activation", None) == "relu":
            x = F.relu(x)
        np.testing.assert_allclose(data[f"{name}/output"], x.numpy(), rtol=1e-9, atol=1e-9,
                                   err_msg=name)
