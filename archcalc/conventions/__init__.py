"""Other tools' counting rules, so archcalc can print the figure each tool prints.

For a model defined the same way (PyTorch modules for the PyTorch tools, a Caffe
prototxt for Netscope; a folded activation counts as its own module or layer), a
convention maps each report row to that tool's figures:

    macs         the tool's headline count of multiply-accumulates (what it prints as
                 MACs, Mult-Adds, macc, or fvcore's "flops", one per fused multiply-add)
    flops        the tool's FLOPs when it prints FLOPs (torch.utils.flop_counter: 2 per
                 MAC; fvcore: its flops = its MACs); for tools that print only MACs,
                 2 × their count (+ Netscope's comp, add, div, exp), a derived figure
    params       the tool's parameter count (only Netscope differs from archcalc's)
    activations  the tool's memory figure in elements, where it defines one (torchinfo's
                 forward/backward pass, fvcore's activation count, Netscope's
                 activation memory); otherwise archcalc's

Rules were read in each tool's source (file and function cited per rule) and are
written down in docs/conventions-compared.md.  Counts stay exact Python integers (the
tools themselves accumulate in float64 or int64; their printed, rounded figures match).
LeNet-only layer types (subsample, rbf) have no PyTorch or Caffe module; every tool's
rule for them is archcalc's MACs, a stated assumption.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from math import floor
from typing import Callable

from ..errors import ArchcalcError, did_you_mean
from ..core.report import DTYPE_BYTES, Report
from ..core.work import SPLITS, Work


@dataclass(frozen=True)
class Figures:
    """One row's figures under a convention, for the whole batch (None: archcalc's)."""

    macs: int
    flops: int
    params: int | None = None
    activations: int | None = None
    work: Work | None = None


@dataclass(frozen=True)
class Layerish:
    """What a rule sees of a row: the layer type, its folded activation, the Layer (None
    for concat and add rows), per-sample shapes and the batch."""

    kind: str
    act: str | None
    layer: object
    x: object
    y: object
    n: int


def _view(r, batch: int) -> Layerish:
    if r.layer is None:
        kind, _, act = r.type.partition("+")
        return Layerish(kind, act or None, None, r.in_shape, r.out_shape, batch)
    return Layerish(r.layer.type_name, getattr(r.layer, "activation", None), r.layer,
                    r.in_shape, r.out_shape, batch)


def _weights(v: Layerish) -> int:
    """Weights (no bias) of a conv or dense layer, i.e. its MACs per output position."""
    if v.kind == "conv":
        return v.layer.weight_taps(v.x)
    return v.x.numel * v.layer.units


def _archcalc_macs(v: Layerish) -> int:
    return v.n * v.layer.macs(v.x, v.y)


def _spatial(v: Layerish) -> int:
    return v.y.spatial[0] * v.y.spatial[1]


# --- torchinfo ---------------------------------------------------------------------------
def torchinfo(v: Layerish) -> Figures:
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
    if v.layer is None or v.kind not in _HAS_PARAMS:
        return Figures(0, 0, activations=0)
    p = v.layer.params(v.x)
    macs = v.n * p * (_spatial(v) if v.kind == "conv" else 1)
    return Figures(macs, 2 * macs, activations=2 * v.n * v.y.numel)


_HAS_PARAMS = {"conv", "dense", "batchnorm", "subsample", "rbf"}


# --- fvcore ------------------------------------------------------------------------------
def fvcore(v: Layerish) -> Figures:
    """fvcore (facebookresearch/fvcore), ``FlopCountAnalysis(...).total()``.

    flop_count.py ``_DEFAULT_SUPPORTED_OPS`` and jit_handles.py: one FLOP per fused
    multiply-add.  ``conv_flop_jit``: N × (C_out · C_in/groups · kh · kw) × H_out × W_out,
    bias ignored; ``linear_flop_jit`` / ``addmm_flop_jit``: N × in × out, bias ignored;
    ``batchnorm_flop_jit`` at inference: N × C·H·W × 2 with affine γ, β;
    ``elementwise_flop_counter(1, 0)`` for adaptive_avg_pool2d (gap and adaptive pools):
    N × input elements.  Every other op (relu, max_pool2d, avg_pool2d, softmax, add, cat,
    dropout, flatten, LRN's pieces) is unsupported or ignored: 0.  fvcore calls the count
    "flops" and it is one per MAC, so both columns carry it.
    Activations: activation_count.py counts the outputs of conv and linear (addmm) ops.
    """
    k = v.kind
    if k in ("conv", "dense"):
        macs = v.n * _weights(v) * (_spatial(v) if k == "conv" else 1)
        return Figures(macs, macs, activations=v.n * v.y.numel)
    if k == "batchnorm":
        m = 2 * v.n * v.x.numel
    elif k in ("gap", "adaptive_avgpool"):
        m = v.n * v.x.numel
    elif k in ("subsample", "rbf"):
        m = _archcalc_macs(v)
    else:
        m = 0
    return Figures(m, m, activations=0)


# --- thop --------------------------------------------------------------------------------
def thop(v: Layerish) -> Figures:
    """thop (Lyken17/pytorch-OpCounter), ``profile()``'s total_ops (MACs).

    profile.py ``register_hooks`` maps modules to vision/basic_hooks.py counters, whose
    arithmetic is in vision/calc_func.py:
    ``count_convNd`` → ``calculate_conv2d_flops``: N·C_out·H_out·W_out × (C_in/groups)·kh·kw,
    bias not counted; ``count_linear``: in_features × N·out; ``count_normalization``
    (BatchNorm): 2 × N·C·H·W, doubled when affine; ``count_avgpool``: 1 per output;
    ``count_adap_avgpool`` (AdaptiveAvgPool2d, also the global average pool): per output,
    (H_in·W_in)/(H_out·W_out) adds + 1 divide, truncated to an integer over the whole
    tensor; ``count_softmax``: per softmax row of F features, F exp + (F − 1) adds + F
    divides; ``zero_ops`` for ReLU, ReLU6, MaxPool, Dropout.  Modules with no hook
    (Tanh, Sigmoid, LocalResponseNorm, Flatten) and tensor ops (residual add, cat) count 0.
    """
    k, n = v.kind, v.n
    if k == "conv":
        m = n * _weights(v) * _spatial(v)
    elif k == "dense":
        m = n * _weights(v)
    elif k == "batchnorm":
        m = 4 * n * v.x.numel
    elif k == "avgpool":
        m = n * v.y.numel
    elif k in ("gap", "adaptive_avgpool"):
        (h, w), (oh, ow) = v.x.spatial, v.y.spatial
        m = floor((Fraction(h * w, oh * ow) + 1) * n * v.y.numel)
    elif k == "softmax":
        f = v.x.channels
        m = n * (v.x.numel // f) * (3 * f - 1)
    elif k in ("subsample", "rbf"):
        m = _archcalc_macs(v)
    else:
        m = 0
    return Figures(m, 2 * m)


# --- ptflops -----------------------------------------------------------------------------
def ptflops(v: Layerish) -> Figures:
    """ptflops (sovrasov/flops-counter.pytorch), ``get_model_complexity_info`` with the
    module-hook backend ('pytorch'), its MACs.

    pytorch_ops.py ``MODULES_MAPPING``: ``conv_flops_counter_hook``: N·H_out·W_out ×
    kh·kw·C_in·C_out/groups, + C_out·N·H_out·W_out for the bias; ``relu_flops_counter_hook``
    (ReLU, ReLU6, also a folded one): 1 per output; ``pool_flops_counter_hook`` (MaxPool,
    AvgPool, adaptive pools): 1 per **input** element; ``bn_flops_counter_hook``: 1 per
    input element, 2 when affine; ``linear_flops_counter_hook``: N·in·out + out for the
    bias (the bias term is not multiplied by the batch).  Unmapped modules (Tanh,
    Sigmoid, Softmax, LocalResponseNorm, Dropout, Flatten) and tensor ops count 0.
    """
    k, n = v.kind, v.n
    act = n * v.y.numel if v.act in ("relu", "relu6") else 0
    if k == "conv":
        m = n * _weights(v) * _spatial(v) + (n * v.y.numel if v.layer.bias else 0)
    elif k == "dense":
        m = n * _weights(v) + (v.layer.units if v.layer.bias else 0)
    elif k in ("relu", "relu6"):
        m = n * v.y.numel
    elif k in ("maxpool", "avgpool", "gap", "adaptive_avgpool"):
        m = n * v.x.numel
    elif k == "batchnorm":
        m = 2 * n * v.x.numel
    elif k in ("subsample", "rbf"):
        m = _archcalc_macs(v)
    else:
        m = 0
    return Figures(m + act, 2 * (m + act))


# --- torch.utils.flop_counter ------------------------------------------------------------
def flopcounter(v: Layerish) -> Figures:
    """PyTorch's ``torch.utils.flop_counter.FlopCounterMode``, its total FLOPs.

    torch/utils/flop_counter.py: ``conv_flop_count``: 2 × N × (C_out · C_in/groups · kh · kw)
    × H_out × W_out; ``mm_flop`` / ``addmm_flop`` (linear): 2 × N × in × out, the bias add
    of addmm not counted.  Only matrix products and convolutions (and attention) have a
    registered formula; every other op counts 0.  MACs here are its FLOPs / 2.
    """
    k = v.kind
    if k in ("conv", "dense"):
        m = v.n * _weights(v) * (_spatial(v) if k == "conv" else 1)
    elif k in ("subsample", "rbf"):
        m = _archcalc_macs(v)
    else:
        m = 0
    return Figures(m, 2 * m)


# --- Netscope ----------------------------------------------------------------------------
def netscope(v: Layerish) -> Figures:
    """Netscope CNN Analyzer (dgschwend/netscope), src/analyzer.coffee ``Analyzer.analyze``
    (revision 1f687cb), per Caffe layer type, for the batch:

    Convolution: macc = kh·kw·H_out·W_out·C_in·C_out (``group`` is ignored, bias is not
    counted), param = kh·kw·C_in·C_out (no bias); InnerProduct: macc = in·out, param =
    in·out; Pooling MAX: comp = kh·kw per output (global: 1 per input), AVE: add likewise;
    BatchNorm: add and div, 1 each per element, param 2C; LRN: macc = local_size per
    element, add 1, exp 1, div 2, param 2 (α, β); ReLU and Dropout: comp 1 per element;
    Softmax: exp, add and div, 1 each per element; Eltwise SUM (residual add): add 1 per
    element; Concat, Flatten: nothing.  Every layer's activation memory is its output
    (Caffe's in-place ReLU and Dropout included), so a folded activation adds its own;
    Netscope's data layer also counts the input, which is not a row here.  TanH, Sigmoid
    and adaptive pools have no rule in Netscope: no work (adaptive pools: their taps as
    AVE adds), only their output memory.
    (A later revision, a5f7aa4, divides by ``group``, adds the bias and counts 2n − 1 per
    output; not followed here.)  flops = 2·macc + comp + add + div + exp (derived).
    """
    k, n, ny = v.kind, v.n, v.n * v.y.numel
    nx = v.n * v.x.numel
    params = None
    work = Work()
    macc = 0
    if k == "conv":
        kh, kw = v.layer.kernel
        full = kh * kw * v.x.channels * v.layer.filters
        macc, params = n * full * _spatial(v), full
    elif k == "dense":
        macc = params = v.x.numel * v.layer.units
        macc *= n
    elif k == "maxpool":
        work = Work(comparisons=v.layer.taps * ny)
    elif k == "avgpool":
        work = Work(additions=v.layer.taps * ny)
    elif k == "gap":
        work = Work(additions=nx)
    elif k == "adaptive_avgpool":
        work = Work(additions=n * v.layer.connections(v.x, v.y))
    elif k == "batchnorm":
        work = Work(additions=nx, divisions=nx)
    elif k == "lrn":
        macc, params = nx * v.layer.size, 2
        work = Work(additions=nx, divisions=2 * nx, exponentials=nx)
    elif k in ("relu", "relu6", "dropout"):
        work = Work(comparisons=nx)
    elif k == "softmax":
        work = Work(additions=nx, divisions=nx, exponentials=nx)
    elif k == "add":
        work = Work(additions=ny)
    elif k in ("subsample", "rbf"):
        macc = _archcalc_macs(v)
    memory = ny
    if v.act:
        memory += ny  # the separate ReLU (or other) layer's own output blob
        if v.act in ("relu", "relu6"):
            work = work + Work(comparisons=ny)
    flops = 2 * macc + work.total
    return Figures(macc, flops, params=params, activations=memory, work=work)


@dataclass(frozen=True)
class Convention:
    name: str
    tool: str
    counts: str          # one line: what its headline figure counts
    rule: Callable[[Layerish], Figures] | None


CONVENTIONS = {c.name: c for c in (
    Convention("archcalc", "archcalc",
               "MACs of linear maps (no bias); FLOPs = 2·MACs + every elementwise op", None),
    Convention("torchinfo", "torchinfo summary()",
               "Mult-Adds: weights and biases × output positions (conv), × batch (others); "
               "activations = 2 × outputs of modules with parameters", torchinfo),
    Convention("fvcore", "fvcore FlopCountAnalysis",
               "flops = 1 per multiply-add of conv/linear, + batch norm 2/elem, adaptive "
               "avg pool 1/input; relu, max pool, softmax, add skipped", fvcore),
    Convention("thop", "thop profile()",
               "MACs of conv/linear (no bias), + batch norm 4/elem, avg pools, softmax; "
               "relu and max pool 0", thop),
    Convention("ptflops", "ptflops get_model_complexity_info (pytorch backend)",
               "MACs of conv/linear + bias adds, + 1/elem for relu, 1/input for every "
               "pool, batch norm 2/elem", ptflops),
    Convention("flopcounter", "torch.utils.flop_counter.FlopCounterMode",
               "FLOPs = 2 × MACs of convolutions and matrix products only, bias ignored",
               flopcounter),
    Convention("netscope", "Netscope CNN Analyzer (Caffe)",
               "macc of conv (groups ignored) and inner product, + LRN; comp/add/div/exp "
               "for pooling, relu, dropout, batch norm, softmax, eltwise", netscope),
)}


def get(name: str) -> Convention:
    try:
        return CONVENTIONS[name]
    except KeyError:
        raise ArchcalcError(f"unknown convention '{name}'{did_you_mean(name, CONVENTIONS)}; "
                            f"choose from {', '.join(CONVENTIONS)}") from None


#: the row kinds every rule above was written for
KNOWN_KINDS = frozenset(SPLITS) | {"concat", "add"}


def row_figures(convention: str, row, batch: int) -> Figures:
    """The figures ``convention`` gives one report row (per batch)."""
    rule = get(convention).rule
    v = _view(row, batch)
    if v.kind not in KNOWN_KINDS:  # a new layer type needs a line in each rule above
        raise ArchcalcError(f"layer '{row.name}': convention '{convention}' has no rule for "
                            f"layer type '{v.kind}'")
    return rule(v)


def apply(report: Report, convention: str) -> Report:
    """``report`` with macs, flops (and params, activations where the tool defines them)
    replaced by ``convention``'s figures.  "archcalc" returns it unchanged."""
    conv = get(convention)
    if conv.rule is None:
        return report
    size = DTYPE_BYTES[report.dtype]
    rows, work = [], []
    for r in report.layers:
        f = row_figures(convention, r, report.batch)
        acts = r.activations if f.activations is None else f.activations
        rows.append(replace(r, macs=f.macs, flops=f.flops,
                            params=r.params if f.params is None else f.params,
                            activations=acts, activation_bytes=acts * size))
        work.append(f.work)
    own_work = tuple(work) if all(w is not None for w in work) else None
    return replace(report, layers=tuple(rows), convention=convention, work=own_work)


def torchinfo_sizes(report: Report) -> dict:
    """torchinfo's closing lines, in bytes: input, forward/backward pass, params, total."""
    size = DTYPE_BYTES[report.dtype]
    t = report.totals
    sizes = {"input": report.batch * report.input_shape.numel * size,
             "forward/backward pass": t.activation_bytes, "params": t.param_bytes}
    sizes["estimated total"] = sum(sizes.values())
    return sizes
