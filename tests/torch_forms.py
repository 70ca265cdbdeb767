"""Every layer type in PyTorch, written from torch's documentation, in the two modes:
``FORMS[type](layer, weights, inputs, cache)`` → the output tensor in training mode, from
torch tensors of the weights (by archcalc's names) and inputs.  ``cache`` is archcalc's
training forward's (dropout masks and stochastic-depth noise come from it: torch draws
other numbers).  ``INFERENCE_FORMS`` is the same table in inference mode (``model.eval()``):
batch norm with its running statistics, dropout and stochastic depth the identity, every
other type as in training; it takes no cache (None).

Imported only by the optional torch tests and benchmarks/forward.py."""
from __future__ import annotations

import torch

from archcalc.core.shapes import Shape, per_axis

F = torch.nn.functional

#: the folded form of each activation (its defaults), and the standalone layers' own
ACTIVATIONS = {
    None: lambda x: x, "relu": F.relu, "relu6": F.relu6, "tanh": torch.tanh,
    "sigmoid": torch.sigmoid, "softmax": lambda x: F.softmax(x, dim=1), "silu": F.silu,
    "hardswish": F.hardswish, "hardsigmoid": F.hardsigmoid, "gelu": F.gelu,
    "leaky_relu": F.leaky_relu, "elu": F.elu, "mish": F.mish,
}


def _pads(geometry) -> tuple:
    """F.pad's argument (last axis first) for per-axis ((before, after), …) pads."""
    return tuple(p for before_after in reversed(geometry.padding) for p in before_after)


def _padded(x, geometry) -> tuple:
    """(input, padding) for a convolution: symmetric pads go to torch's ``padding`` (as in
    nn.Conv2d(padding=p)), asymmetric ones (TensorFlow's 'same') through F.pad first."""
    if all(before == after for before, after in geometry.padding):
        return x, tuple(before for before, _ in geometry.padding)
    return F.pad(x, _pads(geometry)), 0


def _shape(x) -> Shape:
    return Shape.of(*x.shape[1:])


def conv(layer, w, xs, cache):
    x = xs[0]
    g = layer.geometry(_shape(x))
    rank = len(g.kernel)
    weight = w["weight"]
    if "mask" in w:
        weight = weight * w["mask"].reshape(w["mask"].shape + (1,) * rank)
    f = (F.conv1d, F.conv2d, F.conv3d)[rank - 1]
    x, padding = _padded(x, g)
    y = f(x, weight, w.get("bias"), g.stride, padding, g.dilation, layer.groups)
    return ACTIVATIONS[layer.activation](y)


def maxpool(layer, w, xs, cache, indices=False):
    x = xs[0]
    g = layer.geometry(_shape(x))
    f = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[len(g.kernel) - 1]
    return f(x, g.kernel, g.stride, tuple(b for b, _ in g.padding), g.dilation,
             layer.ceil_mode, return_indices=indices)


def avgpool(layer, w, xs, cache):
    x = xs[0]
    g = layer.geometry(_shape(x))
    f = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[len(g.kernel) - 1]
    return f(x, g.kernel, g.stride, tuple(b for b, _ in g.padding), layer.ceil_mode,
             layer.count_include_pad)


def subsample(layer, w, xs, cache):
    """a[c] · Σ_window x + b[c]: a depthwise convolution whose taps all share a[c]."""
    x = xs[0]
    g = layer.geometry(_shape(x))
    rank = len(g.kernel)
    c = x.shape[1]
    kernel = w["weight"].reshape((c, 1) + (1,) * rank).expand((c, 1) + tuple(g.kernel))
    f = (F.conv1d, F.conv2d, F.conv3d)[rank - 1]
    x, padding = _padded(x, g)
    y = f(x, kernel, w["bias"], g.stride, padding, 1, c)
    return ACTIVATIONS[layer.activation](y)


def _channels_last(f):
    def run(x):
        return f(x.movedim(1, -1)).movedim(-1, 1)
    return run


def layernorm(layer, w, xs, cache):
    c = xs[0].shape[1]
    return _channels_last(lambda t: F.layer_norm(t, (c,), w.get("gamma"), w.get("beta"), layer.eps))(xs[0])


def _gate(x, like):
    """A vector of C features multiplies a map as C×1×1 does."""
    return x.reshape(x.shape + (1,) * (like.ndim - x.ndim))


def multiply(layer, w, xs, cache):
    rank = max(x.ndim for x in xs)
    widest = next(x for x in xs if x.ndim == rank)
    y = _gate(xs[0], widest) * _gate(xs[1], widest)
    for x in xs[2:]:
        y = y * _gate(x, widest)
    return y


def crop(layer, w, xs, cache):
    x, like = xs
    offsets = layer.offsets((_shape(x), _shape(like)))
    return x[(slice(None), slice(None)) + tuple(slice(o, o + n) for o, n in zip(offsets, like.shape[2:]))]


def channel_shuffle(layer, w, xs, cache):
    x = xs[0]
    n, c = x.shape[:2]
    g = layer.groups
    return x.reshape((n, g, c // g) + x.shape[2:]).transpose(1, 2).reshape(x.shape)


def conv_transpose(layer, w, xs, cache):
    x = xs[0]
    _, stride, dilation, pads, extra = layer.resolved(_shape(x))
    f = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[x.ndim - 3]
    y = f(x, w["weight"], w.get("bias"), stride, pads, extra, layer.groups, dilation)
    return ACTIVATIONS[layer.activation](y)


def pad(layer, w, xs, cache):
    x = xs[0]
    pads = tuple(p for before_after in reversed(layer.pads(_shape(x))) for p in before_after)
    if layer.mode == "constant":
        return F.pad(x, pads, mode="constant", value=layer.fill)
    return F.pad(x, pads, mode=layer.mode)


def upsample(layer, w, xs, cache):
    x = xs[0]
    size = tuple(m for _, m in layer.resized(_shape(x)))
    if layer.mode == "nearest":
        return F.interpolate(x, size=size, mode="nearest")
    return F.interpolate(x, size=size, mode=layer.mode, align_corners=layer.aligned)


def _per_channel(v, x):
    return v.reshape((1, -1) + (1,) * (x.ndim - 2))


FORMS = {
    "conv": conv, "maxpool": maxpool, "avgpool": avgpool, "subsample": subsample,
    "gap": lambda layer, w, xs, cache: xs[0].mean(dim=tuple(range(2, xs[0].ndim)), keepdim=True),
    "adaptive_avgpool": lambda layer, w, xs, cache: (
        F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d)[xs[0].ndim - 3](
        xs[0], per_axis(layer.output, xs[0].ndim - 2, "output")),
    "lrn": lambda layer, w, xs, cache: F.local_response_norm(xs[0], layer.size, layer.alpha,
                                                             layer.beta, layer.k),
    "batchnorm": lambda layer, w, xs, cache: F.batch_norm(
        xs[0], w["running_mean"].detach().clone(), w["running_var"].detach().clone(), w["gamma"],
        w["beta"], training=True, eps=layer.eps),
    "layernorm": layernorm,
    "groupnorm": lambda layer, w, xs, cache: F.group_norm(xs[0], layer.groups, w.get("gamma"),
                                                          w.get("beta"), layer.eps),
    "instancenorm": lambda layer, w, xs, cache: F.instance_norm(
        xs[0], weight=w.get("gamma"), bias=w.get("beta"), use_input_stats=True, eps=layer.eps),
    "dense": lambda layer, w, xs, cache: ACTIVATIONS[layer.activation](
        F.linear(xs[0].flatten(1), w["weight"], w.get("bias"))),
    "rbf": lambda layer, w, xs, cache: ((xs[0].flatten(1)[:, None, :] - w["weight"][None]) ** 2).sum(-1),
    "relu": lambda layer, w, xs, cache: F.relu(xs[0]),
    "relu6": lambda layer, w, xs, cache: F.relu6(xs[0]),
    "tanh": lambda layer, w, xs, cache: torch.tanh(xs[0]),
    "sigmoid": lambda layer, w, xs, cache: torch.sigmoid(xs[0]),
    "softmax": lambda layer, w, xs, cache: F.softmax(xs[0], dim=1),
    "silu": lambda layer, w, xs, cache: F.silu(xs[0]),
    "hardswish": lambda layer, w, xs, cache: F.hardswish(xs[0]),
    "hardsigmoid": lambda layer, w, xs, cache: F.hardsigmoid(xs[0]),
    "gelu": lambda layer, w, xs, cache: F.gelu(xs[0], approximate=layer.approximate),
    "leaky_relu": lambda layer, w, xs, cache: F.leaky_relu(xs[0], layer.slope),
    "elu": lambda layer, w, xs, cache: F.elu(xs[0], layer.alpha),
    "mish": lambda layer, w, xs, cache: F.mish(xs[0]),
    "prelu": lambda layer, w, xs, cache: F.prelu(xs[0], w["weight"]),
    "dropout": lambda layer, w, xs, cache: xs[0] * torch.from_numpy(cache["mask"]) / (1 - layer.rate),
    "stochastic_depth": lambda layer, w, xs, cache: xs[0] * torch.from_numpy(cache["noise"]),
    "identity": lambda layer, w, xs, cache: xs[0],
    "flatten": lambda layer, w, xs, cache: xs[0].flatten(1),
    "channel_shuffle": channel_shuffle,
    "slice": lambda layer, w, xs, cache: xs[0][:, layer.start:layer.stop],
    "layer_scale": lambda layer, w, xs, cache: xs[0] * _per_channel(w["gamma"], xs[0]),
    "upsample": upsample, "pad": pad, "conv_transpose": conv_transpose,
    "add": lambda layer, w, xs, cache: ACTIVATIONS[layer.activation](sum(xs[1:], xs[0])),
    "multiply": multiply,
    "concat": lambda layer, w, xs, cache: torch.cat(xs, dim=1 + {"channels": 0, "height": 1,
                                                                  "width": 2}[layer.axis]),
    "crop": crop,
}


#: FORMS in inference mode (``model.eval()``: archcalc's ``forward``, not its
#: ``train_forward``); only the types that read batch statistics or draw random numbers differ
INFERENCE_FORMS = {
    **FORMS,
    "batchnorm": lambda layer, w, xs, cache: F.batch_norm(
        xs[0], w["running_mean"], w["running_var"], w["gamma"], w["beta"], training=False,
        eps=layer.eps),
    "dropout": FORMS["identity"],
    "stochastic_depth": FORMS["identity"],
}
