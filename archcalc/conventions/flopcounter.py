"""PyTorch's ``torch.utils.flop_counter.FlopCounterMode``, its total FLOPs.

torch/utils/flop_counter.py: ``conv_flop_count``: 2 × N × (C_out · C_in/groups · kh · kw)
× H_out × W_out; ``mm_flop`` / ``addmm_flop`` (linear): 2 × N × in × out, the bias add
of addmm not counted.  Only matrix products and convolutions (and attention) have a
registered formula (``flop_registry``: mm, addmm, bmm, baddbmm, the convolutions, the
attention kernels); every other op counts 0, among them every activation, layer, group and
instance norm, channel shuffle and the layer-scale product.  MACs here are its FLOPs / 2.
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
         "subsample": _macs(archcalc_macs), "rbf": _macs(archcalc_macs)}

_NO_FORMULA = "no registered formula: 0"
IGNORED = {kind: _NO_FORMULA for kind in (
    "relu", "relu6", "tanh", "sigmoid", "softmax", "maxpool", "avgpool", "gap",
    "adaptive_avgpool", "lrn", "batchnorm", "dropout", "flatten", "add", "multiply",
    "concat", "crop", "upsample", "silu", "hardswish", "hardsigmoid", "gelu", "leaky_relu",
    "elu", "prelu", "mish", "layernorm", "groupnorm", "instancenorm", "channel_shuffle",
    "identity", "stochastic_depth", "layer_scale")}


def ignored(v: Layerish) -> Figures:
    return Figures(0, 0)
