"""``archcalc export``: a model as an ONNX graph (opset :data:`OPSET`), to open in Netron or
run in any ONNX runtime.

Each row becomes the ONNX operators that compute it, the first of them named by the row's
path and marked in its ``doc_string`` ("archcalc row …") so that ``archcalc import`` reads
the row back as it was (an activation written as a row of its own is not folded into the
conv before it).  Tensors are named by the rows that make them; weights by row and
weight name (``conv1.weight``), in PyTorch's layouts (archcalc's ``init_weights``), seeded
as ``archcalc verify`` seeds them; with ``weights=False`` they are graph inputs with their
shapes instead.

A layer type ONNX has no operator for (LeNet-5's subsampling and RBF output, a conv with a
connection table, adaptive average pooling, crop, stochastic depth, a multiply of more
than two tensors) is written as a node of the ``archcalc`` domain calling a model-local
function: its body computes the layer from standard operators, so ONNX runtimes run it,
and its ``spec`` attribute holds the layer's attributes, so archcalc reads it back.
"""
from __future__ import annotations

import json

from ..core.graph import INPUT, Model
from ..core.shapes import Shape
from ..errors import ArchcalcError
from .onnx_in import DOMAIN, FOLD_MARK, ROW_MARK, onnx_module

OPSET = 21
IR_VERSION = 10
#: the spec attributes of the function-written types that the body reads as ONNX
#: attributes (besides the JSON ``spec``)
_BODY_ATTRS = ("kernel_shape", "strides", "pads", "dilations", "taps", "wshape", "starts",
               "ends", "axes", "m0", "m1", "m2")


class _ShapeRng:
    """Stands in for a generator when only the shapes of the weights are wanted: every
    draw is one zero seen through zero strides, so no weight is allocated."""

    def random(self, shape, dtype="float64"):
        import numpy as np
        from numpy.lib.stride_tricks import as_strided

        return as_strided(np.zeros(1, dtype=dtype), shape=tuple(shape), strides=(0,) * len(shape))


class _Writer:
    def __init__(self, onnx, weights: bool, seed: int):
        self.onnx = onnx
        self.h = onnx.helper
        self.with_weights = weights
        self.seed = seed
        self.nodes, self.inits, self.weight_inputs, self.infos = [], [], [], []
        self.functions = {}
        self.count = 0

    # --- values --------------------------------------------------------------------
    def tensor(self, name: str, array, weight: bool = True) -> str:
        """An initializer (or, for a weight without values, a graph input)."""
        import numpy as np

        array = np.asarray(array)
        if weight and not self.with_weights:
            self.weight_inputs.append(self.h.make_tensor_value_info(
                name, self.onnx.TensorProto.FLOAT, list(array.shape)))
            return name
        self.inits.append(self.onnx.numpy_helper.from_array(np.array(array, order="C"), name))
        return name

    def const(self, name: str, values, dtype="int64") -> str:
        import numpy as np

        return self.tensor(name, np.array(values, dtype=dtype), weight=False)

    def constant_node(self, name: str, array) -> str:
        """A Constant node: a fixed tensor that is not a trainable weight."""
        self.nodes.append(self.h.make_node("Constant", [], [name], name=f"{name}:const",
                                           value=self.onnx.numpy_helper.from_array(array, name)))
        return name

    def node(self, op: str, inputs: list, output: str, name: str, row: str | None = None,
             domain: str = "", folded: str | None = None, **attrs) -> str:
        doc = f"{ROW_MARK} {row}" if row else f"{FOLD_MARK} into {folded}" if folded else ""
        n = self.h.make_node(op, inputs, [output], name=name, domain=domain, doc_string=doc,
                             **attrs)
        self.nodes.append(n)
        return output

    def temp(self, path: str, what: str) -> str:
        self.count += 1
        return f"{path}:{what}"

    def function(self, kind: str, body, inputs: list, outputs: list):
        """The archcalc-domain function ``kind`` (made once)."""
        if kind not in self.functions:
            h = self.h
            self.functions[kind] = h.make_function(
                DOMAIN, kind, inputs, outputs, body, [h.make_opsetid("", OPSET)],
                attributes=["spec", *_BODY_ATTRS])
        return self.functions[kind]

    def ref(self, op: str, output: str, attr: str, ref: str, kind) -> "object":
        """A body node whose attribute ``attr`` is the calling node's attribute ``ref``."""
        n = self.onnx.NodeProto()
        n.op_type = op
        n.output.append(output)
        a = n.attribute.add()
        a.name, a.ref_attr_name, a.type = attr, ref, kind
        return n


def _pads(padding: tuple) -> list:
    return [b for b, _ in padding] + [a for _, a in padding]


def _window(layer, x: Shape) -> dict:
    g = layer.geometry(x)
    attrs = {"kernel_shape": list(g.kernel), "strides": list(g.stride)}
    if layer.padding == "same":
        attrs["auto_pad"] = "SAME_UPPER"
    else:
        attrs["pads"] = _pads(g.padding)
    return attrs


def _spec_json(layer, drop=("activation",)) -> str:
    """The layer's spec attributes as JSON (its values as a spec writes them)."""
    import dataclasses

    from ..spec.fields import spec_fields

    out = {}
    for name in spec_fields(type(layer)):
        value = getattr(layer, name)
        field = next(f for f in dataclasses.fields(layer) if f.name == name)
        if name in drop or value == field.default:
            continue
        if name == "stride" and value == getattr(layer, "kernel", None):
            continue  # a pool's default: its kernel
        out[name] = _plain(value)
    return json.dumps(out)


def _plain(value):
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def export(model: Model, input_shape: Shape | None = None, weights: bool = True,
           seed: int = 0):
    """The ONNX ModelProto of ``model`` at ``input_shape`` (default: its own)."""
    from ..core.engine import propagate
    from ..numeric.runner import layer_rng

    onnx = onnx_module()
    h = onnx.helper
    w = _Writer(onnx, weights, seed)
    rows = propagate(model, input_shape)
    shape = input_shape or model.input_shape
    import numpy as np

    for node, row in zip(model.nodes, rows):
        layer = row.layer
        x = layer.take(row.in_shapes)
        rng = layer_rng(seed, node.path) if weights else _ShapeRng()
        arrays = layer.init_weights(x, rng, np.dtype("float32"))
        try:
            _LAYERS[layer.type_name](w, node, layer, x, row.counts.out_shape, arrays)
        except KeyError:
            raise ArchcalcError(f"layer type '{layer.type_name}' has no ONNX form yet",
                                file=model.file, layer=node.path) from None
        w.infos.append(h.make_tensor_value_info(node.path, onnx.TensorProto.FLOAT,
                                                ["N", *row.counts.out_shape.dims]))
    out_shapes = {row.name: row.counts.out_shape for row in rows}
    graph = h.make_graph(
        w.nodes, model.name,
        [h.make_tensor_value_info(INPUT, onnx.TensorProto.FLOAT, ["N", *shape.dims])] + w.weight_inputs,
        [h.make_tensor_value_info(o, onnx.TensorProto.FLOAT, ["N", *out_shapes[o].dims])
         for o in model.outputs],
        initializer=w.inits,
        value_info=[i for i in w.infos if i.name not in model.outputs])
    graph.doc_string = model.description
    opsets = [h.make_opsetid("", OPSET)] + ([h.make_opsetid(DOMAIN, 1)] if w.functions else [])
    proto = h.make_model(graph, opset_imports=opsets, functions=list(w.functions.values()),
                         producer_name="archcalc", ir_version=IR_VERSION)
    proto.doc_string = f"{model.name}: {model.description}".strip(": ")
    return proto


# --- activations -------------------------------------------------------------------------
def activation(w: _Writer, name: str | None, x: str, y: str, path: str, rank: int,
               row: str | None = None, layer=None) -> str:
    """Activation ``name`` of ``x`` into ``y`` (nothing: ``x`` renamed by an Identity)."""
    if not name:
        return x
    mark = {} if row else {"folded": path}
    op = {"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid", "hardswish": "HardSwish",
          "mish": "Mish"}.get(name)
    if op:
        return w.node(op, [x], y, f"{path}:{name}" if not row else path, row, **mark)
    if name == "relu6":
        lo = w.const(f"{path}:min", 0.0, "float32")
        hi = w.const(f"{path}:max", 6.0, "float32")
        return w.node("Clip", [x, lo, hi], y, f"{path}:relu6" if not row else path, row, **mark)
    if name == "softmax":
        return w.node("Softmax", [x], y, f"{path}:softmax" if not row else path, row, **mark, axis=1)
    if name == "silu":
        s = w.node("Sigmoid", [x], f"{path}:sigmoid", f"{path}:sigmoid")
        return w.node("Mul", [x, s], y, f"{path}:silu" if not row else path, row, **mark)
    if name == "hardsigmoid":
        return w.node("HardSigmoid", [x], y, f"{path}:hardsigmoid" if not row else path, row, **mark,
                      alpha=1 / 6, beta=0.5)
    if name == "gelu":
        approximate = getattr(layer, "approximate", "none") if layer is not None else "none"
        return w.node("Gelu", [x], y, f"{path}:gelu" if not row else path, row, **mark,
                      approximate=approximate)
    if name == "leaky_relu":
        slope = getattr(layer, "slope", 0.01) if layer is not None else 0.01
        return w.node("LeakyRelu", [x], y, f"{path}:leaky_relu" if not row else path, row, **mark,
                      alpha=slope)
    if name == "elu":
        alpha = getattr(layer, "alpha", 1.0) if layer is not None else 1.0
        return w.node("Elu", [x], y, f"{path}:elu" if not row else path, row, **mark, alpha=alpha)
    raise ArchcalcError(f"activation '{name}' has no ONNX form")


def _finish(w: _Writer, layer, pre: str, path: str, y: Shape) -> None:
    """The folded activation after a row's own operator ``pre``, into the row's tensor."""
    act = getattr(layer, "activation", None)
    if act:
        activation(w, act, pre, path, path, y.rank)


def _out(layer, path: str) -> str:
    """Where a row's own operator writes: its tensor, or a temporary when an activation
    follows."""
    return f"{path}:pre" if getattr(layer, "activation", None) else path


# --- layer types -------------------------------------------------------------------------
def _conv(w: _Writer, node, layer, x: Shape, y: Shape, arrays: dict) -> None:
    path = node.path
    if layer.connection_table is not None:
        return _table_conv(w, node, layer, x, y, arrays)
    g = layer.geometry(x)
    inputs = [node.inputs[0], w.tensor(f"{path}.weight", arrays["weight"])]
    if layer.bias:
        inputs.append(w.tensor(f"{path}.bias", arrays["bias"]))
    w.node("Conv", inputs, _out(layer, path), path, path, **_window(layer, x),
           dilations=list(g.dilation), group=layer.groups)
    _finish(w, layer, _out(layer, path), path, y)


def _function_node(w: _Writer, kind: str, inputs: list, path: str, layer, output: str,
                   **attrs) -> None:
    w.node(kind, inputs, output, path, path, domain=DOMAIN, spec=_spec_json(layer), **attrs)


def _table_conv(w, node, layer, x, y, arrays) -> None:
    import numpy as np

    h, path = w.h, node.path
    g = layer.geometry(x)
    mask = arrays["mask"].reshape(arrays["mask"].shape + (1,) * len(g.kernel)).astype(np.float32)
    body = [h.make_node("Mul", ["W", "M"], ["Wm"]),
            h.make_node("Conv", ["X", "Wm", "B"], ["Y"])]
    conv = body[1]
    for attr, kind in (("kernel_shape", 7), ("strides", 7), ("pads", 7), ("dilations", 7)):
        a = conv.attribute.add()
        a.name, a.ref_attr_name, a.type = attr, attr, kind
    w.function("conv", body, ["X", "W", "B", "M"], ["Y"])
    bias = arrays.get("bias")
    if bias is None:
        bias = np.zeros((layer.filters,), np.float32)
    inputs = [node.inputs[0], w.tensor(f"{path}.weight", arrays["weight"]),
              w.tensor(f"{path}.bias", bias, weight=layer.bias),
              w.tensor(f"{path}:mask", mask, weight=False)]
    _function_node(w, "conv", inputs, path, layer, _out(layer, path),
                   kernel_shape=list(g.kernel), strides=list(g.stride), pads=_pads(g.padding),
                   dilations=list(g.dilation))
    _finish(w, layer, _out(layer, path), path, y)


def _pool(op: str):
    def write(w: _Writer, node, layer, x, y, arrays):
        attrs = _window(layer, x)
        if layer.ceil_mode:
            attrs["ceil_mode"] = 1
        if op == "MaxPool":
            attrs["dilations"] = list(layer.geometry(x).dilation)
        else:
            attrs["count_include_pad"] = int(layer.count_include_pad)
        w.node(op, [node.inputs[0]], node.path, node.path, node.path, **attrs)
    return write


def _subsample(w: _Writer, node, layer, x, y, arrays) -> None:
    """a[c] · Σ_window x + b[c]: an average pool counting padding, times the taps."""
    h, path = w.h, node.path
    g = layer.geometry(x)
    body = [h.make_node("AveragePool", ["X"], ["A"], count_include_pad=1),
            w.ref("Constant", "T", "value_float", "taps", 1),
            h.make_node("Mul", ["A", "T"], ["S"]),
            w.ref("Constant", "shape", "value_ints", "wshape", 7),
            h.make_node("Reshape", ["W", "shape"], ["Wc"]),
            h.make_node("Reshape", ["B", "shape"], ["Bc"]),
            h.make_node("Mul", ["S", "Wc"], ["P"]),
            h.make_node("Add", ["P", "Bc"], ["Y"])]
    for attr in ("kernel_shape", "strides", "pads"):
        a = body[0].attribute.add()
        a.name, a.ref_attr_name, a.type = attr, attr, 7
    w.function("subsample", body, ["X", "W", "B"], ["Y"])
    taps = 1
    for k in g.kernel:
        taps *= k
    inputs = [node.inputs[0], w.tensor(f"{path}.weight", arrays["weight"]),
              w.tensor(f"{path}.bias", arrays["bias"])]
    _function_node(w, "subsample", inputs, path, layer, _out(layer, path),
                   kernel_shape=list(g.kernel), strides=list(g.stride), pads=_pads(g.padding),
                   taps=float(taps), wshape=[-1] + [1] * len(g.kernel))
    _finish(w, layer, _out(layer, path), path, y)


def _rbf(w: _Writer, node, layer, x, y, arrays) -> None:
    """Σ_i (x_i − w_ji)²."""
    h, path = w.h, node.path
    body = [h.make_node("Flatten", ["X"], ["F"], axis=1),
            h.make_node("Constant", [], ["one"], value_ints=[1]),
            h.make_node("Unsqueeze", ["F", "one"], ["U"]),
            h.make_node("Sub", ["U", "W"], ["D"]),
            h.make_node("Mul", ["D", "D"], ["Q"]),
            h.make_node("Constant", [], ["two"], value_ints=[2]),
            h.make_node("ReduceSum", ["Q", "two"], ["Y"], keepdims=0)]
    w.function("rbf", body, ["X", "W"], ["Y"])
    _function_node(w, "rbf", [node.inputs[0], w.tensor(f"{path}.weight", arrays["weight"])],
                   path, layer, path)


def _gap(w, node, layer, x, y, arrays):
    w.node("GlobalAveragePool", [node.inputs[0]], node.path, node.path, node.path)


_EINSUM = {1: "ncl,il->nci", 2: "nchw,ih,jw->ncij", 3: "ncdhw,id,jh,kw->ncijk"}


def _adaptive(w: _Writer, node, layer, x, y, arrays) -> None:
    """One averaging matrix per axis (PyTorch's windows), applied by one Einsum; the
    matrices are attributes of the node, so one function serves every instance."""
    import numpy as np

    from ..layers.pool import adaptive_windows

    h, path = w.h, node.path
    rank = len(x.spatial)
    mats = [adaptive_windows(n, o, "float32") for n, o in zip(x.spatial, y.spatial)]
    body = [w.ref("Constant", f"m{i}", "value", f"m{i}", 4) for i in range(rank)]
    body.append(h.make_node("Einsum", ["X"] + [f"m{i}" for i in range(rank)], ["Y"],
                            equation=_EINSUM[rank]))
    w.function(f"adaptive_avgpool{rank}d", body, ["X"], ["Y"])
    attrs = {f"m{i}": w.onnx.numpy_helper.from_array(np.ascontiguousarray(m), f"m{i}")
             for i, m in enumerate(mats)}
    w.node(f"adaptive_avgpool{rank}d", [node.inputs[0]], path, path, path, domain=DOMAIN,
           spec=_spec_json(layer), **attrs)


def _batchnorm(w, node, layer, x, y, arrays):
    p = node.path
    inputs = [node.inputs[0], w.tensor(f"{p}.weight", arrays["gamma"]),
              w.tensor(f"{p}.bias", arrays["beta"]),
              w.tensor(f"{p}.running_mean", arrays["running_mean"]),
              w.tensor(f"{p}.running_var", arrays["running_var"])]
    w.node("BatchNormalization", inputs, p, p, p, epsilon=layer.eps)


def _lrn(w, node, layer, x, y, arrays):
    w.node("LRN", [node.inputs[0]], node.path, node.path, node.path, size=layer.size,
           alpha=layer.alpha, beta=layer.beta, bias=layer.k)


def _scale_bias(w: _Writer, path: str, layer, channels: int, arrays: dict) -> list:
    """γ and β as weights when affine, else fixed ones and zeros (Constant nodes, which
    archcalc's importer reads as not trainable)."""
    import numpy as np

    if layer.affine:
        return [w.tensor(f"{path}.weight", arrays["gamma"]), w.tensor(f"{path}.bias", arrays["beta"])]
    return [w.constant_node(f"{path}:ones", np.ones(channels, np.float32)),
            w.constant_node(f"{path}:zeros", np.zeros(channels, np.float32))]


def _layernorm(w: _Writer, node, layer, x, y, arrays):
    p = node.path
    sb = _scale_bias(w, p, layer, x.channels, arrays)
    if x.rank == 1:
        w.node("LayerNormalization", [node.inputs[0]] + sb, p, p, p, axis=-1, epsilon=layer.eps)
        return
    r = x.rank + 1
    last = w.node("Transpose", [node.inputs[0]], f"{p}:nhwc", f"{p}:nhwc",
                  perm=[0] + list(range(2, r)) + [1])
    normed = w.node("LayerNormalization", [last] + sb, f"{p}:normed", p, p, axis=-1,
                    epsilon=layer.eps)
    w.node("Transpose", [normed], p, f"{p}:nchw", perm=[0, r - 1] + list(range(1, r - 1)))


def _groupnorm(w, node, layer, x, y, arrays):
    p = node.path
    w.node("GroupNormalization", [node.inputs[0]] + _scale_bias(w, p, layer, x.channels, arrays),
           p, p, p, num_groups=layer.groups, epsilon=layer.eps)


def _instancenorm(w, node, layer, x, y, arrays):
    p = node.path
    w.node("InstanceNormalization", [node.inputs[0]] + _scale_bias(w, p, layer, x.channels, arrays),
           p, p, p, epsilon=layer.eps)


def _elementwise(w: _Writer, node, layer, x, y, arrays):
    activation(w, layer.type_name, node.inputs[0], node.path, node.path, x.rank,
               row=node.path, layer=layer)


def _prelu(w, node, layer, x, y, arrays):
    slope = arrays["weight"]
    if slope.size > 1 and x.rank > 1:
        slope = slope.reshape((-1,) + (1,) * (x.rank - 1))
    w.node("PRelu", [node.inputs[0], w.tensor(f"{node.path}.weight", slope)], node.path,
           node.path, node.path)


def _dropout(w, node, layer, x, y, arrays):
    ratio = w.const(f"{node.path}:ratio", layer.rate, "float32")
    w.node("Dropout", [node.inputs[0], ratio], node.path, node.path, node.path)


def _identity(w, node, layer, x, y, arrays):
    w.node("Identity", [node.inputs[0]], node.path, node.path, node.path)


def _stochastic_depth(w: _Writer, node, layer, x, y, arrays):
    w.function("stochastic_depth", [w.h.make_node("Identity", ["X"], ["Y"])], ["X"], ["Y"])
    _function_node(w, "stochastic_depth", [node.inputs[0]], node.path, layer, node.path)


def _flatten(w, node, layer, x, y, arrays):
    w.node("Flatten", [node.inputs[0]], node.path, node.path, node.path, axis=1)


def _dense(w: _Writer, node, layer, x, y, arrays):
    p = node.path
    src = node.inputs[0]
    if x.rank > 1:
        src = w.node("Flatten", [src], f"{p}:flat", f"{p}:flatten", axis=1)
    inputs = [src, w.tensor(f"{p}.weight", arrays["weight"])]
    if layer.bias:
        inputs.append(w.tensor(f"{p}.bias", arrays["bias"]))
    w.node("Gemm", inputs, _out(layer, p), p, p, transB=1)
    _finish(w, layer, _out(layer, p), p, y)


def _add(w: _Writer, node, layer, xs, y, arrays):
    p = node.path
    w.node("Add" if len(xs) == 2 else "Sum", list(node.inputs), _out(layer, p), p, p)
    _finish(w, layer, _out(layer, p), p, y)


def _multiply(w: _Writer, node, layer, xs, y, arrays):
    p = node.path
    inputs = []
    for name, s in zip(node.inputs, xs):
        if s.rank < y.rank:  # a vector of C features gates a map as C×1×1
            axes = w.const(f"{p}:axes.{len(inputs)}", list(range(s.rank + 1, y.rank + 1)))
            name = w.node("Unsqueeze", [name, axes], f"{p}:in.{len(inputs)}",
                          f"{p}:unsqueeze.{len(inputs)}")
        inputs.append(name)
    if len(inputs) == 2:
        w.node("Mul", inputs, p, p, p)
        return
    h = w.h
    body, last = [], "X0"
    for i in range(1, len(inputs)):
        out = "Y" if i == len(inputs) - 1 else f"P{i}"
        body.append(h.make_node("Mul", [last, f"X{i}"], [out]))
        last = out
    kind = f"multiply{len(inputs)}"
    w.function(kind, body, [f"X{i}" for i in range(len(inputs))], ["Y"])
    w.node(kind, inputs, p, p, p, domain=DOMAIN, spec=_spec_json(layer))


def _concat(w, node, layer, xs, y, arrays):
    from ..layers.merge import AXES

    w.node("Concat", list(node.inputs), node.path, node.path, node.path,
           axis=1 + AXES[layer.axis])


def _crop(w: _Writer, node, layer, xs, y, arrays):
    h, p = w.h, node.path
    offsets = layer.offsets(xs)
    body = [w.ref("Constant", "s", "value_ints", "starts", 7),
            w.ref("Constant", "e", "value_ints", "ends", 7),
            w.ref("Constant", "a", "value_ints", "axes", 7),
            h.make_node("Slice", ["X", "s", "e", "a"], ["Y"])]
    w.function("crop", body, ["X", "Like"], ["Y"])
    rank = len(y.spatial)
    _function_node(w, "crop", list(node.inputs), p, layer, p, starts=list(offsets),
                   ends=[o + n for o, n in zip(offsets, y.spatial)],
                   axes=list(range(2, 2 + rank)))


def _upsample(w: _Writer, node, layer, x, y, arrays):
    """Resize over the spatial axes: nearest as PyTorch's (x[⌊j·n/m⌋]: asymmetric, floor),
    linear with PyTorch's coordinates (half_pixel, or align_corners)."""
    p = node.path
    axes = list(range(2, 2 + len(x.spatial)))
    if layer.mode == "nearest":
        attrs = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric",
                 "nearest_mode": "floor"}
    else:
        attrs = {"mode": "linear", "coordinate_transformation_mode":
                 "align_corners" if layer.aligned else "half_pixel"}
    if layer.scale is not None:
        from ..core.shapes import per_axis

        scale = per_axis(layer.scale, len(x.spatial), "scale")
        inputs = [node.inputs[0], "", w.const(f"{p}:scales", [float(f) for f in scale], "float32")]
    else:
        inputs = [node.inputs[0], "", "", w.const(f"{p}:sizes", list(y.spatial))]
    w.node("Resize", inputs, p, p, p, axes=axes, **attrs)


def _conv_transpose(w: _Writer, node, layer, x, y, arrays):
    p = node.path
    kernel, stride, dilation, pads, extra = layer.resolved(x)
    inputs = [node.inputs[0], w.tensor(f"{p}.weight", arrays["weight"])]
    if layer.bias:
        inputs.append(w.tensor(f"{p}.bias", arrays["bias"]))
    w.node("ConvTranspose", inputs, _out(layer, p), p, p, kernel_shape=list(kernel),
           strides=list(stride), dilations=list(dilation), pads=list(pads) * 2,
           output_padding=list(extra), group=layer.groups)
    _finish(w, layer, _out(layer, p), p, y)


#: archcalc's pad modes (PyTorch's) → ONNX's
_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _pad(w: _Writer, node, layer, x, y, arrays):
    p = node.path
    pads = layer.pads(x)
    widths = w.const(f"{p}:pads", [0, 0] + [b for b, _ in pads] + [0, 0] + [a for _, a in pads])
    inputs = [node.inputs[0], widths]
    if layer.mode == "constant":
        inputs.append(w.const(f"{p}:value", layer.fill, "float32"))
    w.node("Pad", inputs, p, p, p, mode=_PAD_MODES[layer.mode])


def _channel_shuffle(w: _Writer, node, layer, x, y, arrays):
    p, g = node.path, layer.groups
    split = w.const(f"{p}:groups", [0, g, x.channels // g, *x.spatial])
    whole = w.const(f"{p}:shape", [0, x.channels, *x.spatial])
    a = w.node("Reshape", [node.inputs[0], split], f"{p}:grouped", f"{p}:split")
    b = w.node("Transpose", [a], f"{p}:swapped", f"{p}:swap",
               perm=[0, 2, 1] + list(range(3, x.rank + 2)))
    w.node("Reshape", [b, whole], p, p, p)


def _slice(w: _Writer, node, layer, x, y, arrays):
    p = node.path
    w.node("Slice", [node.inputs[0], w.const(f"{p}:starts", [layer.start]),
                     w.const(f"{p}:ends", [layer.stop]), w.const(f"{p}:axes", [1])], p, p, p)


def _layer_scale(w: _Writer, node, layer, x, y, arrays):
    gamma = arrays["gamma"].reshape((-1,) + (1,) * (x.rank - 1))
    w.node("Mul", [node.inputs[0], w.tensor(f"{node.path}.weight", gamma)], node.path,
           node.path, node.path)


_LAYERS = {
    "conv": _conv, "maxpool": _pool("MaxPool"), "avgpool": _pool("AveragePool"),
    "subsample": _subsample, "rbf": _rbf, "gap": _gap, "adaptive_avgpool": _adaptive,
    "batchnorm": _batchnorm, "lrn": _lrn, "layernorm": _layernorm, "groupnorm": _groupnorm,
    "instancenorm": _instancenorm, "prelu": _prelu, "dropout": _dropout,
    "identity": _identity, "stochastic_depth": _stochastic_depth, "flatten": _flatten,
    "dense": _dense, "add": _add, "multiply": _multiply, "concat": _concat, "crop": _crop,
    "upsample": _upsample, "conv_transpose": _conv_transpose, "pad": _pad,
    "channel_shuffle": _channel_shuffle, "slice": _slice, "layer_scale": _layer_scale,
    **{name: _elementwise for name in ("relu", "relu6", "tanh", "sigmoid", "softmax", "silu",
                                       "hardswish", "hardsigmoid", "gelu", "leaky_relu", "elu",
                                       "mish")},
}


def write(model: Model, path, input_shape=None, weights: bool = True, seed: int = 0) -> int:
    """Write the ONNX file; returns its size in bytes."""
    proto = export(model, input_shape, weights, seed)
    data = proto.SerializeToString()
    try:
        with open(path, "wb") as handle:
            handle.write(data)
    except OSError as err:
        raise ArchcalcError(f"cannot write {path}: {err.strerror or err}") from None
    return len(data)


__all__ = ["export", "write", "OPSET"]
