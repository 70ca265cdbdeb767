"""fvcore (facebookresearch/fvcore), ``FlopCountAnalysis(...).total()``.

flop_count.py ``_DEFAULT_SUPPORTED_OPS`` and jit_handles.py: one FLOP per fused
multiply-add.  ``conv_flop_jit``: N × (C_out · C_in/groups · kh · kw) × H_out × W_out,
bias ignored; ``linear_flop_jit`` / ``addmm_flop_jit``: N × in × out, bias ignored;
``batchnorm_flop_jit`` at inference: N × C·H·W × 2 with affine γ, β;
``elementwise_flop_counter(1, 0)`` for adaptive_avg_pool2d (gap and adaptive pools):
N × input elements (2-D only: adaptive_avg_pool1d and 3d have no handler, so 0); ``elementwise_flop_counter(0, 1)`` for upsample_nearest2d: N × output
elements; ``norm_flop_counter(2)`` for aten::layer_norm (nn.LayerNorm, and ConvNeXt's
LayerNorm2d, which calls F.layer_norm on the permuted map) and aten::group_norm, and
``norm_flop_counter(1)`` for aten::instance_norm: N × C·H·W × 5 when the op has an affine
weight, × 4 without ("5 is just a rough estimate").  Every other op (relu, max_pool2d,
avg_pool2d, softmax, add, mul, cat, slicing, dropout, flatten, LRN's pieces; silu,
hardswish, hardsigmoid, gelu, leaky_relu, elu, prelu, mish, channel_shuffle, the
``layer_scale * x`` product) is unsupported or ignored: 0; nn.Identity and torchvision's
stochastic_depth at inference return their input and trace no op.  fvcore calls the count
"flops" and it is one per MAC, so both columns carry it.
Activations: activation_count.py counts the outputs of conv and linear (addmm) ops.

Transposed convolutions trace as the same aten::_convolution: ``conv_flop_count(...,
transposed=True)`` is N × prod(w_shape) × the *input*'s spatial size, w_shape = (C_in,
C_out/groups, *k): archcalc's MACs; activation_count.py counts their outputs as a conv's.
Upsampling: upsample_nearest2d 1 per output as above, ``elementwise_flop_counter(0, 4)``
for aten::upsample_bilinear2d (4 per output); the 1-D and 3-D ops (upsample_nearest1d/3d,
upsample_linear1d, upsample_trilinear3d) have no handler: 0.  F.pad traces as aten::pad in
current PyTorch (older releases traced constant padding as aten::constant_pad_nd, in
``_IGNORED_OPS``), which has no handler: 0.
"""
from __future__ import annotations

from .common import Figures, Layerish, archcalc_macs, spatial, weights


def _linear(per_position: bool):
    def rule(v: Layerish) -> Figures:
        macs = v.n * weights(v) * (spatial(v) if per_position else 1)
        return Figures(macs, macs, activations=v.n * v.y.numel)
    return rule


def _norm(v: Layerish) -> int:
    """norm_flop_counter: 5 per input element with an affine weight, 4 without."""
    return (5 if v.layer.affine else 4) * v.n * v.x.numel


def _transposed(v: Layerish) -> Figures:
    """conv_flop_count with transposed=True: N × prod(w_shape) × prod(x_shape[2:])."""
    macs = v.n * v.layer.weight_count(v.x) * (v.x.numel // v.x.channels)
    return Figures(macs, macs, activations=v.n * v.y.numel)


#: per output element, (mode, spatial rank) → the handler's output_scale; others 0
_UPSAMPLE = {("nearest", 2): 1, ("bilinear", 2): 4}


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
         "conv_transpose": _transposed,
         "upsample": _counted(lambda v: _UPSAMPLE.get((v.layer.mode, len(v.x.spatial)), 0)
                              * v.n * v.y.numel),
         "layernorm": _counted(_norm), "groupnorm": _counted(_norm),
         "instancenorm": _counted(_norm)}

_UNSUPPORTED = "no handler in _DEFAULT_SUPPORTED_OPS: skipped with a warning"
_IGNORED = "listed in _IGNORED_OPS"
IGNORED = {"relu": _IGNORED, "relu6": _UNSUPPORTED, "tanh": _UNSUPPORTED,
           "sigmoid": _UNSUPPORTED, "softmax": _UNSUPPORTED, "maxpool": _UNSUPPORTED,
           "avgpool": _UNSUPPORTED, "lrn": _UNSUPPORTED, "dropout": _IGNORED,
           "flatten": _IGNORED, "add": _UNSUPPORTED, "multiply": _UNSUPPORTED,
           "concat": _IGNORED, "crop": "aten::slice, " + _IGNORED,
           "slice": "aten::slice (x[:, a:b]) and aten::chunk (ShuffleNet's split), " + _IGNORED,
           "silu": _UNSUPPORTED, "hardswish": _UNSUPPORTED, "hardsigmoid": _UNSUPPORTED,
           "gelu": _UNSUPPORTED, "leaky_relu": _UNSUPPORTED, "elu": _UNSUPPORTED,
           "prelu": _UNSUPPORTED, "mish": _UNSUPPORTED,
           "channel_shuffle": "aten::channel_shuffle, " + _UNSUPPORTED,
           "layer_scale": "aten::mul, " + _UNSUPPORTED,
           "identity": "nn.Identity returns its input: no op traced",
           "stochastic_depth": "torchvision's stochastic_depth returns its input at inference: no op traced",
           "pad": "aten::pad, " + _UNSUPPORTED}


def ignored(v: Layerish) -> Figures:
    return Figures(0, 0, activations=0)
