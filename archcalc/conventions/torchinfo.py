"""torchinfo (TylerYep/torchinfo), ``summary()``'s "Total mult-adds" and sizes.

layer_info.py ``LayerInfo.calculate_macs``: for every parameter named weight or bias,
a module whose class name contains "Conv" adds param.numel × N × H_out × W_out, any
other module adds N × param.numel (so bias counts, and BatchNorm adds N × 2C).
Modules without parameters (ReLU and every other parameter-free activation, pooling,
dropout, softmax, ChannelShuffle, Identity, StochasticDepth, an InstanceNorm without
affine) add 0; PReLU adds N × its 1 or C slopes, LayerNorm (LayerNorm2d too: its class
name has no "Conv"), GroupNorm and an affine InstanceNorm N × 2C.
model_statistics.py ``ModelStatistics``: "Forward/backward pass size" sums, over leaf
modules that have parameters, 2 × their output bytes ("x2 for gradients"); that is
the activations figure here.  Mult-adds and pass size are summed over leaf modules only,
so ConvNeXt's ``layer_scale``, a parameter of the (non-leaf) CNBlock, adds neither; its C
numbers are in the total params (``leftover_params``).  "Params size" = params × element
size; "Estimated Total Size" = input + forward/backward + params (all in MB of 10^6
bytes).

ConvTranspose1d/2d/3d contain "Conv": (weights + bias) × N × the *output*'s positions,
though each weight meets only the input's positions: Πout/Πin times archcalc's MACs
(about s^rank for stride s), with the bias.  Upsampling and padding modules have no
parameters.
"""
from __future__ import annotations

from .common import Figures, Layerish, spatial


def _with_params(per_position: bool):
    """A leaf module: N × params (× positions for Conv); its pass size when it has any."""
    def rule(v: Layerish) -> Figures:
        p = v.layer.params(v.x)
        macs = v.n * p * (spatial(v) if per_position else 1)
        return Figures(macs, 2 * macs, activations=2 * v.n * v.y.numel if p else 0)
    return rule


RULES = {"conv": _with_params(True), "dense": _with_params(False),
         "batchnorm": _with_params(False), "subsample": _with_params(False),
         "rbf": _with_params(False), "prelu": _with_params(False),
         "layernorm": _with_params(False), "groupnorm": _with_params(False),
         "instancenorm": _with_params(False), "conv_transpose": _with_params(True)}

_NO_PARAMS = "a module without parameters adds no mult-adds and no pass size"
_TENSOR_OP = "a tensor operation, not a module: torchinfo does not see it"
IGNORED = {"relu": _NO_PARAMS, "relu6": _NO_PARAMS, "tanh": _NO_PARAMS, "sigmoid": _NO_PARAMS,
           "softmax": _NO_PARAMS, "maxpool": _NO_PARAMS, "avgpool": _NO_PARAMS,
           "gap": _NO_PARAMS, "adaptive_avgpool": _NO_PARAMS, "lrn": _NO_PARAMS,
           "dropout": _NO_PARAMS, "flatten": _NO_PARAMS, "add": _TENSOR_OP,
           "multiply": _TENSOR_OP, "concat": _TENSOR_OP, "crop": _TENSOR_OP,
           "slice": _TENSOR_OP,
           "upsample": _NO_PARAMS, "pad": _NO_PARAMS, "silu": _NO_PARAMS, "hardswish": _NO_PARAMS,
           "hardsigmoid": _NO_PARAMS, "gelu": _NO_PARAMS, "leaky_relu": _NO_PARAMS,
           "elu": _NO_PARAMS, "mish": _NO_PARAMS, "channel_shuffle": _NO_PARAMS,
           "identity": _NO_PARAMS, "stochastic_depth": _NO_PARAMS,
           "layer_scale": "a parameter of the enclosing (non-leaf) block, not a module: in the "
                          "params, no mult-adds and no pass size"}


def ignored(v: Layerish) -> Figures:
    return Figures(0, 0, activations=0)
