"""thop (Lyken17/pytorch-OpCounter), ``profile()``'s total_ops (MACs).

profile.py ``register_hooks`` maps modules to vision/basic_hooks.py counters, whose
arithmetic is in vision/calc_func.py:
``count_convNd`` → ``calculate_conv2d_flops``: N·C_out·H_out·W_out × (C_in/groups)·kh·kw,
bias not counted; ``count_linear``: in_features × N·out; ``count_normalization``
(BatchNorm, and nn.LayerNorm and nn.InstanceNorm1d/2d/3d too): 2 × N·C·H·W, doubled
when ``affine`` or ``elementwise_affine``; ``count_avgpool``: 1 per output;
``count_adap_avgpool`` (AdaptiveAvgPool2d, also the global average pool): per output,
(H_in·W_in)/(H_out·W_out) adds + 1 divide, truncated to an integer over the whole
tensor; ``count_softmax``: per softmax row of F features, F exp + (F − 1) adds + F
divides; ``count_prelu`` (PReLU, in eval mode): 1 per input element; ``zero_ops``
for ReLU, ReLU6, MaxPool, Dropout; ``count_relu`` for LeakyReLU, whose
``calculate_relu_flops`` returns 0.  Modules with no hook (Tanh, Sigmoid, SiLU,
Hardswish, Hardsigmoid, GELU, ELU, Mish, GroupNorm, LocalResponseNorm, ChannelShuffle,
Identity, torchvision's StochasticDepth, Flatten) and tensor ops (residual add,
multiply, cat, slicing, ConvNeXt's ``layer_scale * x``) count 0.  profile() looks a
module's type up exactly, so torchvision's LayerNorm2d, a subclass of nn.LayerNorm,
would count 0; a ``layernorm`` row is counted as nn.LayerNorm (ConvNeXt's blocks apply
it to the channels-last map), an assumption stated here.

ConvTranspose1d/2d/3d are registered to the same ``count_convNd``, so a transposed
convolution is counted over its *output*, N·C_out·Πout × (C_in/groups)·Πk: Πout/Πin times
the products it performs (about s^rank for stride s).  ``count_upsample`` (nn.Upsample) →
``calculate_upsample``: per output element 1 for nearest, 5 for linear, 11 for bilinear;
trilinear is not in count_upsample's list of modes (a warning, 0: calc_func's trilinear
branch is never reached).  Older revisions (count_hooks.py) returned zero_ops for nearest.
Padding: ``zero_ops`` for ZeroPad2d, no hook for the other padding modules: 0.
"""
from __future__ import annotations

from fractions import Fraction
from math import floor

from ..core.shapes import product
from .common import Figures, Layerish, archcalc_macs, spatial, weights


def _macs(count):
    def rule(v: Layerish) -> Figures:
        m = count(v)
        return Figures(m, 2 * m)
    return rule


def _adaptive(v: Layerish) -> int:
    return floor((Fraction(product(v.x.spatial), product(v.y.spatial)) + 1) * v.n * v.y.numel)


def _softmax(v: Layerish) -> int:
    f = v.x.channels
    return v.n * (v.x.numel // f) * (3 * f - 1)


RULES = {"conv": _macs(lambda v: v.n * weights(v) * spatial(v)),
         "dense": _macs(lambda v: v.n * weights(v)),
         "batchnorm": _macs(lambda v: 4 * v.n * v.x.numel),
         "avgpool": _macs(lambda v: v.n * v.y.numel),
         "gap": _macs(_adaptive), "adaptive_avgpool": _macs(_adaptive),
         "softmax": _macs(_softmax),
         "layernorm": _macs(lambda v: (4 if v.layer.affine else 2) * v.n * v.x.numel),
         "instancenorm": _macs(lambda v: (4 if v.layer.affine else 2) * v.n * v.x.numel),
         "prelu": _macs(lambda v: v.n * v.x.numel),
         "subsample": _macs(archcalc_macs), "rbf": _macs(archcalc_macs),
         "conv_transpose": _macs(lambda v: v.n * v.y.numel * (v.x.channels // v.layer.groups)
                                 * v.layer.taps(v.x)),
         "upsample": _macs(lambda v: v.n * v.y.numel * _UPSAMPLE.get(v.layer.mode, 0))}

#: calculate_upsample's operations per output element, by mode (trilinear: 0, see above)
_UPSAMPLE = {"nearest": 1, "linear": 5, "bilinear": 11}

_ZERO = "zero_ops hook"
_NO_HOOK = "no hook registered: 0"
IGNORED = {"relu": _ZERO, "relu6": _ZERO, "maxpool": _ZERO, "dropout": _ZERO,
           "tanh": _NO_HOOK, "sigmoid": _NO_HOOK, "lrn": _NO_HOOK, "flatten": _NO_HOOK,
           "add": "a tensor operation: 0", "multiply": "a tensor operation: 0",
           "concat": "a tensor operation: 0", "crop": "a tensor operation: 0",
           "slice": "a tensor operation: 0",
           "leaky_relu": "count_relu: calculate_relu_flops returns 0",
           "silu": _NO_HOOK, "hardswish": _NO_HOOK, "hardsigmoid": _NO_HOOK, "gelu": _NO_HOOK,
           "elu": _NO_HOOK, "mish": _NO_HOOK, "groupnorm": _NO_HOOK,
           "channel_shuffle": _NO_HOOK, "identity": _NO_HOOK, "stochastic_depth": _NO_HOOK,
           "layer_scale": "a parameter product in the enclosing block's forward: a tensor operation, 0",
           "pad": "zero_ops (ZeroPad2d) or no hook (the other padding modules): 0"}


def ignored(v: Layerish) -> Figures:
    return Figures(0, 0)
