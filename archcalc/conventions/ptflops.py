"""ptflops (sovrasov/flops-counter.pytorch), ``get_model_complexity_info`` with the
module-hook backend ('pytorch'), its MACs.

pytorch_ops.py ``MODULES_MAPPING``: ``conv_flops_counter_hook``: N·H_out·W_out ×
kh·kw·C_in·C_out/groups, + C_out·N·H_out·W_out for the bias; ``relu_flops_counter_hook``
(ReLU, ReLU6, LeakyReLU, ELU, PReLU, GELU; also a folded one): 1 per output; ``pool_flops_counter_hook`` (MaxPool,
AvgPool, adaptive pools): 1 per **input** element; ``bn_flops_counter_hook`` (BatchNorm, and
InstanceNorm1d/2d/3d, GroupNorm, LayerNorm): 1 per input element, 2 when the module has
an attribute ``affine`` that is true (nn.LayerNorm has ``elementwise_affine`` instead, so
it counts 1 either way); ``linear_flops_counter_hook``: N·in·out + out for the
bias (the bias term is not multiplied by the batch); ``upsample_flops_counter_hook``:
the elements of ``output[0]``, i.e. of one sample (not multiplied by the batch either).  Unmapped modules (Tanh,
Sigmoid, Softmax, SiLU, Hardswish, Hardsigmoid, Mish, LocalResponseNorm, Dropout, Flatten,
ChannelShuffle, Identity, torchvision's StochasticDepth) and tensor operators count 0:
``TENSOR_OPS_MAPPING`` patches the calls ``torch.add`` and ``torch.mul``, not the ``+``
and ``*`` operators that torchvision's residual adds, squeeze-and-excitation and
ConvNeXt's ``layer_scale * x`` use.  Modules are looked up by exact type
(``is_supported_instance``), so torchvision's LayerNorm2d subclass would count 0; a
``layernorm`` row is counted as nn.LayerNorm (ConvNeXt's blocks apply it to the
channels-last map), an assumption stated here.  The module hooks are followed; the
functional patches of ``FUNCTIONAL_MAPPING`` (F.relu, F.silu, F.gelu, ...: numel each)
are not, as they would count a ReLU module twice and the figures ptflops printed
(tests/test_conventions.py) count it once.

ConvTranspose1d/2d/3d map to ``conv_flops_counter_hook`` too, which counts over the
*output* positions, N·Πout × Πk·C_in·C_out/groups + the bias: Πout/Πin times the products
performed (since v0.6.4, issue #57; earlier releases' ``deconv_flops_counter_hook`` used the
input's H·W; issue #149 reports the output count).  ``upsample_flops_counter_hook`` is the
same for every mode (the patched ``F.interpolate``, which nn.Upsample calls, is not
followed, as above).  Padding modules are not mapped and ``F.pad`` is not patched: 0.
"""
from __future__ import annotations

from .common import Figures, Layerish, archcalc_macs, spatial, weights


#: the activations MODULES_MAPPING counts with relu_flops_counter_hook
_RELU_HOOK = ("relu", "relu6", "leaky_relu", "elu", "prelu", "gelu")


def _folded(v: Layerish) -> int:
    """A folded ReLU (ReLU6, LeakyReLU, ELU, GELU) is its own module: 1 per output."""
    return v.n * v.y.numel if v.act in _RELU_HOOK else 0


def _macs(count):
    def rule(v: Layerish) -> Figures:
        m = count(v) + _folded(v)
        return Figures(m, 2 * m)
    return rule


def _conv(v: Layerish) -> int:
    return v.n * weights(v) * spatial(v) + (v.n * v.y.numel if v.layer.bias else 0)


def _transposed(v: Layerish) -> int:
    positions = v.y.numel // v.y.channels
    per_position = v.layer.taps(v.x) * v.x.channels * (v.layer.filters // v.layer.groups)
    return v.n * positions * per_position + (v.n * v.y.numel if v.layer.bias else 0)


def _dense(v: Layerish) -> int:
    return v.n * weights(v) + (v.layer.units if v.layer.bias else 0)


RULES = {"conv": _macs(_conv), "dense": _macs(_dense), "conv_transpose": _macs(_transposed),
         "relu": _macs(lambda v: v.n * v.y.numel), "relu6": _macs(lambda v: v.n * v.y.numel),
         "maxpool": _macs(lambda v: v.n * v.x.numel), "avgpool": _macs(lambda v: v.n * v.x.numel),
         "gap": _macs(lambda v: v.n * v.x.numel),
         "adaptive_avgpool": _macs(lambda v: v.n * v.x.numel),
         "batchnorm": _macs(lambda v: 2 * v.n * v.x.numel),
         "subsample": _macs(archcalc_macs), "rbf": _macs(archcalc_macs),
         "add": _macs(lambda v: 0),
         **{kind: _macs(lambda v: v.n * v.y.numel) for kind in _RELU_HOOK[2:]},
         "layernorm": _macs(lambda v: v.n * v.x.numel),
         "groupnorm": _macs(lambda v: (2 if v.layer.affine else 1) * v.n * v.x.numel),
         "instancenorm": _macs(lambda v: (2 if v.layer.affine else 1) * v.n * v.x.numel),
         # upsample_flops_counter_hook counts the elements of output[0], one sample's
         "upsample": _macs(lambda v: v.y.numel)}  # the + operator: 0, but a folded ReLU module counts

_UNMAPPED = "not in MODULES_MAPPING: 0"
IGNORED = {"tanh": _UNMAPPED, "sigmoid": _UNMAPPED, "softmax": _UNMAPPED, "lrn": _UNMAPPED,
           "dropout": _UNMAPPED, "flatten": _UNMAPPED,
           "multiply": "the * operator is not patched: 0", "concat": "torch.cat: 0",
           "crop": "slicing: 0", "slice": "slicing (or chunk): 0", "silu": _UNMAPPED, "hardswish": _UNMAPPED,
           "hardsigmoid": _UNMAPPED, "mish": _UNMAPPED, "channel_shuffle": _UNMAPPED,
           "identity": _UNMAPPED, "stochastic_depth": _UNMAPPED,
           "layer_scale": "the * operator is not patched: 0",
           "pad": "padding modules are not in MODULES_MAPPING and F.pad is not patched: 0"}


def ignored(v: Layerish) -> Figures:
    return Figures(0, 0)
