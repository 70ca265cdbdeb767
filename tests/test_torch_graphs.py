"""The bundled graph examples rebuilt in PyTorch (float64): every node's output shape and
values equal those of archcalc's NumPy run, with the same weights.

Optional: needs torch; skipped, visibly, without it.
"""
import numpy as np

from archcalc.core.shapes import pads_per_axis
import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install -e '.[torch]' runs the oracle tests")
F = torch.nn.functional

from archcalc.core.graph import INPUT  # noqa: E402
from archcalc.numeric.runner import forward  # noqa: E402
from archcalc.spec.catalog import load  # noqa: E402

EXAMPLES = ("se_resnet_block", "mbconv_se", "unet_small", "detection_head")
ACTIVATIONS = {None: lambda x: x, "relu": F.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
               "relu6": F.relu6, "silu": F.silu}


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def conv(layer, w, xs):
    (top, bottom), (left, right) = pads_per_axis(layer.padding, 2)
    x = F.pad(xs[0], (left, right, top, bottom))
    return F.conv2d(x, t(w["weight"]), t(w["bias"]) if "bias" in w else None, layer.stride,
                    0, layer.dilation, layer.groups)


def crop(layer, w, xs):
    x, like = xs
    (h, w_), (oh, ow) = x.shape[2:], like.shape[2:]
    top, left = (h - oh) // 2, (w_ - ow) // 2
    return x[:, :, top:top + oh, left:left + ow]


#: the PyTorch form of each layer type the examples use, written from torch's documentation
TORCH = {
    "conv": conv,
    "batchnorm": lambda layer, w, xs: F.batch_norm(
        xs[0], t(w["running_mean"]), t(w["running_var"]), t(w["gamma"]), t(w["beta"]),
        training=False, eps=layer.eps),
    "relu": lambda layer, w, xs: F.relu(xs[0]),
    "silu": lambda layer, w, xs: F.silu(xs[0]),
    "stochastic_depth": lambda layer, w, xs: __import__("torchvision").ops.stochastic_depth(
        xs[0], layer.rate, "row", training=False),
    "gap": lambda layer, w, xs: F.adaptive_avg_pool2d(xs[0], 1),
    "maxpool": lambda layer, w, xs: F.max_pool2d(xs[0], layer.kernel, layer.stride),
    "upsample": lambda layer, w, xs: F.interpolate(xs[0], scale_factor=layer.scale,
                                                   mode="nearest"),
    "multiply": lambda layer, w, xs: xs[0] * xs[1],
    "add": lambda layer, w, xs: xs[0] + xs[1],
    "concat": lambda layer, w, xs: torch.cat(xs, dim=1),
    "crop": crop,
    "conv_transpose": lambda layer, w, xs: F.conv_transpose2d(
        xs[0], t(w["weight"]), t(w["bias"]) if "bias" in w else None, layer.stride,
        layer.padding, layer.output_padding, layer.groups, layer.dilation),
}


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_graph_matches_torch(name):
    """Node by node, with torch computing from torch's own earlier outputs."""
    model = load(name)
    x, runs = forward(model, batch=2, dtype="float64")
    by_name = {run.name: run for run in runs}
    values = {INPUT: t(x)}
    for node in model.nodes:
        layer, run = node.layer, by_name[node.path]
        y = TORCH[layer.type_name](layer, run.weights, [values[i] for i in node.inputs])
        y = ACTIVATIONS[getattr(layer, "activation", None)](y)
        assert tuple(y.shape[1:]) == run.out_shape, node.path
        np.testing.assert_allclose(run.output, y.numpy(), rtol=1e-9, atol=1e-9, err_msg=node.path)
        values[node.path] = y
    assert set(model.outputs) <= set(values)
