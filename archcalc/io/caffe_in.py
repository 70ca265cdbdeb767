"""Caffe's ``deploy.prototxt`` (the format Netscope reads) into an
:class:`~archcalc.io.opgraph.OpGraph`.

The file states no weights, so each layer becomes archcalc's own layer type directly
(an ``archcalc:<type>`` op with its attributes): Convolution, Pooling (Caffe rounds pooled
sizes up: ``ceil_mode``), InnerProduct, ReLU, LRN, Dropout, Softmax, Concat, Eltwise
(sum, product), Deconvolution, BatchNorm followed by Scale (one batchnorm: Caffe splits the normalising
and the trainable γ, β), Sigmoid, TanH, ELU, PReLU, Flatten, Split; the input from
``input:``/``input_dim``, ``input_shape`` or an Input layer.  Both the current ``layer``
and the old ``layers`` (V1, upper-case type enums) forms are read.  In-place layers (top
equal to bottom, as ReLU usually is) are followed blob by blob.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import ArchcalcError, quoted
from .opgraph import Op, OpGraph
from .prototxt import Message, Word, read as read_text

#: V1 (``layers { type: CONVOLUTION }``) enum names → current type names
V1 = {"CONVOLUTION": "Convolution", "POOLING": "Pooling", "INNER_PRODUCT": "InnerProduct",
      "RELU": "ReLU", "LRN": "LRN", "DROPOUT": "Dropout", "SOFTMAX": "Softmax",
      "CONCAT": "Concat", "ELTWISE": "Eltwise", "SIGMOID": "Sigmoid", "TANH": "TanH",
      "FLATTEN": "Flatten", "SPLIT": "Split", "DATA": "Data", "SOFTMAX_LOSS": "SoftmaxWithLoss",
      "ACCURACY": "Accuracy", "DECONVOLUTION": "Deconvolution", "POWER": "Power"}
#: layer types of training nets that a deploy net leaves out; skipped
SKIPPED = ("Data", "ImageData", "HDF5Data", "MemoryData", "WindowData", "SoftmaxWithLoss",
           "Accuracy", "Silence", "EuclideanLoss", "SigmoidCrossEntropyLoss")


def _value(v, what: str, line: int, file: str):
    if isinstance(v, Word):
        return v.text
    return v


class _Reader:
    def __init__(self, net: Message, file: str):
        self.net, self.file = net, file
        self.ops: list[Op] = []
        self.blobs: dict[str, str] = {}   # blob → current value name
        self.count = 0
        self.input_name = None
        self.input_shape = None

    def fail(self, message: str, line: int | None = None) -> ArchcalcError:
        return ArchcalcError(message, file=self.file, line=line)

    def value(self, blob: str) -> str:
        self.count += 1
        name = f"{blob}@{self.count}"
        self.blobs[blob] = name
        return name

    def ints(self, msg: Message, key: str, line: int) -> list:
        values = msg.all(key)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise self.fail(f"'{key}' must be integers, got {values}", msg.line_of(key))
        return values

    def one_int(self, msg: Message, key: str, default: int | None) -> int | None:
        v = msg.get(key, default)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool)):
            raise self.fail(f"'{key}' must be an integer, got {quoted(v)}", msg.line_of(key))
        return v

    def number(self, msg: Message, key: str, default: float) -> float:
        v = msg.get(key, default)
        if isinstance(v, Word) or isinstance(v, str) or v is None:
            raise self.fail(f"'{key}' must be a number, got {quoted(v)}", msg.line_of(key))
        return float(v)

    def word(self, msg: Message, key: str, default: str) -> str:
        v = msg.get(key, Word(default))
        if not isinstance(v, Word):
            raise self.fail(f"'{key}' must be a name such as {default}, got {quoted(v)}",
                            msg.line_of(key))
        return v.text

    def param(self, layer: Message, key: str) -> Message:
        p = layer.get(key, Message(line=layer.line))
        if not isinstance(p, Message):
            raise self.fail(f"'{key}' must be a message {{ ... }}", layer.line_of(key))
        return p

    # --- the net -----------------------------------------------------------------------
    def run(self) -> OpGraph:
        net = self.net
        self.top_input(net)
        layers = [(v, "layer") for k, v, _ in net.fields if k in ("layer", "layers")]
        for layer, _ in layers:
            if not isinstance(layer, Message):
                raise self.fail("'layer' must be a message { ... }", net.line_of("layer"))
        messages = [layer for layer, _ in layers]
        i = 0
        while i < len(messages):
            i += self.layer(messages, i)
        if self.input_name is None:
            raise self.fail("no input shape: a deploy.prototxt declares input: with input_dim "
                            "or input_shape, or an Input layer")
        used = {name for op in self.ops for name in op.inputs}
        outputs = [v for v in self.blobs.values() if v not in used and v != self.input_name]
        if not outputs:
            raise self.fail("no layer computes anything from the input")
        return OpGraph(self.file, self.input_name, self.input_shape, {}, self.ops,
                       tuple(outputs), 0, f"Caffe net {self.file}"
                       + (f" ('{net.get('name')}')" if isinstance(net.get("name"), str) else ""))

    def top_input(self, net: Message) -> None:
        names = net.all("input")
        if not names:
            return
        if len(names) > 1:
            raise self.fail("the net declares several inputs; archcalc models have one",
                            net.line_of("input"))
        dims = self.ints(net, "input_dim", net.line_of("input_dim"))
        shape = net.get("input_shape")
        if not dims and isinstance(shape, Message):
            dims = self.ints(shape, "dim", shape.line)
        self.set_input(str(names[0]), dims, net.line_of("input"))

    def set_input(self, blob: str, dims: list, line: int) -> None:
        if self.input_name is not None:
            raise self.fail("a second input; archcalc models have one", line)
        if not 3 <= len(dims) <= 5 or any(d < 1 for d in dims):
            raise self.fail(f"the input shape must be N, C and 1 to 3 spatial sizes, got {dims}",
                            line)
        self.input_name = self.value(blob)
        self.input_shape = (1,) + tuple(dims[1:])

    def layer(self, messages: list, i: int) -> int:
        """Read layer ``i``; returns how many layers it consumed (BatchNorm takes its Scale)."""
        layer = messages[i]
        raw = layer.get("type")
        kind = V1.get(raw.text, raw.text) if isinstance(raw, Word) else raw
        name = layer.get("name", f"layer{i + 1}")
        if not isinstance(kind, str) or not isinstance(name, str):
            raise self.fail("a layer needs a quoted name and type", layer.line)
        if any(isinstance(inc, Message) and isinstance(inc.get("phase"), Word)
               and inc.get("phase").text == "TRAIN" for inc in layer.all("include")):
            return 1
        if kind in SKIPPED:
            return 1
        bottoms, tops = layer.all("bottom"), layer.all("top")
        if not all(isinstance(b, str) for b in bottoms + tops):
            raise self.fail("bottom and top name blobs in quotes", layer.line)
        if kind == "Input":
            shape = self.param(layer, "input_param").get("shape")
            if not isinstance(shape, Message) or len(tops) != 1:
                raise self.fail("an Input layer needs one top and input_param { shape { dim: "
                                "... } }", layer.line)
            self.set_input(tops[0], self.ints(shape, "dim", shape.line), layer.line)
            return 1
        ins = []
        for b in bottoms:
            if b not in self.blobs:
                raise self.fail(f"layer '{quoted(name)}' reads blob '{quoted(b)}', which no "
                                f"earlier layer makes", layer.line_of("bottom"))
            ins.append(self.blobs[b])
        if kind == "Split":
            for t in tops:
                self.blobs[t] = ins[0]
            return 1
        consumed = 1
        if kind == "BatchNorm":
            consumed = self.scale_after(messages, i, tops, name)
        op_type, attrs = self.mapping(kind, layer, name)
        if len(tops) != 1:
            raise self.fail(f"layer '{quoted(name)}' has {len(tops)} tops; archcalc reads one",
                            layer.line)
        outs = (self.value(tops[0]),)
        self.ops.append(Op(op_type, name, tuple(ins), outs, attrs, line=layer.line,
                           label=kind))
        return consumed

    def scale_after(self, messages: list, i: int, tops: list, name: str) -> int:
        nxt = messages[i + 1] if i + 1 < len(messages) else None
        scale = nxt is not None and nxt.get("type") in ("Scale", Word("SCALE")) and \
            nxt.all("bottom") == tops
        if not scale or not self.param(nxt, "scale_param").get("bias_term", Word("false")) == Word("true"):
            raise self.fail(f"BatchNorm '{quoted(name)}' is not followed by a Scale with "
                            f"bias_term: true; archcalc's batchnorm is the two together (γ, β)",
                            messages[i].line)
        tops[:] = nxt.all("top") or tops
        return 2

    def mapping(self, kind: str, layer: Message, name: str) -> tuple:
        spec = _SPEC.get(kind)
        if spec is not None:
            attrs = spec(self, layer)
            if isinstance(attrs, tuple):
                return attrs
            return f"archcalc:{attrs.pop('type')}", {"spec": json.dumps(attrs)}
        raise self.fail(f"layer '{quoted(name)}': type {quoted(kind)} is not one archcalc maps "
                        f"(docs/import-export.md lists the Caffe layers it reads)", layer.line)


def _axes2(r: _Reader, p: Message, key: str, default: int | None):
    """Caffe's kernel_size / stride / pad: one value, one per axis, or key_h and key_w."""
    values = r.ints(p, key, p.line_of(key))
    base = key.replace("_size", "")  # kernel_h, stride_h, pad_h
    h, w = r.one_int(p, f"{base}_h", None), r.one_int(p, f"{base}_w", None)
    if h is not None or w is not None:
        if h is None or w is None:
            raise r.fail(f"{base}_h and {base}_w go together", p.line)
        return h if h == w else [h, w]
    if not values:
        if default is None:
            raise r.fail(f"'{key}' is required", p.line)
        return default
    return values[0] if len(set(values)) == 1 else values


def _convolution(r: _Reader, layer: Message) -> dict:
    p = r.param(layer, "convolution_param")
    attrs = {"type": "conv", "filters": r.one_int(p, "num_output", None),
             "kernel": _axes2(r, p, "kernel_size", None)}
    if attrs["filters"] is None:
        raise r.fail("convolution_param needs num_output", p.line)
    for key, spec_key, default in (("stride", "stride", 1), ("pad", "padding", 0),
                                   ("dilation", "dilation", 1)):
        value = _axes2(r, p, key, default) if key != "dilation" else \
            (r.ints(p, key, p.line) or [1])[0]
        if value != default:
            attrs[spec_key] = value
    group = r.one_int(p, "group", 1)
    if group != 1:
        attrs["groups"] = group
    if p.get("bias_term", Word("true")) == Word("false"):
        attrs["bias"] = False
    return attrs


def _deconvolution(r: _Reader, layer: Message) -> dict:
    """Caffe's Deconvolution: convolution_param read as for Convolution, its pad cropped
    from both ends (PyTorch's ConvTranspose padding)."""
    attrs = _convolution(r, layer)
    attrs["type"] = "conv_transpose"
    if isinstance(attrs.get("padding"), list) and any(isinstance(p, list) for p in attrs["padding"]):
        raise r.fail("a Deconvolution crops both ends alike", layer.line)
    return attrs


def _pooling(r: _Reader, layer: Message):
    p = r.param(layer, "pooling_param")
    pool = r.word(p, "pool", "MAX")
    if pool not in ("MAX", "AVE"):
        raise r.fail(f"pool {pool}: archcalc maps MAX and AVE pooling", p.line_of("pool"))
    if p.get("global_pooling", Word("false")) == Word("true"):
        if pool != "AVE":
            raise r.fail("global max pooling has no archcalc layer", p.line)
        return {"type": "gap"}
    attrs = {"type": "maxpool" if pool == "MAX" else "avgpool",
             "kernel": _axes2(r, p, "kernel_size", None)}
    stride = _axes2(r, p, "stride", 1)
    if stride != attrs["kernel"]:
        attrs["stride"] = stride
    pad = _axes2(r, p, "pad", 0)
    if pad != 0:
        attrs["padding"] = pad
    attrs["ceil_mode"] = True  # Caffe's pooled size: ceil((in + 2p − k) / s) + 1
    return attrs


def _inner_product(r: _Reader, layer: Message) -> dict:
    p = r.param(layer, "inner_product_param")
    if r.one_int(p, "axis", 1) != 1:
        raise r.fail("inner product over an axis other than 1", p.line_of("axis"))
    attrs = {"type": "dense", "units": r.one_int(p, "num_output", None)}
    if attrs["units"] is None:
        raise r.fail("inner_product_param needs num_output", p.line)
    if p.get("bias_term", Word("true")) == Word("false"):
        attrs["bias"] = False
    return attrs


def _relu(r: _Reader, layer: Message):
    slope = r.number(r.param(layer, "relu_param"), "negative_slope", 0.0)
    return ("Relu", {}) if slope == 0 else ("LeakyRelu", {"alpha": slope})


def _lrn(r: _Reader, layer: Message):
    p = r.param(layer, "lrn_param")
    if r.word(p, "norm_region", "ACROSS_CHANNELS") != "ACROSS_CHANNELS":
        raise r.fail("LRN within channels has no archcalc layer (archcalc's is across channels)",
                     p.line)
    return {"type": "lrn", "size": r.one_int(p, "local_size", 5),
            "alpha": r.number(p, "alpha", 1.0), "beta": r.number(p, "beta", 0.75),
            "k": r.number(p, "k", 1.0)}


def _eltwise(r: _Reader, layer: Message):
    p = r.param(layer, "eltwise_param")
    op = r.word(p, "operation", "SUM")
    if op == "SUM":
        if any(c != 1 for c in p.all("coeff")):
            raise r.fail("a weighted Eltwise sum (coeff) has no archcalc layer", p.line)
        return ("Sum", {})
    if op == "PROD":
        return {"type": "multiply"}
    raise r.fail(f"Eltwise {op} has no archcalc layer", p.line_of("operation"))


def _concat(r: _Reader, layer: Message):
    p = r.param(layer, "concat_param")
    axis = r.one_int(p, "axis", r.one_int(p, "concat_dim", 1))
    names = {1: "channels", 2: "height", 3: "width"}
    if axis not in names:
        raise r.fail(f"concat along axis {axis}", p.line)
    return {"type": "concat"} | ({"axis": names[axis]} if axis != 1 else {})


def _softmax(r: _Reader, layer: Message):
    if r.one_int(r.param(layer, "softmax_param"), "axis", 1) != 1:
        raise r.fail("softmax over an axis other than the channels", layer.line)
    return ("Softmax", {"axis": 1})


def _batchnorm(r: _Reader, layer: Message):
    return {"type": "batchnorm", "eps": r.number(r.param(layer, "batch_norm_param"), "eps", 1e-5)}


def _prelu(r: _Reader, layer: Message):
    shared = r.param(layer, "prelu_param").get("channel_shared", Word("false")) == Word("true")
    return {"type": "prelu"} | ({} if shared else {"slopes": "per_channel"})


def _dropout(r: _Reader, layer: Message):
    return ("Dropout", {"ratio": r.number(r.param(layer, "dropout_param"), "dropout_ratio", 0.5)})


_SPEC = {
    "Convolution": _convolution, "Deconvolution": _deconvolution, "Pooling": _pooling, "InnerProduct": _inner_product,
    "ReLU": _relu, "LRN": _lrn, "Eltwise": _eltwise, "Concat": _concat, "Softmax": _softmax,
    "BatchNorm": _batchnorm, "PReLU": _prelu, "Dropout": _dropout,
    "Sigmoid": lambda r, layer: ("Sigmoid", {}), "TanH": lambda r, layer: ("Tanh", {}),
    "ELU": lambda r, layer: ("Elu", {"alpha": r.number(r.param(layer, "elu_param"), "alpha", 1.0)}),
    "Flatten": lambda r, layer: ("Flatten", {"axis": 1}),
}


def read(path: Path, shown: str, input_shape: tuple | None = None) -> OpGraph:
    graph = _Reader(read_text(path, shown), shown).run()
    if input_shape is not None:
        if len(input_shape) != len(graph.input_shape) - 1:
            raise ArchcalcError(f"--input gives {len(input_shape)} sizes; the net's input has "
                                f"{len(graph.input_shape) - 1}", file=shown)
        graph.input_shape = (1,) + tuple(input_shape)
    return graph


__all__ = ["read", "V1"]
