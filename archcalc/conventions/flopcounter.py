"""PyTorch's ``torch.utils.flop_counter.FlopCounterMode``, its total FLOPs.

torch/utils/flop_counter.py: ``conv_flop_count``: 2 × N × (C_out · C_in/groups · kh · kw)
× H_out × W_out; ``mm_flop`` / ``addmm_flop`` (linear): 2 × N × in × out, the bias add
of addmm not counted.  Only matrix products and convolutions (and attention) have a
registered formula (``flop_registry``: mm, addmm, bmm, baddbmm, the convolutions, the
attention kernels); every other op counts 0, among them every activation, layer, group and
instance norm, channel shuffle and the layer-scale product.  MACs here are its FLOPs / 2.

Training (``BACKWARD``): ``conv_backward_flop`` counts the input's gradient as a
transposed convolution (right: the forward's FLOPs) and the weights' gradient as
``conv_flop_count(t(x), t(grad_out), t(grad_weight))``, which reads C_in from the
transposed input, not C_in/groups: a grouped convolution's weight gradient is counted
``groups`` times (a depthwise one C_in times) what it performs.  archcalc reproduces the
tool, error included (docs/conventions-compared.md); its own figure is the right one.
``mm``'s backward: two products of the forward's size, each when its gradient is needed.

A transposed convolution (``conv_flop`` with ``transposed=True``) is counted over the
*input*'s spatial size with w_shape = (C_in, C_out/groups, *k): 2 × N × C_in·C_out/groups
× Πk × Πin, twice archcalc's MACs; its backward as a convolution's (the weights' gradient
``groups`` times what it performs).  Upsampling and padding have no registered formula.
"""
from __future__ import annotations

from .common import Figures, Layerish, archcalc_macs, spatial, weights


def _macs(count):
    def rule(v: Layerish) -> Figures:
        m = count(v)
        return Figures(m, 2 * m)
    return rule


RULES = {"conv": _macs(lambda v: v.n * weights(v) * spatial(v)),
         "dense": _macs(lambda v: v.n * weights(v)),
         "subsample": _macs(archcalc_macs), "rbf": _macs(archcalc_macs),
         # conv_flop with transposed=True: the input's positions × prod(w_shape)
         "conv_transpose": _macs(lambda v: v.n * v.layer.weight_count(v.x) * (v.x.numel // v.x.channels))}

_NO_FORMULA = "no registered formula: 0"
IGNORED = {kind: _NO_FORMULA for kind in (
    "relu", "relu6", "tanh", "sigmoid", "softmax", "maxpool", "avgpool", "gap",
    "adaptive_avgpool", "lrn", "batchnorm", "dropout", "flatten", "add", "multiply",
    "concat", "crop", "slice", "upsample", "silu", "hardswish", "hardsigmoid", "gelu",
    "leaky_relu", "elu", "prelu", "mish", "layernorm", "groupnorm", "instancenorm",
    "channel_shuffle", "identity", "stochastic_depth", "layer_scale", "pad")}


def _conv_backward(v: Layerish, needs) -> int:
    forward = 2 * v.n * weights(v) * spatial(v)
    groups = 1 if v.layer.connection_table is not None else v.layer.groups
    return (forward if needs.input else 0) + (forward * groups if needs.weights else 0)


def _dense_backward(v: Layerish, needs) -> int:
    forward = 2 * v.n * weights(v)
    return forward * (int(needs.input) + int(needs.weights))


def _transposed_backward(v: Layerish, needs) -> int:
    """conv_backward_flop, transposed: the input's gradient, a conv of the output's
    gradient with the weights, is the forward's FLOPs; the weights' gradient,
    conv_flop_count(t(grad_out), t(x), t(grad_weight)), reads C_out from the output's
    gradient, not C_out/groups: ``groups`` times the forward, as for a conv."""
    forward = 2 * v.n * v.layer.weight_count(v.x) * (v.x.numel // v.x.channels)
    return (forward if needs.input else 0) + (forward * v.layer.groups if needs.weights else 0)


def _own_backward(v: Layerish, needs) -> int:
    return 2 * v.n * v.layer.backward(v.x, v.y, needs).macs


#: the tool's backward FLOPs of a training step, for the types it counts; 0 for the others
BACKWARD = {"conv": _conv_backward, "dense": _dense_backward,
            "conv_transpose": _transposed_backward,
            "subsample": _own_backward, "rbf": _own_backward}


def ignored(v: Layerish) -> Figures:
    return Figures(0, 0)
