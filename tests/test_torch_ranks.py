"""PyTorch as an independent oracle for 1-D and 3-D convolution and pooling (float64).

Optional: without torch these tests are skipped, visibly.  Asymmetric padding is applied
with F.pad first (PyTorch's conv and pool layers take symmetric padding only)."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install -e '.[torch]' runs the oracle tests")
F = torch.nn.functional

from .test_kernels import TOL, run  # noqa: E402
from .test_ranks import nd_conv_cases, nd_pool_cases  # noqa: E402

CONV = {1: F.conv1d, 3: F.conv3d}
MAXPOOL = {1: F.max_pool1d, 3: F.max_pool3d}
AVGPOOL = {1: F.avg_pool1d, 3: F.avg_pool3d}
ADAPTIVE = {1: F.adaptive_avg_pool1d, 3: F.adaptive_avg_pool3d}


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def torch_pads(pads):
    """F.pad's order: the last axis first, (before, after) each."""
    return tuple(p for before_after in reversed(pads) for p in before_after)


@settings(max_examples=40, deadline=None)
@given(nd_conv_cases())
def test_conv_1d_3d_match_torch(case):
    raw, dims, pads, batch = case
    _, x, w, y, _ = run("conv", raw, dims, batch)
    rank = len(dims) - 1
    expected = CONV[rank](F.pad(t(x), torch_pads(pads)), t(w["weight"]),
                          t(w["bias"]) if "bias" in w else None, stride=raw["stride"],
                          dilation=raw["dilation"], groups=raw["groups"])
    np.testing.assert_allclose(y, expected.numpy(), **TOL)


def _symmetric_torch_pool(raw, pads):
    """PyTorch's pools take one symmetric pad per axis of at most kernel // 2."""
    assume(all(b == a for b, a in pads))
    assume(all(b <= k // 2 for (b, _), k in zip(pads, raw["kernel"])))
    return tuple(b for b, _ in pads)


@settings(max_examples=40, deadline=None)
@given(nd_pool_cases(dilation=True))
def test_maxpool_1d_3d_match_torch(case):
    raw, dims, pads, batch = case
    padding = _symmetric_torch_pool(raw, pads)
    _, x, _, y, _ = run("maxpool", raw, dims, batch)
    expected = MAXPOOL[len(dims) - 1](t(x), raw["kernel"], raw["stride"], padding,
                                      raw["dilation"], ceil_mode=raw["ceil_mode"])
    np.testing.assert_allclose(y, expected.numpy(), **TOL)


@settings(max_examples=40, deadline=None)
@given(nd_pool_cases(), st.booleans())
def test_avgpool_1d_3d_match_torch(case, include_pad):
    raw, dims, pads, batch = case
    padding = _symmetric_torch_pool(raw, pads)
    # avg_pool3d refuses an input axis shorter than the kernel, padding or not
    assume(len(dims) == 2 or all(n >= k for n, k in zip(dims[1:], raw["kernel"])))
    raw = dict(raw, count_include_pad=include_pad)
    _, x, _, y, _ = run("avgpool", raw, dims, batch)
    expected = AVGPOOL[len(dims) - 1](t(x), raw["kernel"], raw["stride"], padding,
                                      ceil_mode=raw["ceil_mode"], count_include_pad=include_pad)
    np.testing.assert_allclose(y, expected.numpy(), **TOL)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([1, 3]), st.integers(1, 3), st.data())
def test_adaptive_pooling_1d_3d_matches_torch(rank, c, data):
    sizes = [data.draw(st.integers(1, 9)) for _ in range(rank)]
    out = [data.draw(st.integers(1, 9)) for _ in range(rank)]
    _, x, _, y, _ = run("adaptive_avgpool", {"output": out}, (c, *sizes), 2)
    np.testing.assert_allclose(y, ADAPTIVE[rank](t(x), out).numpy(), **TOL)
