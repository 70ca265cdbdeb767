"""Reading a PyTorch ``nn.Module``: traced by ``torch.fx`` into an
:class:`~archcalc.io.opgraph.OpGraph` (ops in ONNX's spelling, so the ONNX lowering maps
them), with every tensor's shape from ``ShapeProp`` on fake tensors — no arithmetic is
done and no weight is read, so a 138-million-parameter VGG traces in a blink.  Where fx
cannot trace (data-dependent control flow), torch's ONNX exporter runs the module once
and the ONNX reader takes over.

Module leaves map by type (Conv1d/2d/3d, BatchNorm*, ReLU…, MaxPool*, AvgPool*,
AdaptiveAvgPool*, Linear, Dropout, Flatten, LayerNorm, GroupNorm, InstanceNorm*,
LocalResponseNorm, Identity, Softmax, Upsample, ChannelShuffle, torchvision's
StochasticDepth); functions and methods by name (``torch.flatten``, ``+``, ``*``,
``torch.cat``, ``F.relu`` and the other activations, ``view``/``reshape`` — whose target
is read from the traced shape, so ``x.size(0)`` needs no evaluation —, ``permute``,
``transpose``, ``mean``).  Values that are not tensors (sizes, shapes) are dropped.
"""
from __future__ import annotations

import importlib
import operator

from ..errors import ArchcalcError, quoted
from .opgraph import Const, Op, OpGraph

#: module classes torchvision defines whose forward is a layer archcalc has
_LEAF_NAMES = ("StochasticDepth",)


def torch_module():
    try:
        import torch
        import torch.fx  # noqa: F401
    except ImportError:
        raise ArchcalcError("importing a PyTorch module needs torch: pip install "
                            "'archcalc[torch]' (or pip install torch)") from None
    return torch


def callable_document(ref: str, input_shape: tuple, via: str = "auto") -> dict:
    """The spec document of ``module:callable`` (called with no arguments)."""
    module_name, _, attr = ref.partition(":")
    if not module_name or not attr:
        raise ArchcalcError(f"expected module:callable, got '{quoted(ref)}'")
    torch = torch_module()
    try:
        target = importlib.import_module(module_name)
    except Exception as err:  # noqa: BLE001 - any import failure is the user's module
        raise ArchcalcError(f"cannot import module '{quoted(module_name)}': "
                            f"{type(err).__name__}: {quoted(err)}") from None
    for part in attr.split("."):
        if not hasattr(target, part):
            raise ArchcalcError(f"module '{quoted(module_name)}' has no '{quoted(attr)}'")
        target = getattr(target, part)
    if not callable(target):
        raise ArchcalcError(f"'{quoted(ref)}' is not callable")
    try:
        with torch.device("meta"):  # the module tree without initialising any weight
            module = target()
    except Exception:  # noqa: BLE001 - some constructors need real tensors: build normally
        try:
            module = target()
        except Exception as err:  # noqa: BLE001
            raise ArchcalcError(f"calling {quoted(ref)}() failed: {type(err).__name__}: "
                                f"{quoted(err)}") from None
    if not isinstance(module, torch.nn.Module):
        raise ArchcalcError(f"{quoted(ref)}() returned {type(module).__name__}, not a "
                            f"torch.nn.Module")
    return torch_document(module, input_shape, attr.split(".")[-1], via, shown=ref)


def torch_document(module, input_shape: tuple, name: str | None = None, via: str = "auto",
                   shown: str | None = None) -> dict:
    """The spec document of ``module`` on one sample of ``input_shape``."""
    from .lower import lower

    torch = torch_module()
    name = name or type(module).__name__
    shown = shown or name
    if not 2 <= len(input_shape) <= 4 or not all(isinstance(d, int) and d > 0 for d in input_shape):
        raise ArchcalcError(f"the input must be C,L or C,H,W or C,D,H,W positive sizes, got "
                            f"{input_shape}")
    module = module.eval()
    if via in ("auto", "fx"):
        try:
            graph = fx_graph(module, input_shape, shown)
        except _TraceFailed as err:
            if via == "fx":
                raise ArchcalcError(f"torch.fx cannot trace {quoted(shown)}: {err}") from None
            graph = exported_graph(torch, module, input_shape, shown)
    else:
        graph = exported_graph(torch, module, input_shape, shown)
    return lower(graph, name, f"imported from PyTorch {type(module).__name__}", graph.source)


class _TraceFailed(Exception):
    pass


def exported_graph(torch, module, input_shape, shown: str) -> OpGraph:
    """torch's ONNX exporter (TorchScript-based; batch norm kept, parameters left out)."""
    import io

    from . import onnx_in

    if any(p.is_meta for p in module.parameters()) or any(b.is_meta for b in module.buffers()):
        module = module.to_empty(device="cpu")
    buffer = io.BytesIO()
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, (torch.zeros((1,) + tuple(input_shape)),), buffer,
                              dynamo=False, export_params=False, do_constant_folding=False,
                              input_names=["input"])
    except Exception as err:  # noqa: BLE001
        raise ArchcalcError(f"neither torch.fx nor torch.onnx.export can trace "
                            f"{quoted(shown)}: {type(err).__name__}: {quoted(err)}") from None
    onnx = onnx_in.onnx_module()
    model = onnx.ModelProto()
    model.ParseFromString(buffer.getvalue())
    graph = onnx_in.graph(model, shown, None)
    graph.source = f"PyTorch {type(module).__name__}, through torch.onnx.export (opset {graph.opset})"
    return graph


def fx_graph(module, input_shape: tuple, shown: str) -> OpGraph:
    torch = torch_module()
    from torch.fx.passes.shape_prop import ShapeProp

    class Tracer(torch.fx.Tracer):
        def is_leaf_module(self, m, qualname):
            return type(m).__name__ in _LEAF_NAMES or super().is_leaf_module(m, qualname)

    try:
        tracer = Tracer()
        graph = tracer.trace(module)
        gm = torch.fx.GraphModule(tracer.root, graph)
    except Exception as err:  # noqa: BLE001 - fx's TraceError and whatever user code raises
        raise _TraceFailed(f"{type(err).__name__}: {quoted(str(err).splitlines()[0] if str(err) else '')}") from None
    device = next((t.device for t in [*module.parameters(), *module.buffers()]), "cpu")
    x = torch.zeros((1,) + tuple(input_shape), device=device)
    try:
        import contextlib
        import io

        from torch._subclasses.fake_tensor import FakeTensorMode

        with contextlib.redirect_stderr(io.StringIO()):  # ShapeProp prints what it raises
            ShapeProp(gm, fake_mode=FakeTensorMode(allow_non_fake_inputs=True)).propagate(x)
    except Exception as err:  # noqa: BLE001
        raise _TraceFailed(f"shape propagation failed: {type(err).__name__}: {quoted(err)}") from None
    return _Converter(gm, shown).run(input_shape)


def _shape(node):
    meta = node.meta.get("tensor_meta") if hasattr(node, "meta") else None
    return tuple(int(d) for d in meta.shape) if meta is not None and hasattr(meta, "shape") else None


class _Converter:
    def __init__(self, gm, shown: str):
        self.gm, self.shown = gm, shown
        self.modules = dict(gm.named_modules())
        self.ops, self.consts, self.declared = [], {}, {}
        self.names = {}  # fx node → value name
        self.input = None
        self.count = 0

    def fail(self, node, message: str) -> ArchcalcError:
        return ArchcalcError(f"{self.where(node)}: {message}", file=self.shown)

    def where(self, node) -> str:
        what = node.target if node.op == "call_module" else getattr(node.target, "__name__", node.target)
        return f"node '{quoted(self.path(node))}' ({quoted(what)})"

    def path(self, node) -> str:
        if node.op == "call_module":
            return str(node.target)
        stack = node.meta.get("nn_module_stack") or {}
        scope = next(reversed(stack.values()))[0] if stack else ""
        scope = scope if isinstance(scope, str) else ""
        return f"{scope}.{node.name}" if scope else node.name

    def run(self, input_shape) -> OpGraph:
        import torch

        output = None
        for node in self.gm.graph.nodes:
            if node.op == "placeholder":
                if self.input is not None:
                    raise self.fail(node, "a second input; archcalc models have one")
                self.input = node.name
                self.names[node] = node.name
            elif node.op == "get_attr":
                value = _fetch(self.gm, node.target)
                if isinstance(value, torch.Tensor):
                    self.constant(node, value, isinstance(value, torch.nn.Parameter))
            elif node.op == "output":
                output = node.args[0]
            else:
                shape = _shape(node)
                if shape is None:
                    continue  # sizes, shapes, tuples: read from the traced shapes instead
                self.declared[node.name] = shape
                self.names[node] = node.name
                self.convert(node, shape)
        outs = [self.names[o] for o in _tensors(output) if o in self.names]
        if not outs:
            raise ArchcalcError("the module returns no tensor", file=self.shown)
        return OpGraph(self.shown, self.input, (1,) + tuple(input_shape), self.consts,
                       self.ops, tuple(outs), 0, f"PyTorch module {self.shown}, traced by torch.fx",
                       self.declared)

    # --- values ----------------------------------------------------------------------
    def constant(self, node, tensor, weight: bool) -> str:
        name = node.name if hasattr(node, "name") else str(node)
        value = tensor.detach().cpu().numpy() if not tensor.is_meta and \
            tensor.numel() <= 4096 and not _is_fake(tensor) else None
        self.consts[name] = Const(tuple(tensor.shape), value, weight)
        self.names[node] = name
        return name

    def param(self, owner: str, key: str, tensor, shape=None) -> str:
        name = f"{owner}.{key}"
        self.consts[name] = Const(tuple(shape or tensor.shape), None, True)
        return name

    def scalar(self, value) -> str:
        import numpy as np

        self.count += 1
        name = f"scalar{self.count}"
        self.consts[name] = Const((), np.array(value, dtype=np.float32 if isinstance(value, float)
                                                else np.int64), False)
        return name

    def arg(self, node, value) -> str:
        import torch

        if isinstance(value, torch.fx.Node):
            if value not in self.names:
                raise self.fail(node, f"reads '{value.name}', which is not a tensor archcalc "
                                      f"follows")
            return self.names[value]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return self.scalar(value)
        raise self.fail(node, f"an argument {quoted(repr(value))} archcalc cannot read")

    def emit(self, node, op: str, inputs: list, **attrs) -> None:
        self.ops.append(Op(op, self.path(node), tuple(inputs), (node.name,), attrs))

    # --- nodes -------------------------------------------------------------------------
    def convert(self, node, shape) -> None:
        if node.op == "call_module":
            m = self.modules[node.target]
            kind = type(m).__name__
            handler = _MODULES.get(kind) or next(
                (h for k, h in _MODULES.items() if k.endswith("*") and kind.startswith(k[:-1])), None)
            if handler is None:
                raise self.fail(node, f"module type {kind} has no archcalc mapping "
                                      f"(docs/import-export.md)")
            return handler(self, node, m)
        name = node.target if node.op == "call_method" else getattr(node.target, "__name__", "")
        handler = _FUNCTIONS.get(name)
        if node.op == "call_function" and node.target in (operator.add, operator.iadd):
            handler = _FUNCTIONS["add"]
        elif node.op == "call_function" and node.target in (operator.mul, operator.imul):
            handler = _FUNCTIONS["mul"]
        if handler is None:
            raise self.fail(node, f"{'method' if node.op == 'call_method' else 'function'} "
                                  f"'{quoted(name)}' has no archcalc mapping (docs/import-export.md)")
        handler(self, node)

    def x(self, node, i: int = 0) -> str:
        return self.arg(node, node.args[i] if i < len(node.args) else node.kwargs.get("input"))

    def get(self, node, i: int, key: str, default=None):
        if i < len(node.args):
            return node.args[i]
        return node.kwargs.get(key, default)


def _is_fake(tensor) -> bool:
    return type(tensor).__name__ == "FakeTensor"


def _fetch(gm, target: str):
    value = gm
    for part in target.split("."):
        value = getattr(value, part)
    return value


def _tensors(value):
    import torch

    if isinstance(value, torch.fx.Node):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors(v)]
    return []


def _pair(value, rank: int) -> list:
    return list(value) if isinstance(value, (tuple, list)) else [value] * rank


# --- modules --------------------------------------------------------------------------------
def _conv(c: _Converter, node, m) -> None:
    rank = len(m.kernel_size)
    if m.padding_mode != "zeros":
        raise c.fail(node, f"padding_mode '{m.padding_mode}'; archcalc pads with zeros")
    if isinstance(m.padding, str):
        if m.padding == "valid":
            pads = [0] * (2 * rank)
        else:  # 'same' (stride 1): PyTorch puts the odd cell after
            totals = [d * (k - 1) for d, k in zip(m.dilation, m.kernel_size)]
            pads = [t // 2 for t in totals] + [t - t // 2 for t in totals]
    else:
        pads = list(m.padding) * 2
    inputs = [c.x(node), c.param(node.target, "weight", m.weight)]
    if m.bias is not None:
        inputs.append(c.param(node.target, "bias", m.bias))
    c.emit(node, "Conv", inputs, kernel_shape=list(m.kernel_size), strides=list(m.stride),
           pads=pads, dilations=list(m.dilation), group=m.groups)


def _conv_transpose(c: _Converter, node, m) -> None:
    if m.padding_mode != "zeros":
        raise c.fail(node, f"padding_mode '{m.padding_mode}'")
    inputs = [c.x(node), c.param(node.target, "weight", m.weight)]
    if m.bias is not None:
        inputs.append(c.param(node.target, "bias", m.bias))
    c.emit(node, "ConvTranspose", inputs, kernel_shape=list(m.kernel_size),
           strides=list(m.stride), pads=list(m.padding) * 2, dilations=list(m.dilation),
           output_padding=list(m.output_padding), group=m.groups)


#: torch's padding modules → ONNX Pad's modes
_PADS = {"ZeroPad": "constant", "ConstantPad": "constant", "ReflectionPad": "reflect",
         "ReplicationPad": "edge", "CircularPad": "wrap"}


def _pad_module(c: _Converter, node, m) -> None:
    kind = next(v for k, v in _PADS.items() if type(m).__name__.startswith(k))
    _pad_widths(c, node, list(m.padding), kind, float(getattr(m, "value", 0.0)))


def _pad_widths(c: _Converter, node, widths: list, mode: str, value: float) -> None:
    """F.pad's widths (last axis first, before and after) as ONNX pads."""
    import numpy as np

    rank = len(c.declared[node.name])
    pairs = [(widths[i], widths[i + 1]) for i in range(0, len(widths), 2)][::-1]
    pairs = [(0, 0)] * (rank - len(pairs)) + pairs
    pads = [b for b, _ in pairs] + [a for _, a in pairs]
    name = c.scalar(0)
    c.consts[name] = Const((len(pads),), np.array(pads, np.int64), False)
    inputs = [c.x(node), name]
    if mode == "constant":
        inputs.append(c.scalar(float(value)))
    c.emit(node, "Pad", inputs, mode=mode)


def _fn_pad(c: _Converter, node) -> None:
    mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
            "circular": "wrap"}.get(c.get(node, 2, "mode", "constant"))
    if mode is None:
        raise c.fail(node, f"pad mode {c.get(node, 2, 'mode')!r}")
    value = c.get(node, 3, "value", None)
    _pad_widths(c, node, list(c.get(node, 1, "pad")), mode, 0.0 if value is None else value)


def _batchnorm(c: _Converter, node, m) -> None:
    if not m.affine:
        raise c.fail(node, "batch norm without affine γ, β; archcalc's batchnorm trains both")
    t = node.target
    c.emit(node, "BatchNormalization",
           [c.x(node), c.param(t, "weight", m.weight), c.param(t, "bias", m.bias),
            c.param(t, "running_mean", m.weight), c.param(t, "running_var", m.weight)],
           epsilon=m.eps)


def _norm(op: str):
    def convert(c: _Converter, node, m) -> None:
        t = node.target
        channels = getattr(m, "num_channels", None) or getattr(m, "num_features", None)
        if op == "LayerNormalization":
            if len(m.normalized_shape) != 1:
                raise c.fail(node, f"normalises {tuple(m.normalized_shape)}; archcalc's layernorm "
                                   f"is over one axis (the channels or features)")
            channels = m.normalized_shape[0]
        affine = getattr(m, "elementwise_affine", getattr(m, "affine", False))
        if affine:
            weight = c.param(t, "weight", m.weight)
            bias = c.param(t, "bias", m.bias) if m.bias is not None else ""
        else:
            weight = _fixed(c, f"{t}.ones", channels)
            bias = _fixed(c, f"{t}.zeros", channels)
        attrs = {"epsilon": m.eps}
        if op == "GroupNormalization":
            attrs["num_groups"] = m.num_groups
        if op == "LayerNormalization":
            attrs["axis"] = -1
        c.emit(node, op, [c.x(node), weight, bias], **attrs)
    return convert


def _fixed(c: _Converter, name: str, channels: int) -> str:
    c.consts[name] = Const((channels,), None, False)
    return name


def _act(op: str, **fixed):
    def convert(c: _Converter, node, m=None) -> None:
        c.emit(node, op, [c.x(node)], **fixed)
    return convert


def _pool(op: str):
    def convert(c: _Converter, node, m) -> None:
        rank = len(c.declared[node.name]) - 2
        if getattr(m, "return_indices", False):
            raise c.fail(node, "return_indices: archcalc's maxpool gives values only")
        if getattr(m, "divisor_override", None):
            raise c.fail(node, "divisor_override: archcalc divides by the window")
        kernel = _pair(m.kernel_size, rank)
        stride = _pair(m.stride if m.stride else m.kernel_size, rank)
        attrs = {"kernel_shape": kernel, "strides": stride,
                 "pads": _pair(m.padding, rank) * 2, "ceil_mode": int(m.ceil_mode)}
        if op == "MaxPool":
            attrs["dilations"] = _pair(m.dilation, rank)
        else:
            attrs["count_include_pad"] = int(m.count_include_pad)
        c.emit(node, op, [c.x(node)], **attrs)
    return convert


def _adaptive(c: _Converter, node, m=None, output=None) -> None:
    import json

    shape = c.declared[node.name]
    out = list(shape[2:])
    if all(o == 1 for o in out):
        return c.emit(node, "GlobalAveragePool", [c.x(node)])
    c.emit(node, "archcalc:adaptive_avgpool", [c.x(node)],
           spec=json.dumps({"output": out[0] if len(set(out)) == 1 else out}))


def _linear(c: _Converter, node, m) -> None:
    inputs = [c.x(node), c.param(node.target, "weight", m.weight)]
    if m.bias is not None:
        inputs.append(c.param(node.target, "bias", m.bias))
    c.emit(node, "Linear", inputs, transposed=True)


def _flatten_module(c: _Converter, node, m) -> None:
    _flatten_args(c, node, m.start_dim, m.end_dim)


def _flatten_args(c: _Converter, node, start, end) -> None:
    rank = len(c.declared[node.args[0].name]) if node.args[0].name in c.declared else 0
    if start != 1 or end not in (-1, rank - 1):
        raise c.fail(node, f"flattens dims {start}..{end}; archcalc flattens everything after "
                           f"the batch axis")
    c.emit(node, "Flatten", [c.x(node)], axis=1)


def _prelu(c: _Converter, node, m) -> None:
    rank = len(c.declared[node.name])
    n = m.weight.shape[0]
    shape = (n,) + (1,) * (rank - 2) if n > 1 else (1,)
    c.emit(node, "PRelu", [c.x(node), c.param(node.target, "weight", m.weight, shape)])


def _lrn(c: _Converter, node, m) -> None:
    c.emit(node, "LRN", [c.x(node)], size=m.size, alpha=m.alpha, beta=m.beta, bias=m.k)


def _upsample(c: _Converter, node, m) -> None:
    _resize(c, node, m.mode, m.align_corners)


def _resize(c: _Converter, node, mode: str = "nearest", align_corners=None) -> None:
    """nn.Upsample / F.interpolate as an ONNX Resize to the traced output size."""
    import numpy as np

    if mode not in ("nearest", "linear", "bilinear", "trilinear"):
        raise c.fail(node, f"interpolation mode '{mode}'; archcalc interpolates nearest and "
                           f"(bi/tri)linear")
    out = c.declared[node.name]
    name = c.scalar(0)
    c.consts[name] = Const((len(out) - 2,), np.array(out[2:], np.int64), False)
    attrs = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric",
             "nearest_mode": "floor"} if mode == "nearest" else \
        {"mode": "linear", "coordinate_transformation_mode":
         "align_corners" if align_corners else "half_pixel"}
    c.emit(node, "Resize", [c.x(node), "", "", name], axes=list(range(2, len(out))), **attrs)


def _shuffle(c: _Converter, node, m) -> None:
    import json

    c.emit(node, "archcalc:channel_shuffle", [c.x(node)], spec=json.dumps({"groups": m.groups}))


def _stochastic(c: _Converter, node, m) -> None:
    import json

    c.emit(node, "archcalc:stochastic_depth", [c.x(node)], spec=json.dumps({"rate": m.p}))


def _dropout(c: _Converter, node, m) -> None:
    c.emit(node, "Dropout", [c.x(node)], ratio=float(m.p))


def _softmax_module(c: _Converter, node, m) -> None:
    c.emit(node, "Softmax", [c.x(node)], axis=m.dim if m.dim is not None else 1)


_MODULES = {
    "Conv1d": _conv, "Conv2d": _conv, "Conv3d": _conv,
    "ConvTranspose1d": _conv_transpose, "ConvTranspose2d": _conv_transpose,
    "ConvTranspose3d": _conv_transpose,
    **{f"{kind}{d}d": _pad_module for kind in _PADS for d in (1, 2, 3)},
    "BatchNorm1d": _batchnorm, "BatchNorm2d": _batchnorm, "BatchNorm3d": _batchnorm,
    "LayerNorm": _norm("LayerNormalization"), "GroupNorm": _norm("GroupNormalization"),
    "InstanceNorm1d": _norm("InstanceNormalization"), "InstanceNorm2d": _norm("InstanceNormalization"),
    "InstanceNorm3d": _norm("InstanceNormalization"), "LocalResponseNorm": _lrn,
    "ReLU": _act("Relu"), "ReLU6": _act("Clip", min=0.0, max=6.0), "Sigmoid": _act("Sigmoid"),
    "Tanh": _act("Tanh"), "SiLU": _act("Silu"), "Hardswish": _act("HardSwish"),
    "Hardsigmoid": _act("HardSigmoid", alpha=1 / 6, beta=0.5), "Mish": _act("Mish"),
    "GELU": lambda c, n, m: c.emit(n, "Gelu", [c.x(n)], approximate=m.approximate),
    "LeakyReLU": lambda c, n, m: c.emit(n, "LeakyRelu", [c.x(n)], alpha=m.negative_slope),
    "ELU": lambda c, n, m: c.emit(n, "Elu", [c.x(n)], alpha=m.alpha),
    "Hardtanh": lambda c, n, m: c.emit(n, "Clip", [c.x(n)], min=m.min_val, max=m.max_val),
    "PReLU": _prelu, "Softmax": _softmax_module,
    "MaxPool1d": _pool("MaxPool"), "MaxPool2d": _pool("MaxPool"), "MaxPool3d": _pool("MaxPool"),
    "AvgPool1d": _pool("AveragePool"), "AvgPool2d": _pool("AveragePool"),
    "AvgPool3d": _pool("AveragePool"),
    "AdaptiveAvgPool1d": _adaptive, "AdaptiveAvgPool2d": _adaptive, "AdaptiveAvgPool3d": _adaptive,
    "Linear": _linear, "Flatten": _flatten_module, "Identity": _act("Identity"),
    "Dropout": _dropout, "Dropout1d": _dropout, "Dropout2d": _dropout, "Dropout3d": _dropout,
    "AlphaDropout": _dropout,
    "Upsample": _upsample, "UpsamplingNearest2d": _upsample, "ChannelShuffle": _shuffle,
    "StochasticDepth": _stochastic,
}


# --- functions and methods ------------------------------------------------------------------
def _binary(op: str):
    def convert(c: _Converter, node) -> None:
        a, b = node.args[0], node.args[1] if len(node.args) > 1 else node.kwargs.get("other")
        if node.kwargs.get("alpha", 1) != 1:
            raise c.fail(node, "add with alpha; archcalc's add has no scaling")
        c.emit(node, op, [c.arg(node, a), c.arg(node, b)])
    return convert


def _cat(c: _Converter, node) -> None:
    tensors = node.args[0] if node.args else node.kwargs["tensors"]
    dim = c.get(node, 1, "dim", 0)
    c.emit(node, "Concat", [c.arg(node, t) for t in tensors], axis=dim)


def _flatten_fn(c: _Converter, node) -> None:
    _flatten_args(c, node, c.get(node, 1, "start_dim", 0), c.get(node, 2, "end_dim", -1))


def _reshape(c: _Converter, node) -> None:
    c.emit(node, "Reshape", [c.x(node)], shape=list(c.declared[node.name]))


def _permute(c: _Converter, node) -> None:
    dims = node.args[1:] if len(node.args) > 2 else c.get(node, 1, "dims")
    c.emit(node, "Transpose", [c.x(node)], perm=[int(d) for d in dims])


def _transpose(c: _Converter, node) -> None:
    rank = len(c.declared[node.name])
    a, b = int(c.get(node, 1, "dim0")) % rank, int(c.get(node, 2, "dim1")) % rank
    perm = list(range(rank))
    perm[a], perm[b] = b, a
    c.emit(node, "Transpose", [c.x(node)], perm=perm)


def _mean(c: _Converter, node) -> None:
    dims = c.get(node, 1, "dim")
    dims = [dims] if isinstance(dims, int) else list(dims or [])
    c.emit(node, "ReduceMean", [c.x(node)], axes=dims, keepdims=int(bool(c.get(node, 2, "keepdim", False))))


def _fn_act(op: str, **fixed):
    def convert(c: _Converter, node) -> None:
        c.emit(node, op, [c.x(node)], **fixed)
    return convert


def _fn_softmax(c: _Converter, node) -> None:
    c.emit(node, "Softmax", [c.x(node)], axis=c.get(node, 1, "dim", 1))


def _fn_pool(op: str):
    def convert(c: _Converter, node) -> None:
        class Module:  # the module's attributes, from the call's arguments
            kernel_size = c.get(node, 1, "kernel_size")
            stride = c.get(node, 2, "stride", None) or kernel_size
            padding = c.get(node, 3, "padding", 0)
            dilation = c.get(node, 4, "dilation", 1) if op == "MaxPool" else 1
            ceil_mode = c.get(node, 5 if op == "MaxPool" else 4, "ceil_mode", False)
            count_include_pad = c.get(node, 5, "count_include_pad", True)
            return_indices = c.get(node, 6, "return_indices", False) if op == "MaxPool" else False
            divisor_override = c.get(node, 6, "divisor_override", None) if op != "MaxPool" else None
        _pool(op)(c, node, Module)
    return convert


def _layer_norm_fn(c: _Converter, node) -> None:
    weight = c.get(node, 2, "weight")
    bias = c.get(node, 3, "bias")
    shape = c.get(node, 1, "normalized_shape")
    if len(shape) != 1:
        raise c.fail(node, "normalises more than one axis; archcalc's layernorm is over one")
    w = c.arg(node, weight) if weight is not None else _fixed(c, f"{node.name}.ones", shape[0])
    b = c.arg(node, bias) if bias is not None else (_fixed(c, f"{node.name}.zeros", shape[0])
                                                     if weight is None else "")
    c.emit(node, "LayerNormalization", [c.x(node), w, b], axis=-1,
           epsilon=c.get(node, 4, "eps", 1e-5))


def _getitem(c: _Converter, node) -> None:
    """A piece of torch.chunk / torch.split along the channels, or x[:, a:b]: a Slice."""
    import torch

    src, index = node.args[0], node.args[1]
    if isinstance(src, torch.fx.Node) and src.op in ("call_function", "call_method") and \
            getattr(src.target, "__name__", src.target) in ("chunk", "split") and \
            isinstance(index, int):
        dim = c.get(src, 2, "dim", 0)
        metas = src.meta.get("tensor_meta")
        rank = len(metas[0].shape)
        if int(dim) % rank != 1:
            raise c.fail(node, "splits an axis other than the channels")
        sizes = [int(m.shape[1]) for m in metas]
        start = sum(sizes[:index])
        x = c.arg(node, src.args[0])
        return c.emit(node, "Slice", [x], starts=[start], ends=[start + sizes[index]], axes=[1])
    if isinstance(index, tuple) and len(index) >= 2 and index[0] == slice(None) and \
            isinstance(index[1], slice) and index[1].step in (None, 1) and \
            all(i == slice(None) for i in index[2:]):
        channels = c.declared[src.name][1]
        start, stop, _ = index[1].indices(channels)
        return c.emit(node, "Slice", [c.x(node)], starts=[start], ends=[stop], axes=[1])
    raise c.fail(node, f"indexing {quoted(repr(index))}; archcalc maps a range of channels")


def _pass(c: _Converter, node) -> None:
    c.emit(node, "Identity", [c.x(node)])


def _dropout_fn(c: _Converter, node) -> None:
    c.emit(node, "Dropout", [c.x(node)], ratio=float(c.get(node, 1, "p", 0.5)))


def _interpolate(c: _Converter, node) -> None:
    _resize(c, node, c.get(node, 3, "mode", "nearest"), c.get(node, 4, "align_corners", None))


_FUNCTIONS = {
    "add": _binary("Add"), "add_": _binary("Add"), "__iadd__": _binary("Add"),
    "mul": _binary("Mul"), "mul_": _binary("Mul"), "cat": _cat, "concat": _cat,
    "flatten": _flatten_fn, "view": _reshape, "reshape": _reshape,
    "permute": _permute, "transpose": _transpose, "mean": _mean, "contiguous": _pass,
    "relu": _fn_act("Relu"), "relu_": _fn_act("Relu"), "relu6": _fn_act("Clip", min=0.0, max=6.0),
    "sigmoid": _fn_act("Sigmoid"), "tanh": _fn_act("Tanh"), "silu": _fn_act("Silu"),
    "hardswish": _fn_act("HardSwish"), "hardsigmoid": _fn_act("HardSigmoid", alpha=1 / 6, beta=0.5),
    "gelu": lambda c, n: c.emit(n, "Gelu", [c.x(n)], approximate=n.kwargs.get("approximate", "none")),
    "mish": _fn_act("Mish"), "softmax": _fn_softmax,
    "leaky_relu": lambda c, n: c.emit(n, "LeakyRelu", [c.x(n)], alpha=c.get(n, 1, "negative_slope", 0.01)),
    "elu": lambda c, n: c.emit(n, "Elu", [c.x(n)], alpha=c.get(n, 1, "alpha", 1.0)),
    "dropout": _dropout_fn, "adaptive_avg_pool1d": _adaptive, "adaptive_avg_pool2d": _adaptive,
    "adaptive_avg_pool3d": _adaptive,
    "max_pool1d": _fn_pool("MaxPool"), "max_pool2d": _fn_pool("MaxPool"), "max_pool3d": _fn_pool("MaxPool"),
    "avg_pool1d": _fn_pool("AveragePool"), "avg_pool2d": _fn_pool("AveragePool"),
    "avg_pool3d": _fn_pool("AveragePool"), "layer_norm": _layer_norm_fn,
    "interpolate": _interpolate, "pad": _fn_pad, "getitem": _getitem,
    "squeeze": lambda c, n: c.emit(n, "Reshape", [c.x(n)], shape=list(c.declared[n.name])),
    "unsqueeze": lambda c, n: c.emit(n, "Reshape", [c.x(n)], shape=list(c.declared[n.name])),
}

__all__ = ["callable_document", "torch_document", "fx_graph"]
