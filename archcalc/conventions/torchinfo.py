"""torchinfo (TylerYep/torchinfo), ``summary()``'s "Total mult-adds" and sizes.

layer_info.py ``LayerInfo.calculate_macs``: for every parameter named weight or bias,
a module whose class name contains "Conv" adds param.numel × N × H_out × W_out, any
other module adds N × param.numel (so bias counts, and BatchNorm adds N × 2C).
Modules without parameters (ReLU, pooling, dropout, softmax) add 0.
model_statistics.py ``ModelStatistics``: "Forward/backward pass size" sums, over leaf
modules that have parameters, 2 × their output bytes ("x2 for gradients"); that is
the activations figure here.  "Params size" = params × element size; "Estimated
Total Size" = input + forward/backward + params (all in MB of 10^6 bytes).
"""
from __future__ import annotations

from .common import Figures, Layerish, spatial


def _with_params(per_position: bool):
    def rule(v: Layerish) -> Figures:
        p = v.layer.params(v.x)
        macs = v.n * p * (spatial(v) if per_position else 1)
        return Figures(macs, 2 * macs, activations=2 * v.n * v.y.numel)
    return rule


RULES = {"conv": _with_params(True), "dense": _with_params(False),
         "batchnorm": _with_params(False), "subsample": _with_params(False),
         "rbf": _with_params(False)}

_NO_PARAMS = "a module without parameters adds no mult-adds and no pass size"
_TENSOR_OP = "a tensor operation, not a module: torchinfo does not see it"
IGNORED = {"relu": _NO_PARAMS, "relu6": _NO_PARAMS, "tanh": _NO_PARAMS, "sigmoid": _NO_PARAMS,
           "softmax": _NO_PARAMS, "maxpool": _NO_PARAMS, "avgpool": _NO_PARAMS,
           "gap": _NO_PARAMS, "adaptive_avgpool": _NO_PARAMS, "lrn": _NO_PARAMS,
           "dropout": _NO_PARAMS, "flatten": _NO_PARAMS, "add": _TENSOR_OP,
           "multiply": _TENSOR_OP, "concat": _TENSOR_OP, "crop": _TENSOR_OP,
           "upsample": _NO_PARAMS}


def ignored(v: Layerish) -> Figures:
    return Figures(0, 0, activations=0)
