"""ptflops (sovrasov/flops-counter.pytorch), ``get_model_complexity_info`` with the
module-hook backend ('pytorch'), its MACs.

pytorch_ops.py ``MODULES_MAPPING``: ``conv_flops_counter_hook``: N·H_out·W_out ×
kh·kw·C_in·C_out/groups, + C_out·N·H_out·W_out for the bias; ``relu_flops_counter_hook``
(ReLU, ReLU6, also a folded one): 1 per output; ``pool_flops_counter_hook`` (MaxPool,
AvgPool, adaptive pools): 1 per **input** element; ``bn_flops_counter_hook``: 1 per
input element, 2 when affine; ``linear_flops_counter_hook``: N·in·out + out for the
bias (the bias term is not multiplied by the batch); ``upsample_flops_counter_hook``:
the elements of ``output[0]``, i.e. of one sample (not multiplied by the batch either).  Unmapped modules (Tanh,
Sigmoid, Softmax, LocalResponseNorm, Dropout, Flatten) and tensor operators count 0:
``TENSOR_OPS_MAPPING`` patches the calls ``torch.add`` and ``torch.mul``, not the ``+``
and ``*`` operators that torchvision's residual adds and squeeze-and-excitation use.
"""
from __future__ import annotations

from .common import Figures, Layerish, archcalc_macs, spatial, weights


def _folded(v: Layerish) -> int:
    """A folded ReLU (or ReLU6) is its own module: 1 per output."""
    return v.n * v.y.numel if v.act in ("relu", "relu6") else 0


def _macs(count):
    def rule(v: Layerish) -> Figures:
        m = count(v) + _folded(v)
        return Figures(m, 2 * m)
    return rule


def _conv(v: Layerish) -> int:
    return v.n * weights(v) * spatial(v) + (v.n * v.y.numel if v.layer.bias else 0)


def _dense(v: Layerish) -> int:
    return v.n * weights(v) + (v.layer.units if v.layer.bias else 0)


RULES = {"conv": _macs(_conv), "dense": _macs(_dense),
         "relu": _macs(lambda v: v.n * v.y.numel), "relu6": _macs(lambda v: v.n * v.y.numel),
         "maxpool": _macs(lambda v: v.n * v.x.numel), "avgpool": _macs(lambda v: v.n * v.x.numel),
         "gap": _macs(lambda v: v.n * v.x.numel),
         "adaptive_avgpool": _macs(lambda v: v.n * v.x.numel),
         "batchnorm": _macs(lambda v: 2 * v.n * v.x.numel),
         "subsample": _macs(archcalc_macs), "rbf": _macs(archcalc_macs),
         "add": _macs(lambda v: 0),
         # upsample_flops_counter_hook counts the elements of output[0], one sample's
         "upsample": _macs(lambda v: v.y.numel)}  # the + operator: 0, but a folded ReLU module counts

_UNMAPPED = "not in MODULES_MAPPING: 0"
IGNORED = {"tanh": _UNMAPPED, "sigmoid": _UNMAPPED, "softmax": _UNMAPPED, "lrn": _UNMAPPED,
           "dropout": _UNMAPPED, "flatten": _UNMAPPED,
           "multiply": "the * operator is not patched: 0", "concat": "torch.cat: 0",
           "crop": "slicing: 0"}


def ignored(v: Layerish) -> Figures:
    return Figures(0, 0)
