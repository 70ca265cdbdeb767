"""fvcore (facebookresearch/fvcore), ``FlopCountAnalysis(...).total()``.

flop_count.py ``_DEFAULT_SUPPORTED_OPS`` and jit_handles.py: one FLOP per fused
multiply-add.  ``conv_flop_jit``: N × (C_out · C_in/groups · kh · kw) × H_out × W_out,
bias ignored; ``linear_flop_jit`` / ``addmm_flop_jit``: N × in × out, bias ignored;
``batchnorm_flop_jit`` at inference: N × C·H·W × 2 with affine γ, β;
``elementwise_flop_counter(1, 0)`` for adaptive_avg_pool2d (gap and adaptive pools):
N × input elements (2-D only: adaptive_avg_pool1d and 3d have no handler, so 0); ``elementwise_flop_counter(0, 1)`` for upsample_nearest2d: N × output
elements.  Every other op (relu, max_pool2d, avg_pool2d, softmax, add, mul,
cat, slicing, dropout, flatten, LRN's pieces) is unsupported or ignored: 0.  fvcore calls
the count "flops" and it is one per MAC, so both columns carry it.
Activations: activation_count.py counts the outputs of conv and linear (addmm) ops.
"""
from __future__ import annotations

from .common import Figures, Layerish, archcalc_macs, spatial, weights


def _linear(per_position: bool):
    def rule(v: Layerish) -> Figures:
        macs = v.n * weights(v) * (spatial(v) if per_position else 1)
        return Figures(macs, macs, activations=v.n * v.y.numel)
    return rule


def _counted(count):
    def rule(v: Layerish) -> Figures:
        m = count(v)
        return Figures(m, m, activations=0)
    return rule


def _pool2d(v: Layerish) -> int:
    """aten::adaptive_avg_pool2d's handler: one per input element; 1-D and 3-D: none."""
    return v.n * v.x.numel if len(v.x.spatial) == 2 else 0


RULES = {"conv": _linear(True), "dense": _linear(False),
         "batchnorm": _counted(lambda v: 2 * v.n * v.x.numel),
         "gap": _counted(lambda v: _pool2d(v)),
         "adaptive_avgpool": _counted(lambda v: _pool2d(v)),
         "subsample": _counted(archcalc_macs), "rbf": _counted(archcalc_macs),
         # elementwise_flop_counter(0, 1) for aten::upsample_nearest2d: 1 per output
         "upsample": _counted(lambda v: v.n * v.y.numel)}

_UNSUPPORTED = "no handler in _DEFAULT_SUPPORTED_OPS: skipped with a warning"
_IGNORED = "listed in _IGNORED_OPS"
IGNORED = {"relu": _IGNORED, "relu6": _UNSUPPORTED, "tanh": _UNSUPPORTED,
           "sigmoid": _UNSUPPORTED, "softmax": _UNSUPPORTED, "maxpool": _UNSUPPORTED,
           "avgpool": _UNSUPPORTED, "lrn": _UNSUPPORTED, "dropout": _IGNORED,
           "flatten": _IGNORED, "add": _UNSUPPORTED, "multiply": _UNSUPPORTED,
           "concat": _IGNORED, "crop": "aten::slice, " + _IGNORED}


def ignored(v: Layerish) -> Figures:
    return Figures(0, 0, activations=0)
