"""Netscope CNN Analyzer (dgschwend/netscope), src/analyzer.coffee ``Analyzer.analyze``
(revision 1f687cb), per Caffe layer type, for the batch:

Convolution: macc = kh·kw·H_out·W_out·C_in·C_out (``group`` is ignored, bias is not
counted), param = kh·kw·C_in·C_out (no bias); InnerProduct: macc = in·out, param =
in·out; Pooling MAX: comp = kh·kw per output (global: 1 per input), AVE: add likewise;
BatchNorm: add and div, 1 each per element, param 2C; LRN: macc = local_size per
element, add 1, exp 1, div 2, param 2 (α, β); ReLU (also with ``negative_slope``, Caffe's leaky ReLU) and Dropout: comp 1 per element;
Scale (a per-channel multiplier, ConvNeXt's layer scale): macc 1 per element, no param
counted;
Softmax: exp, add and div, 1 each per element; Eltwise SUM (residual add): add 1 per
element, PROD (multiply): macc 1 per element; Concat, Flatten, Crop: nothing.  Every
layer's activation memory is its output (Caffe's in-place ReLU and Dropout included),
so a folded activation adds its own; Netscope's data layer also counts the input, which
is not a row here.  TanH, Sigmoid, ELU, PReLU, Swish (SiLU) and adaptive pools have no rule in Netscope: no
work (adaptive pools: their taps as AVE adds), only their output memory; the types Caffe
has no layer for (hardswish, hardsigmoid, gelu, mish, layer/group/instance norm, channel
shuffle) are assumed to be such a layer.  Identity and stochastic depth have no Caffe
layer and are left out of a Caffe net: nothing, not even memory.
(A later revision, a5f7aa4, divides by ``group``, adds the bias and counts 2n − 1 per
output; not followed here.)  flops = 2·macc + comp + add + div + exp (derived).

Deconvolution (a transposed convolution): out = s·(in − 1) + k − 2p per axis (no
dilation; Caffe has no output padding), macc = C_in·C_out·W_out·H_out·(kw/sw)·(kh/sh)
(``group`` ignored), param = kh·kw·C_in·C_out, taken over every spatial axis here; the
product is a fraction when a stride does not divide its kernel (JavaScript keeps the
float), rounded to the nearest integer (ties to even).  Caffe has no upsampling or padding
layer.
"""
from __future__ import annotations

from fractions import Fraction

from ..core.work import Work
from .common import Figures, Layerish, archcalc_macs, spatial


def _conv(v: Layerish):
    full = v.layer.kernel_taps(v.x) * v.x.channels * v.layer.filters
    return v.n * full * spatial(v), full, Work()


def _deconv(v: Layerish):
    """Netscope's Deconvolution on its own output size (which ignores dilation and output
    padding), over every spatial axis (Caffe's blobs are 2-D: H and W)."""
    kernel, stride, _, pads, _ = v.layer.resolved(v.x)
    full = v.x.channels * v.layer.filters
    macc = Fraction(v.n * full)
    for n, k, s, p in zip(v.x.spatial, kernel, stride, pads):
        macc *= Fraction((s * (n - 1) + k - 2 * p) * k, s)
        full *= k
    return round(macc), full, Work()


def _dense(v: Layerish):
    full = v.x.numel * v.layer.units
    return v.n * full, full, Work()


def _work(make):
    """A layer with no macc: its comparisons, adds, divides and exps only."""
    return lambda v: (0, None, make(v, v.n * v.x.numel, v.n * v.y.numel))


def _lrn(v: Layerish):
    nx = v.n * v.x.numel
    return nx * v.layer.size, 2, Work(additions=nx, divisions=2 * nx, exponentials=nx)


#: kind → (macc, params or None for archcalc's, work) for the batch
PARTS = {
    "conv": _conv, "dense": _dense, "lrn": _lrn, "conv_transpose": _deconv,
    "maxpool": _work(lambda v, nx, ny: Work(comparisons=v.layer.window_taps(v.x) * ny)),
    "avgpool": _work(lambda v, nx, ny: Work(additions=v.layer.window_taps(v.x) * ny)),
    "gap": _work(lambda v, nx, ny: Work(additions=nx)),
    "adaptive_avgpool": _work(lambda v, nx, ny: Work(additions=v.n * v.layer.connections(v.x, v.y))),
    "batchnorm": _work(lambda v, nx, ny: Work(additions=nx, divisions=nx)),
    "relu": _work(lambda v, nx, ny: Work(comparisons=nx)),
    "relu6": _work(lambda v, nx, ny: Work(comparisons=nx)),
    "dropout": _work(lambda v, nx, ny: Work(comparisons=nx)),
    "softmax": _work(lambda v, nx, ny: Work(additions=nx, divisions=nx, exponentials=nx)),
    "add": _work(lambda v, nx, ny: Work(additions=ny)),
    "multiply": lambda v: (v.n * v.y.numel, None, Work()),
    "leaky_relu": _work(lambda v, nx, ny: Work(comparisons=nx)),
    "layer_scale": lambda v: (v.n * v.y.numel, 0, Work()),
    "subsample": lambda v: (archcalc_macs(v), None, Work()),
    "rbf": lambda v: (archcalc_macs(v), None, Work()),
}


def _rule(parts):
    def rule(v: Layerish) -> Figures:
        macc, params, work = parts(v)
        ny = v.n * v.y.numel
        memory = ny
        if v.act:
            memory += ny  # the separate ReLU (or other) layer's own output blob
            if v.act in ("relu", "relu6", "leaky_relu"):  # Caffe's ReLU layer
                work = work + Work(comparisons=ny)
        return Figures(macc, 2 * macc + work.total, params=params, activations=memory, work=work)
    return rule


def _absent(v: Layerish) -> Figures:
    """A layer a Caffe net does not have: no work, no params, no memory."""
    return Figures(0, 0, params=0, activations=0, work=Work())


RULES = {**{kind: _rule(parts) for kind, parts in PARTS.items()},
         "identity": _absent, "stochastic_depth": _absent}

_NO_RULE = "no rule in Netscope: no work, only its output memory"
IGNORED = {"tanh": _NO_RULE, "sigmoid": _NO_RULE, "flatten": "no computation",
           "concat": "no computation", "crop": "no computation",
           "slice": "Caffe's Slice: no computation",
           "upsample": "Caffe has no upsampling layer (its decoders use Deconvolution): " + _NO_RULE,
           "silu": "Caffe's Swish: " + _NO_RULE, "elu": "Caffe's ELU: " + _NO_RULE,
           "prelu": "Caffe's PReLU: " + _NO_RULE,
           "pad": "Caffe has no padding layer (its convolutions pad): " + _NO_RULE}
_NO_LAYER = "no Caffe layer, assumed one without a rule: no work, only its output memory"
IGNORED.update({kind: _NO_LAYER for kind in (
    "hardswish", "hardsigmoid", "gelu", "mish", "layernorm", "groupnorm", "instancenorm",
    "channel_shuffle")})


def ignored(v: Layerish) -> Figures:
    """No work; an unknown layer's parameters (prelu's slopes, a norm's γ, β) are not
    counted either."""
    return _rule(lambda v: (0, 0, Work()))(v)
