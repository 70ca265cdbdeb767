"""The operator map: each ONNX operator (as every importer spells it) and the archcalc
layer it becomes.  An operator outside :data:`HANDLERS` is an error naming the node and
its type, never a silent zero.  docs/import-export.md lists the map and its limits.
"""
from __future__ import annotations

import json
import math
import re

from ..core.shapes import same_padding
from ..layers import REGISTRY
from ..spec import fields
from .lower import Data, Lowering, shape_text
from .opgraph import Const, Op

def apply(s: Lowering, op: Op) -> None:
    if op.op.startswith("archcalc:"):
        return archcalc_layer(s, op)
    handler = HANDLERS.get(op.op)
    if handler is None:
        if all(isinstance(s.values.get(name), Const) for name in op.inputs if name) \
                and op.op in CONSTANT_OPS:
            return constant(s, op)
        raise s.fail("operator not supported by archcalc's importer (docs/import-export.md "
                     "lists the operators it maps)", op)
    if op.op in CONSTANT_OPS and all(isinstance(s.values.get(n), Const) for n in op.inputs if n) \
            and op.op != "Shape":
        return constant(s, op)
    handler(s, op)


# --- attribute helpers -------------------------------------------------------------------
def _axes(values) -> int | list:
    """One integer when every axis agrees, else one per axis (the spec's forms)."""
    values = [int(v) for v in values]
    return values[0] if len(set(values)) == 1 else values


def _padding(pairs) -> int | list:
    if all(b == a for b, a in pairs):
        return _axes([b for b, _ in pairs])
    return [[b, a] for b, a in pairs]


def _window(s: Lowering, op: Op, x: Data, kernel: list) -> dict:
    """kernel, stride, padding, dilation of a Conv or pool, in the spec's forms."""
    rank = len(x.shape) - 2
    if len(kernel) != rank or rank < 1:
        raise s.fail(f"a {len(kernel)}-D window on a {shape_text(x.shape[1:])} input", op)
    strides = op.attrs.get("strides") or [1] * rank
    dilations = op.attrs.get("dilations") or [1] * rank
    auto = op.attrs.get("auto_pad", "NOTSET") or "NOTSET"
    if auto == "SAME_UPPER":
        padding = "same"
    elif auto == "VALID":
        padding = 0
    elif auto == "SAME_LOWER":  # the odd cell before: explicit at this size
        pairs = []
        for size, k, st, d in zip(x.shape[2:], kernel, strides, dilations):
            _, before, after = same_padding(size, k, st, d)
            pairs.append((after, before))
        padding = _padding(pairs)
    elif auto == "NOTSET":
        pads = op.attrs.get("pads") or [0] * (2 * rank)
        if len(pads) != 2 * rank or any(p < 0 for p in pads):
            raise s.fail(f"pads {list(pads)} must be {2 * rank} non-negative integers", op)
        padding = _padding([(pads[i], pads[rank + i]) for i in range(rank)])
    else:
        raise s.fail(f"unknown auto_pad '{auto}'", op)
    if len(strides) != rank or len(dilations) != rank:
        raise s.fail(f"strides and dilations must give {rank} values", op)
    return {"kernel": _axes(kernel), "stride": _axes(strides), "padding": padding,
            "dilation": _axes(dilations)}


def _spatial_input(s: Lowering, op: Op) -> Data:
    x = s.data(op, 0)
    s.as_exact(x, op)
    if len(x.shape) < 3 or len(x.shape) > 5:
        raise s.fail(f"needs a map N×C×L, N×C×H×W or N×C×D×H×W, got {shape_text(x.shape)}", op)
    return x


def _trainable(c: Const) -> bool:
    return c.weight


# --- windowed layers ----------------------------------------------------------------------
def conv(s: Lowering, op: Op) -> None:
    x = _spatial_input(s, op)
    w = s.const(op, 1)
    if len(w.shape) != len(x.shape):
        raise s.fail(f"weight {shape_text(w.shape)} does not fit input {shape_text(x.shape)}", op)
    group = int(op.attrs.get("group", 1))
    kernel = list(op.attrs.get("kernel_shape") or w.shape[2:])
    if list(w.shape[2:]) != kernel:
        raise s.fail(f"kernel_shape {kernel} disagrees with the weight {shape_text(w.shape)}", op)
    if group < 1 or w.shape[1] * group != x.shape[1]:
        raise s.fail(f"weight {shape_text(w.shape)} with group {group} does not read "
                     f"{x.shape[1]} input channels", op)
    attrs = _window(s, op, x, kernel)
    attrs = {"filters": int(w.shape[0]), **_defaults_out(attrs, stride=1)}
    if group != 1:
        attrs["groups"] = group
    if not s.has(op, 2):
        attrs["bias"] = False
    s.emit(op, "conv", attrs, [x.ref])


def conv_transpose(s: Lowering, op: Op) -> None:
    """ConvTranspose: weight (C_in, C_out/group, *k) as PyTorch's; pads equal at both ends
    of an axis (PyTorch crops alike), output_padding."""
    x = _spatial_input(s, op)
    w = s.const(op, 1)
    rank = len(x.shape) - 2
    group = int(op.attrs.get("group", 1))
    if len(w.shape) != rank + 2 or w.shape[0] != x.shape[1] or group < 1 or x.shape[1] % group:
        raise s.fail(f"weight {shape_text(w.shape)} with group {group} does not read "
                     f"{x.shape[1]} input channels", op)
    if op.attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID") or op.attrs.get("output_shape"):
        raise s.fail("auto_pad SAME or output_shape: archcalc's conv_transpose takes explicit "
                     "pads (PyTorch's form)", op)
    kernel = list(op.attrs.get("kernel_shape") or w.shape[2:])
    pads = op.attrs.get("pads") or [0] * (2 * rank)
    if op.attrs.get("auto_pad") == "VALID":
        pads = [0] * (2 * rank)
    if len(pads) != 2 * rank or pads[:rank] != pads[rank:]:
        raise s.fail(f"pads {list(pads)} differ at the two ends of an axis; archcalc's "
                     f"conv_transpose crops both ends alike (PyTorch)", op)
    attrs = {"filters": int(w.shape[1]) * group, "kernel": _axes(kernel),
             "stride": _axes(op.attrs.get("strides") or [1] * rank), "padding": _axes(pads[:rank]),
             "output_padding": _axes(op.attrs.get("output_padding") or [0] * rank),
             "dilation": _axes(op.attrs.get("dilations") or [1] * rank), "groups": group}
    if not s.has(op, 2):
        attrs["bias"] = False
    s.emit(op, "conv_transpose", attrs, [x.ref])


#: ONNX Pad modes → archcalc's (PyTorch's names)
_PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}


def pad(s: Lowering, op: Op) -> None:
    x = _spatial_input(s, op)
    rank = len(x.shape)
    mode = op.attrs.get("mode", "constant")
    if mode not in _PAD_MODES:
        raise s.fail(f"pad mode '{mode}'", op)
    pads = op.attrs.get("pads") if "pads" in op.attrs else s.numbers(op, 1, "pads")
    pads = [int(p) for p in pads]
    axes = list(range(rank))
    if s.has(op, 3):
        axes = [int(a) % rank for a in s.numbers(op, 3, "axes")]
    if len(pads) != 2 * len(axes):
        raise s.fail(f"pads {pads} for {len(axes)} axes", op)
    full = [[0, 0] for _ in range(rank)]
    for i, a in enumerate(axes):
        full[a] = [pads[i], pads[len(axes) + i]]
    if any(full[0]) or any(full[1]) or any(p < 0 for pair in full for p in pair):
        raise s.fail(f"pads {pads}: archcalc pads the spatial axes, by cells ≥ 0", op)
    value = op.attrs.get("value", 0.0)
    if s.has(op, 2):
        value = s.numbers(op, 2, "constant_value")[0]
    attrs = {"padding": _padding([tuple(p) for p in full[2:]]), "mode": _PAD_MODES[mode]}
    if mode == "constant" and value != 0:
        attrs["value"] = _float32(value)
    s.emit(op, "pad", attrs, [x.ref])


def _defaults_out(attrs: dict, stride=None) -> dict:
    """The window attributes without their defaults (stride ``stride``, no padding, no
    dilation), so an imported spec reads as one written by hand."""
    out = {"kernel": attrs["kernel"]}
    if attrs["stride"] != stride:
        out["stride"] = attrs["stride"]
    if attrs["padding"] != 0:
        out["padding"] = attrs["padding"]
    if attrs["dilation"] != 1:
        out["dilation"] = attrs["dilation"]
    return out


def _pool(s: Lowering, op: Op, kind: str) -> None:
    x = _spatial_input(s, op)
    kernel = op.attrs.get("kernel_shape")
    if not kernel:
        raise s.fail("kernel_shape is required", op)
    if len(op.outputs) > 1 and op.outputs[1] and s.readers.get(op.outputs[1]):
        raise s.fail("the indices output is read; archcalc's maxpool gives values only", op)
    window = _window(s, op, x, list(kernel))
    attrs = _defaults_out(window, stride=window["kernel"])
    if kind == "avgpool" and "dilation" in attrs:
        raise s.fail("a dilated average pool has no archcalc layer", op)
    ceil = bool(op.attrs.get("ceil_mode", 0)) and window["padding"] != "same"
    if ceil:
        attrs["ceil_mode"] = True
    if kind == "avgpool" and not op.attrs.get("count_include_pad", 0) \
            and (window["padding"] != 0 or ceil):
        attrs["count_include_pad"] = False
    s.emit(op, kind, attrs, [x.ref])


def maxpool(s, op):
    _pool(s, op, "maxpool")


def avgpool(s, op):
    _pool(s, op, "avgpool")


def gap(s: Lowering, op: Op) -> None:
    x = _spatial_input(s, op)
    s.emit(op, "gap", {}, [x.ref])


def reduce_mean(s: Lowering, op: Op) -> None:
    """ReduceMean over every spatial axis (x.mean((2, 3)) in PyTorch) is global pooling."""
    x = s.data(op, 0)
    axes = op.attrs.get("axes")
    if axes is None and s.has(op, 1):
        axes = s.numbers(op, 1, "axes")
    rank = len(x.shape)
    axes = sorted(int(a) % rank for a in (axes or range(rank)))
    if x.form != "exact" or rank < 3 or axes != list(range(2, rank)):
        raise s.fail(f"a mean over axes {axes} of {shape_text(x.shape)}; archcalc maps only "
                     f"the mean over every spatial axis (global average pooling)", op)
    name = s.emit(op, "gap", {}, [x.ref], out=None)
    keep = op.attrs.get("keepdims", 1)
    shape = x.shape[:2] + ((1,) * (rank - 2) if keep else ())
    s.bind(op, s.view(op, Data(name, shape), shape))


# --- normalisations ----------------------------------------------------------------------
def batchnorm(s: Lowering, op: Op) -> None:
    x = _spatial_input(s, op) if len(s.data(op, 0).shape) > 2 else s.data(op, 0)
    if op.attrs.get("training_mode", 0):
        raise s.fail("training_mode=1 (batch statistics); archcalc's batchnorm is the "
                     "inference form", op)
    scale = s.const(op, 1)
    if tuple(scale.shape) != (x.shape[1],):
        raise s.fail(f"scale {shape_text(scale.shape)} does not match {x.shape[1]} channels", op)
    s.emit(op, "batchnorm", {"eps": _eps(op, 1e-5)}, [s.as_exact(x, op)])


def _eps(op: Op, default: float) -> float:
    return _float32(op.attrs.get("epsilon", default))


def _float32(value: float) -> float:
    """A float attribute as written: ONNX stores float32, whose shortest decimal form is
    what the model's author wrote (1e-05, not 9.999999747378752e-06)."""
    import numpy as np

    return float(repr(np.float32(value)).replace("np.float32(", "").rstrip(")"))


def _affine(s: Lowering, op: Op, channels: int, per: int | None = None) -> bool:
    """γ and β trainable (initializers) → affine; fixed ones (Constant nodes) → not."""
    scale = s.const(op, 1)
    bias = s.const(op, 2) if s.has(op, 2) else None
    wanted = {(channels,), (per,)} if per else {(channels,)}
    if tuple(scale.shape) not in wanted:
        raise s.fail(f"scale {shape_text(scale.shape)} does not match {channels} channels", op)
    trained = _trainable(scale) or (bias is not None and _trainable(bias))
    if trained and (bias is None or not _trainable(bias) or not _trainable(scale)):
        raise s.fail("only one of scale and bias is trainable; archcalc's affine norms train "
                     "both γ and β", op)
    return trained


def instancenorm(s: Lowering, op: Op) -> None:
    x = _spatial_input(s, op)
    affine = _affine(s, op, x.shape[1])
    s.emit(op, "instancenorm", {"eps": _eps(op, 1e-5), "affine": affine or None}, [x.ref])


def groupnorm(s: Lowering, op: Op) -> None:
    x = s.data(op, 0)
    groups = int(op.attrs.get("num_groups", 0))
    affine = _affine(s, op, x.shape[1], per=groups)
    attrs = {"groups": groups, "eps": _eps(op, 1e-5)}
    if not affine:
        attrs["affine"] = False
    s.emit(op, "groupnorm", attrs, [s.as_exact(x, op)])


def layernorm(s: Lowering, op: Op) -> None:
    """LayerNormalization over the features of a vector, or over the last axis of a
    channels-last map (ConvNeXt's LayerNorm2d: Transpose, LayerNormalization, Transpose)."""
    x = s.data(op, 0)
    rank = len(x.shape)
    axis = int(op.attrs.get("axis", -1)) % rank
    if x.form == "nhwc" and axis == rank - 1:
        channels = x.shape[-1]
    elif rank == 2 and axis == 1:
        channels = x.shape[1]
    else:
        raise s.fail(f"normalises {shape_text(x.shape[axis:])} of {shape_text(x.shape)}; "
                     f"archcalc's layernorm is over the channels at each position (or the "
                     f"features of a vector)", op)
    affine = _affine(s, op, channels)
    attrs = {"eps": _eps(op, 1e-5)}
    if not affine:
        attrs["affine"] = False
    if x.form == "nhwc":
        name = s.emit(op, "layernorm", attrs, [x.ref], out=None)
        s.bind(op, Data(name, x.shape, "nhwc"))
    else:
        s.emit(op, "layernorm", attrs, [s.as_exact(x, op)])


def lrn(s: Lowering, op: Op) -> None:
    x = _spatial_input(s, op)
    size = int(op.attrs.get("size", 0))
    attrs = {"size": size, "alpha": _float32(op.attrs.get("alpha", 1e-4)),
             "beta": _float32(op.attrs.get("beta", 0.75)), "k": _float32(op.attrs.get("bias", 1.0))}
    s.emit(op, "lrn", attrs, [x.ref])


# --- activations ---------------------------------------------------------------------------
def _simple(kind: str):
    def handler(s: Lowering, op: Op) -> None:
        s.fold(op, kind, (kind, {}))
    return handler


def clip(s: Lowering, op: Op) -> None:
    low, high = op.attrs.get("min"), op.attrs.get("max")
    if s.has(op, 1):
        low = s.numbers(op, 1, "min")[0]
    if s.has(op, 2):
        high = s.numbers(op, 2, "max")[0]
    if low == 0 and high == 6:
        return s.fold(op, "relu6", ("relu6", {}))
    if low == 0 and (high is None or math.isinf(high) or high > 3.4e38):
        return s.fold(op, "relu", ("relu", {}))
    raise s.fail(f"Clip to [{low}, {high}]; archcalc maps Clip(0, 6) (relu6) and Clip(0) "
                 f"(relu)", op)


def leaky_relu(s: Lowering, op: Op) -> None:
    slope = _float32(op.attrs.get("alpha", 0.01))
    s.fold(op, "leaky_relu" if slope == 0.01 else "", ("leaky_relu", {"slope": slope}))


def elu(s: Lowering, op: Op) -> None:
    alpha = _float32(op.attrs.get("alpha", 1.0))
    s.fold(op, "elu" if alpha == 1.0 else "", ("elu", {"alpha": alpha}))


def hardsigmoid(s: Lowering, op: Op) -> None:
    alpha, beta = op.attrs.get("alpha", 0.2), op.attrs.get("beta", 0.5)
    if not (math.isclose(alpha, 1 / 6, rel_tol=1e-5) and math.isclose(beta, 0.5, rel_tol=1e-6)):
        raise s.fail(f"HardSigmoid with α {alpha:g}, β {beta:g}; archcalc's hardsigmoid is "
                     f"PyTorch's (α = 1/6, β = 1/2)", op)
    s.fold(op, "hardsigmoid", ("hardsigmoid", {}))


def gelu(s: Lowering, op: Op) -> None:
    approximate = op.attrs.get("approximate", "none")
    if approximate not in ("none", "tanh"):
        raise s.fail(f"unknown approximate '{approximate}'", op)
    s.fold(op, "gelu" if approximate == "none" else "", ("gelu", {"approximate": approximate}
                                                         if approximate == "tanh" else {}))


def softmax(s: Lowering, op: Op) -> None:
    x = s.data(op, 0)
    rank = len(x.shape)
    opset13 = s.g.opset == 0 or s.g.opset >= 13
    axis = int(op.attrs.get("axis", -1 if opset13 else 1)) % rank
    ones = all(d == 1 for d in x.shape[2:])
    if axis != 1 and not (rank == 2 or (x.form == "nhwc" and axis == rank - 1)):
        raise s.fail(f"softmax over axis {axis} of {shape_text(x.shape)}; archcalc's softmax "
                     f"is over the channels", op)
    if not opset13 and rank > 2 and not ones:
        raise s.fail("softmax before opset 13 normalises C·H·W values together; archcalc's "
                     "is over the channels at each position", op)
    s.fold(op, "softmax", ("softmax", {}))


def prelu(s: Lowering, op: Op) -> None:
    x = s.data(op, 0)
    slope = s.const(op, 1)
    count = math.prod(slope.shape)
    channels_axis = len(x.shape) - len(slope.shape)
    if count == 1:
        kind = "shared"
    elif count == x.shape[1] and (len(x.shape) == 2 or
                                  (channels_axis <= 1 and slope.shape[1 - channels_axis:] ==
                                   (1,) * (len(x.shape) - 2))):
        kind = "per_channel"
    else:
        raise s.fail(f"slope {shape_text(slope.shape)} is neither one shared slope nor one per "
                     f"channel of {shape_text(x.shape)}", op)
    s.fold(op, "", ("prelu", {"slopes": kind} if kind != "shared" else {}))


# --- merges and elementwise arithmetic -------------------------------------------------
def _merge_inputs(s: Lowering, op: Op) -> list:
    refs = []
    for i in range(len(op.inputs)):
        d = s.data(op, i)
        refs.append(d.ref if d.form in ("exact", "view") else s.as_exact(d, op))
    return refs


def add(s: Lowering, op: Op) -> None:
    consts = [i for i in range(len(op.inputs)) if isinstance(s.values.get(op.inputs[i]), Const)]
    if consts:
        return _bias(s, op, 1 - consts[0])
    s.emit(op, "add", {}, _merge_inputs(s, op), out=None)
    _bind_merge(s, op)


def _bind_merge(s: Lowering, op: Op) -> None:
    name = s.items[-1]["name"]
    shape = (s.batch,) + tuple(s.arch[name].dims)
    widest = max((s.data(op, i).shape for i in range(len(op.inputs))), key=len)
    s.bind(op, s.view(op, Data(name, shape), widest if math.prod(widest) == math.prod(shape)
                      else shape))


def _bias(s: Lowering, op: Op, i: int) -> None:
    """x + b with b a constant per channel, right after a conv or dense without bias that
    nothing else reads: that layer's bias (TensorFlow's BiasAdd)."""
    x = s.data(op, i)
    b = s.const(op, 1 - i)
    item = s.made.get(x.ref, (None, None))[0]
    channels = x.shape[-1] if x.form == "nhwc" else x.shape[1]
    fits = math.prod(b.shape) == channels and (x.form == "nhwc" or len(x.shape) == 2 or
                                               (b.shape and b.shape[0] in (1, channels)))
    if item is not None and item["type"] in ("conv", "dense") and item.get("bias") is False \
            and not item.get("activation") and fits and s.readers.get(op.inputs[i], 0) == 1:
        item.pop("bias")
        s.made[x.ref] = (item, s.made[x.ref][1])
        s.bind(op, x)
        return
    raise s.fail(f"adds a constant {shape_text(b.shape)}; archcalc maps a constant add only "
                 f"as the bias of the conv or dense layer just before it", op)


def mul(s: Lowering, op: Op) -> None:
    consts = [i for i in range(len(op.inputs)) if isinstance(s.values.get(op.inputs[i]), Const)]
    if not consts:
        s.emit(op, "multiply", {}, _merge_inputs(s, op), out=None)
        return _bind_merge(s, op)
    x = s.data(op, 1 - consts[0])
    gamma = s.const(op, consts[0])
    channels = x.shape[-1] if x.form == "nhwc" else x.shape[1]
    dims = [d for d in gamma.shape]
    while dims and dims[0] == 1 and len(dims) > 1:
        dims.pop(0)
    per_channel = (x.form == "nhwc" and dims == [channels]) or \
        (x.form == "exact" and dims and dims[0] == channels and all(d == 1 for d in dims[1:])
         and (len(x.shape) == 2) == (len(dims) == 1) and len(dims) <= len(x.shape) - 1)
    if not per_channel or not gamma.weight:
        raise s.fail(f"multiplies by a constant {shape_text(gamma.shape)}; archcalc maps a "
                     f"trainable per-channel factor (layer_scale) only", op)
    name = s.emit(op, "layer_scale", {}, [x.ref], out=None)
    s.bind(op, Data(name, x.shape, x.form))


def concat(s: Lowering, op: Op) -> None:
    xs = [s.data(op, i) for i in range(len(op.inputs))]
    rank = len(xs[0].shape)
    axis = int(op.attrs.get("axis", 1)) % rank
    names = {1: "channels", 2: "height", 3: "width"} if rank == 4 else {1: "channels"}
    if axis not in names:
        raise s.fail(f"concatenates along axis {axis} of {shape_text(xs[0].shape)}; archcalc "
                     f"concatenates channels (and height or width of a 2-D map)", op)
    refs = [s.as_exact(x, op) for x in xs]
    attrs = {"axis": names[axis]} if axis != 1 else {}
    if len(refs) == 1:
        return s.bind(op, xs[0])
    s.emit(op, "concat", attrs, refs)


# --- views -----------------------------------------------------------------------------
def flatten(s: Lowering, op: Op) -> None:
    x = s.data(op, 0)
    axis = int(op.attrs.get("axis", 1)) % max(len(x.shape), 1)
    if axis != 1:
        raise s.fail(f"Flatten at axis {axis}; archcalc flattens everything after the batch "
                     f"axis", op)
    shape = (x.shape[0], math.prod(x.shape[1:]))
    if op.row:
        return s.emit(op, "flatten", {}, [s.as_exact(x, op)]) and None
    s.bind(op, s.view(op, x, shape) if x.form in ("exact", "view") else _bad_view(s, op, x))


def _bad_view(s: Lowering, op: Op, x: Data):
    raise s.fail(f"reshapes a {x.form} view of '{x.ref}'; archcalc has no layer for that", op)


def _resolve_shape(s: Lowering, op: Op, x: Data, target: list) -> tuple:
    """Reshape's target with 0 (copy) and -1 (infer) resolved."""
    allowzero = op.attrs.get("allowzero", 0)
    dims = []
    for i, t in enumerate(target):
        t = int(t)
        if t == 0 and not allowzero:
            if i >= len(x.shape):
                raise s.fail(f"target {target} copies axis {i} of {shape_text(x.shape)}", op)
            t = x.shape[i]
        dims.append(t)
    total = math.prod(x.shape)
    if dims.count(-1) > 1 or any(d < -1 for d in dims):
        raise s.fail(f"target shape {target} is not a shape", op)
    if -1 in dims:
        known = math.prod(d for d in dims if d != -1)
        if known == 0 or total % known:
            raise s.fail(f"cannot reshape {shape_text(x.shape)} to {target}", op)
        dims[dims.index(-1)] = total // known
    if math.prod(dims) != total:
        raise s.fail(f"cannot reshape {shape_text(x.shape)} ({total:,} values) to "
                     f"{shape_text(dims)}", op)
    if not dims or dims[0] != x.shape[0]:
        raise s.fail(f"reshape to {shape_text(dims)} moves the batch axis of "
                     f"{shape_text(x.shape)}", op)
    return tuple(dims)


def reshape(s: Lowering, op: Op) -> None:
    x = s.data(op, 0)
    target = op.attrs.get("shape") if "shape" in op.attrs else s.numbers(op, 1, "the target shape")
    _reshaped(s, op, x, _resolve_shape(s, op, x, list(target)))


def _reshaped(s: Lowering, op: Op, x: Data, shape: tuple) -> None:
    """x seen as ``shape``: a view of the same elements, or the halves of a channel
    shuffle: (N, g, C/g, …) of an exact map, then back to (N, C, …) after the swap."""
    arch = s.arch[x.ref]
    if x.form == "shuffled" and shape[1:] == tuple(arch.dims):
        name = s.emit(op, "channel_shuffle", {"groups": x.groups}, [x.ref], out=None)
        return s.bind(op, Data(name, shape))
    if x.form == "grouped" and shape[1:] == tuple(arch.dims):
        return s.bind(op, Data(x.ref, shape))
    if x.form == "exact" and arch.is_map and len(shape) == len(x.shape) + 1 \
            and shape[3:] == x.shape[2:] and shape[1] * shape[2] == x.shape[1] and shape[1] > 1:
        return s.bind(op, Data(x.ref, shape, "grouped", shape[1], op))
    if x.form not in ("exact", "view"):
        _bad_view(s, op, x)
    if _same_values(shape[1:], arch.dims):
        return s.bind(op, s.view(op, x, shape))
    if len(shape) == 2:  # a flattening
        return s.bind(op, s.view(op, x, shape))
    raise s.fail(f"reshapes {shape_text(x.shape[1:])} to {shape_text(shape[1:])}; archcalc "
                 f"maps a reshape only as a flatten, a squeeze or a channel shuffle", op)


def _same_values(a, b) -> bool:
    """Equal but for axes of size 1 (C×1×1 and C)."""
    return [d for d in a if d != 1] == [d for d in b if d != 1]


def squeeze(s: Lowering, op: Op, unsqueeze: bool = False) -> None:
    x = s.data(op, 0)
    axes = op.attrs.get("axes")
    if axes is None and s.has(op, 1):
        axes = s.numbers(op, 1, "axes")
    if unsqueeze:
        rank = len(x.shape) + len(axes or ())
        shape = list(x.shape)
        for a in sorted(int(a) % rank for a in axes or ()):
            shape.insert(a, 1)
    else:
        rank = len(x.shape)
        drop = {int(a) % rank for a in axes} if axes else {i for i, d in enumerate(x.shape) if d == 1}
        if 0 in drop or any(x.shape[a] != 1 for a in drop):
            raise s.fail(f"squeezes axes {sorted(drop)} of {shape_text(x.shape)}", op)
        shape = [d for i, d in enumerate(x.shape) if i not in drop]
    if x.form not in ("exact", "view"):
        _bad_view(s, op, x)
    s.bind(op, s.view(op, x, tuple(shape)))


def unsqueeze(s, op):
    squeeze(s, op, unsqueeze=True)


def transpose(s: Lowering, op: Op) -> None:
    x = s.data(op, 0)
    rank = len(x.shape)
    perm = [int(p) for p in op.attrs.get("perm", range(rank - 1, -1, -1))]
    last = [0] + list(range(2, rank)) + [1]
    first = [0, rank - 1] + list(range(1, rank - 1))
    if perm == list(range(rank)):
        return s.bind(op, x)
    if x.form == "exact" and rank >= 3 and perm == last:
        shape = tuple(x.shape[p] for p in perm)
        return s.bind(op, Data(x.ref, shape, "nhwc", origin=op))
    if x.form == "nhwc" and perm == first:
        return s.bind(op, Data(x.ref, tuple(x.shape[p] for p in perm)))
    if x.form == "grouped" and perm == [0, 2, 1] + list(range(3, rank)):
        return s.bind(op, Data(x.ref, tuple(x.shape[p] for p in perm), "shuffled", x.groups, op))
    raise s.fail(f"transposes {shape_text(x.shape)} by {perm}; archcalc maps channels-last "
                 f"and back (a layer norm or a linear layer over channels) and channel "
                 f"shuffles", op)


def identity(s: Lowering, op: Op) -> None:
    x = s.data(op, 0)
    if op.row:
        s.emit(op, "identity", {}, [s.as_exact(x, op)])
    else:
        s.bind(op, x)


def dropout(s: Lowering, op: Op) -> None:
    x = s.data(op, 0)
    rate = op.attrs.get("ratio", 0.5)
    if s.has(op, 1):
        rate = s.numbers(op, 1, "ratio")[0]
    if len(op.outputs) > 1 and op.outputs[1] and s.readers.get(op.outputs[1]):
        raise s.fail("the mask output is read; archcalc's dropout is the inference identity", op)
    s.emit(op, "dropout", {"rate": _float32(rate)}, [s.as_exact(x, op)])


def slice_(s: Lowering, op: Op) -> None:
    """Slice of the channel axis by constant bounds, step 1: archcalc's slice (ShuffleNet
    V2's channel split, torch.chunk)."""
    x = s.data(op, 0)
    if "slice" not in REGISTRY:
        raise s.fail("archcalc has no slice layer type in this version", op)
    if "starts" in op.attrs:
        starts, ends = op.attrs["starts"], op.attrs["ends"]
        axes = op.attrs.get("axes", list(range(len(starts))))
        steps = [1] * len(starts)
    else:
        starts, ends = s.numbers(op, 1, "starts"), s.numbers(op, 2, "ends")
        axes = s.numbers(op, 3, "axes") if s.has(op, 3) else list(range(len(starts)))
        steps = s.numbers(op, 4, "steps") if s.has(op, 4) else [1] * len(starts)
    rank = len(x.shape)
    axes = [int(a) % rank for a in axes]
    channels = x.shape[1]
    if axes != [1] or steps != [1]:
        raise s.fail(f"slices axes {axes} with steps {steps}; archcalc's slice takes a range "
                     f"of channels", op)
    start, stop = (int(v) for v in (starts[0], ends[0]))
    start = max(0, min(channels, start + channels if start < 0 else start))
    stop = max(0, min(channels, stop + channels if stop < 0 else stop))
    attrs = {"stop": stop} | ({"start": start} if start else {})
    s.emit(op, "slice", attrs, [s.as_exact(x, op)])


def cast(s: Lowering, op: Op) -> None:
    s.bind(op, s.data(op, 0))


# --- fully connected ---------------------------------------------------------------------
def gemm(s: Lowering, op: Op) -> None:
    if op.attrs.get("transA", 0):
        raise s.fail("transA=1: the batch axis transposed; archcalc's dense reads N×F", op)
    for key in ("alpha", "beta"):
        if op.attrs.get(key, 1.0) != 1.0:
            raise s.fail(f"{key} {op.attrs[key]:g}: archcalc's dense has no scaling", op)
    transposed = bool(op.attrs.get("transB", 0))
    linear(s, Op("Linear", op.name, op.inputs, op.outputs, {"transposed": transposed}, op.row,
                 op.line))


def linear(s: Lowering, op: Op) -> None:
    """y = x Wᵀ + b over the last axis: a dense layer on a vector, a 1×1 conv on a
    channels-last map (the pointwise layers of ConvNeXt)."""
    x = s.data(op, 0)
    w = s.const(op, 1)
    if len(w.shape) != 2:
        raise s.fail(f"weight {shape_text(w.shape)} is not a matrix", op)
    out, features = (w.shape if op.attrs.get("transposed") else w.shape[::-1])
    bias = s.has(op, 2)
    if bias and math.prod(s.const(op, 2).shape) != out:
        raise s.fail(f"bias {shape_text(s.const(op, 2).shape)} for {out} outputs", op)
    if x.form == "nhwc":
        if features != x.shape[-1]:
            raise s.fail(f"weight {shape_text(w.shape)} does not read {x.shape[-1]} channels", op)
        attrs = {"filters": int(out), "kernel": 1} | ({} if bias else {"bias": False})
        name = s.emit(op, "conv", attrs, [x.ref], out=None)
        return s.bind(op, Data(name, x.shape[:-1] + (out,), "nhwc", origin=op))
    if len(x.shape) != 2 or x.form not in ("exact", "view"):
        raise s.fail(f"a linear layer over the last axis of {shape_text(x.shape)}; archcalc's "
                     f"dense reads a flattened N×F input", op)
    if features != math.prod(x.shape[1:]):
        raise s.fail(f"weight {shape_text(w.shape)} reads {features} features, the input has "
                     f"{x.shape[1]}", op)
    attrs = {"units": int(out)} | ({} if bias else {"bias": False})
    s.emit(op, "dense", attrs, [x.ref])


def matmul(s: Lowering, op: Op) -> None:
    raise s.fail("a product of two computed tensors (attention); archcalc has no layer for "
                 "it", op)


# --- resampling ----------------------------------------------------------------------------
#: (coordinate_transformation_mode, nearest_mode) pairs under which nearest resizing by an
#: integer factor copies x[⌊i / s⌋], as archcalc's upsample does
_NEAREST_FLOOR = {("asymmetric", "floor"), ("half_pixel", "round_prefer_floor"),
                  ("half_pixel", "round_prefer_ceil"), ("pytorch_half_pixel", "round_prefer_floor"),
                  ("pytorch_half_pixel", "round_prefer_ceil")}
#: ONNX's coordinate modes of a linear resize → archcalc's align_corners (PyTorch's)
_LINEAR_COORDS = {"half_pixel": False, "pytorch_half_pixel": False, "align_corners": True}
_LINEAR = {1: "linear", 2: "bilinear", 3: "trilinear"}


def resize(s: Lowering, op: Op) -> None:
    """Resize (and the old Upsample): nearest, or linear in 1-D to 3-D, by integer scales
    or to sizes, under the coordinate rules PyTorch's interpolate uses."""
    x = _spatial_input(s, op)
    rank = len(x.shape) - 2
    mode = op.attrs.get("mode", "nearest")
    coords = op.attrs.get("coordinate_transformation_mode",
                          "half_pixel" if op.op == "Resize" else "asymmetric")
    nearest = op.attrs.get("nearest_mode", "round_prefer_floor" if op.op == "Resize" else "floor")
    sizes = None
    if op.op == "Resize":
        axes = [int(a) % len(x.shape) for a in op.attrs.get("axes", range(len(x.shape)))]
        if s.has(op, 2) and math.prod(s.const(op, 2).shape):
            factors = dict(zip(axes, s.numbers(op, 2, "scales")))
        elif s.has(op, 3):
            sizes = dict(zip(axes, s.numbers(op, 3, "sizes")))
            factors = {a: sizes[a] / x.shape[a] for a in axes}
        elif s.has(op, 1) and s.g.opset == 10:
            factors = dict(enumerate(s.numbers(op, 1, "scales")))
        else:
            raise s.fail("neither scales nor sizes are given", op)
        if op.attrs.get("keep_aspect_ratio_policy", "stretch") != "stretch":
            raise s.fail("keep_aspect_ratio_policy other than stretch", op)
    else:
        factors = dict(enumerate(op.attrs.get("scales") or s.numbers(op, 1, "scales")))
    if factors.get(0, 1) != 1 or factors.get(1, 1) != 1:
        raise s.fail("resizes the batch or channel axis; archcalc resizes the spatial axes", op)
    spatial = [float(factors.get(a, 1)) for a in range(2, rank + 2)]
    out = [sizes[a] if sizes and a in sizes else math.floor(x.shape[a] * f)
           for a, f in zip(range(2, rank + 2), spatial)]
    integer = all(f >= 1 and f == int(f) for f in spatial)
    if mode == "nearest":
        if (coords, nearest) not in _NEAREST_FLOOR or (not integer and (coords, nearest) !=
                                                       ("asymmetric", "floor")):
            raise s.fail(f"nearest resize with {coords}/{nearest} does not copy x[⌊j·n/m⌋] "
                         f"(PyTorch's nearest)", op)
        attrs = {}
    elif mode == "linear":
        if coords not in _LINEAR_COORDS:
            raise s.fail(f"linear resize with coordinate mode {coords}; archcalc's follows "
                         f"PyTorch (half_pixel, or align_corners)", op)
        attrs = {"mode": _LINEAR[rank]}
        if _LINEAR_COORDS[coords]:
            attrs["align_corners"] = True
    else:
        raise s.fail(f"resize mode '{mode}'; archcalc interpolates nearest and linear", op)
    if integer and not sizes:
        attrs["scale"] = _axes(int(f) for f in spatial)
    else:
        attrs["size"] = _axes(int(m) for m in out)
    s.emit(op, "upsample", attrs, [x.ref])


# --- archcalc's own layer types ---------------------------------------------------------
def archcalc_layer(s: Lowering, op: Op) -> None:
    """A node archcalc's exporter wrote in its own domain (a layer type with no ONNX
    operator): its type and attributes are on the node, its data inputs come first."""
    kind = op.op.split(":", 1)[1]
    # one function per variant: adaptive_avgpool2d (its Einsum), multiply3 (its chain)
    kind = kind if kind in REGISTRY else re.sub(r"\d+d?$", "", kind)
    if kind not in REGISTRY:
        raise s.fail(f"archcalc has no layer type '{kind}'", op)
    try:
        attrs = json.loads(op.attrs.get("spec", "{}"))
        layer = fields.build(REGISTRY[kind], attrs)
    except (ValueError, TypeError):
        raise s.fail("its 'spec' attribute is not a JSON mapping of layer attributes", op) from None
    except Exception as err:  # noqa: BLE001 - an ArchcalcError, located here
        raise s.fail(f"as archcalc's {kind}: {getattr(err, 'message', err)}", op) from None
    count = len(op.inputs) if layer.arity is None else layer.arity
    refs = [s.exact(op, i) for i in range(count)]
    s.emit(op, kind, attrs, refs)


# --- constants -------------------------------------------------------------------------------
CONSTANT_OPS = ("Shape", "Gather", "Concat", "Unsqueeze", "Squeeze", "Cast", "Slice", "Add",
                "Sub", "Mul", "Div", "Reshape", "ConstantOfShape", "Identity", "Transpose",
                "Range", "Equal", "Where", "Floor", "Ceil", "Neg", "ReduceProd", "Size", "Expand",
                "Max", "Min", "Sqrt", "Constant")


def constant(s: Lowering, op: Op) -> None:
    from .constants import evaluate

    try:
        values = evaluate(s, op)
    except ArithmeticError as err:
        raise s.fail(f"cannot evaluate this constant computation: {err}", op) from None
    for i, v in enumerate(values):
        s.bind(op, v, i)


def shape(s: Lowering, op: Op) -> None:
    import numpy as np

    x = s.value(op, 0)
    dims = list(x.shape)
    start, end = op.attrs.get("start", 0), op.attrs.get("end")
    dims = dims[start:end] if end is not None else dims[start:]
    s.bind(op, Const((len(dims),), np.array(dims, dtype=np.int64), weight=False))


HANDLERS = {
    "Conv": conv, "ConvTranspose": conv_transpose, "Pad": pad, "MaxPool": maxpool, "AveragePool": avgpool, "GlobalAveragePool": gap,
    "ReduceMean": reduce_mean,
    "BatchNormalization": batchnorm, "InstanceNormalization": instancenorm,
    "GroupNormalization": groupnorm, "LayerNormalization": layernorm, "LRN": lrn,
    "Relu": _simple("relu"), "Sigmoid": _simple("sigmoid"), "Tanh": _simple("tanh"),
    "HardSwish": _simple("hardswish"), "Mish": _simple("mish"), "Silu": _simple("silu"),
    "Clip": clip, "LeakyRelu": leaky_relu, "Elu": elu, "HardSigmoid": hardsigmoid, "Gelu": gelu,
    "Softmax": softmax, "PRelu": prelu,
    "Add": add, "Sum": add, "Mul": mul, "Concat": concat,
    "Flatten": flatten, "Reshape": reshape, "Squeeze": squeeze, "Unsqueeze": unsqueeze,
    "Transpose": transpose, "Identity": identity, "Dropout": dropout, "Cast": cast,
    "Gemm": gemm, "Linear": linear, "MatMul": matmul,
    "Resize": resize, "Upsample": resize,
    "Shape": shape, "Slice": slice_,
}

__all__ = ["HANDLERS", "apply"]
