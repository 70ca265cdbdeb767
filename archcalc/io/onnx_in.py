"""Reading an ONNX file into an :class:`~archcalc.io.opgraph.OpGraph`.

Uses the ``onnx`` package (``pip install 'archcalc[onnx]'``) for its protobuf classes
only: the file is parsed with ``ModelProto.ParseFromString`` and never loaded with its
external data, so a model's weights are read for their shapes (``dims``) alone; small
constants (shape vectors, scales, clip bounds, at most
:data:`~archcalc.io.opgraph.MAX_CONST_VALUES` values) are read for their values.

The first graph input that is not an initializer is the model input (batch axis first;
a symbolic batch is fine, symbolic channel or spatial sizes need ``--input``); the other
inputs are weights given as inputs (``archcalc export --no-weights``, PyTorch's
``export_params=False``).  A node whose ``doc_string`` begins "archcalc row" was written by
``archcalc export`` as a row of its own and is never folded into its neighbour; nodes of
the ``archcalc`` domain carry an archcalc layer type and its attributes.
"""
from __future__ import annotations

import math
from pathlib import Path

from ..errors import ArchcalcError, one_line, quoted
from .opgraph import MAX_CONST_VALUES, MAX_OPS, Const, Op, OpGraph, topological

#: largest file read: protobuf's own limit for one message
MAX_ONNX_BYTES = 2**31 - 1
#: the domain archcalc's exporter writes its own layer types in
DOMAIN = "archcalc"
ROW_MARK = "archcalc row"
FOLD_MARK = "archcalc folded"
_FLOAT_TYPES = {1, 10, 11, 16}  # float, float16, double, bfloat16


def onnx_module():
    try:
        import onnx
    except ImportError:
        raise ArchcalcError("reading and writing ONNX needs the onnx package: "
                            "pip install 'archcalc[onnx]' (or pip install onnx)") from None
    return onnx


def parse(path: Path, shown: str):
    """The ModelProto in ``path``; a file that is not one is a one-line error."""
    onnx = onnx_module()
    try:
        size = path.stat().st_size
        if size > MAX_ONNX_BYTES:
            raise ArchcalcError(f"the file is larger than {MAX_ONNX_BYTES:,} bytes (protobuf's "
                                f"limit); keep the weights as external data", file=shown)
        data = path.read_bytes()
    except OSError as err:
        raise ArchcalcError(f"cannot read the file: {err.strerror or err}", file=shown) from None
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception:  # noqa: BLE001 - protobuf's DecodeError, or a RuntimeError from upb
        raise ArchcalcError("not an ONNX model: the file does not parse as an ONNX protobuf",
                            file=shown) from None
    if not model.HasField("graph") or not model.graph.node:
        raise ArchcalcError("not an ONNX model: it has no graph of nodes", file=shown)
    return model


def _s(value) -> str:
    """A string field as text: protobuf hands over bytes when a file's string is not UTF-8."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _dims(type_proto) -> list | None:
    """A value's dims from its TypeProto: ints, or strings for symbolic sizes; None when
    it states no shape."""
    if not type_proto.HasField("tensor_type") or not type_proto.tensor_type.HasField("shape"):
        return None
    dims = []
    for d in type_proto.tensor_type.shape.dim:
        if d.HasField("dim_value"):
            dims.append(int(d.dim_value))
        else:
            dims.append(_s(d.dim_param) or "?")
    return dims


def _tensor_const(tensor, weight: bool) -> Const:
    from onnx import numpy_helper

    shape = tuple(int(d) for d in tensor.dims)
    if any(d < 0 for d in shape):
        raise ValueError(f"negative size in {list(shape)}")
    value = None
    external = tensor.data_location == 1
    if not external and math.prod(shape) <= MAX_CONST_VALUES:
        try:
            value = numpy_helper.to_array(tensor)
            if value.shape != shape:
                value = None
        except Exception:  # noqa: BLE001 - a malformed tensor: its shape still counts
            value = None
    return Const(shape, value, weight and tensor.data_type in _FLOAT_TYPES)


def _attr(a):
    from onnx import AttributeProto as A

    kind = a.type
    if kind == A.FLOAT:
        return float(a.f)
    if kind == A.INT:
        return int(a.i)
    if kind == A.STRING:
        return _s(a.s)
    if kind == A.FLOATS:
        return [float(x) for x in a.floats]
    if kind == A.INTS:
        return [int(x) for x in a.ints]
    if kind == A.STRINGS:
        return [_s(x) for x in a.strings]
    if kind == A.TENSOR:
        return _tensor_const(a.t, False).value
    return None  # graphs (If, Loop), sparse tensors, type protos: no operator here uses them


def _constant_node(node) -> Const:
    """The value of a Constant node (never a trainable weight)."""
    import numpy as np

    for a in node.attribute:
        a_name = _s(a.name)
        if a_name == "value":
            c = _tensor_const(a.t, False)
            return Const(c.shape, c.value, False)
        if a_name in ("value_float", "value_int"):
            v = np.array(a.f if a_name == "value_float" else a.i,
                         dtype=np.float32 if a_name == "value_float" else np.int64)
            return Const((), v, False)
        if a_name in ("value_floats", "value_ints"):
            seq = list(a.floats) if a_name == "value_floats" else list(a.ints)
            v = np.array(seq, dtype=np.float32 if a_name == "value_floats" else np.int64)
            return Const(v.shape, v if v.size <= MAX_CONST_VALUES else None, False)
    raise ValueError("a Constant node without a value")


def read(path: Path, shown: str, input_shape: tuple | None = None) -> OpGraph:
    """The OpGraph of the ONNX file at ``path`` (``input_shape``: C, H, W... replacing
    the input's own sizes after the batch axis)."""
    return graph(parse(path, shown), shown, input_shape)


def graph(model, shown: str, input_shape: tuple | None = None) -> OpGraph:
    """The OpGraph of a parsed ModelProto."""
    try:
        return _graph(model, shown, input_shape)
    except (ValueError, TypeError, OverflowError) as err:  # malformed fields of a parsed proto
        raise ArchcalcError(f"malformed ONNX model: {quoted(err)}", file=shown) from None


def _graph(model, shown: str, input_shape) -> OpGraph:
    g = model.graph
    if len(g.node) > MAX_OPS:
        raise ArchcalcError(f"the graph has {len(g.node):,} nodes; at most {MAX_OPS:,} are read",
                            file=shown)
    opset = next((int(o.version) for o in model.opset_import
                  if _s(o.domain) in ("", "ai.onnx")), 0)
    consts = {_s(t.name): _tensor_const(t, True) for t in g.initializer}
    inputs = [i for i in g.input if _s(i.name) not in consts]
    if not inputs:
        raise ArchcalcError("the graph has no input (every input is an initializer)", file=shown)
    data = inputs[0]
    for extra in inputs[1:]:  # weights given as inputs (exported without parameters)
        dims = _dims(extra.type)
        if dims is None or not all(isinstance(d, int) and d >= 0 for d in dims):
            raise ArchcalcError(f"graph input '{quoted(_s(extra.name))}' is a second input with "
                                f"no fixed shape; archcalc models have one input", file=shown)
        consts[_s(extra.name)] = Const(tuple(dims), None, True)
    ops = []
    for i, node in enumerate(g.node):
        op_type, domain, doc = _s(node.op_type), _s(node.domain), _s(node.doc_string)
        if op_type == "Constant" and domain in ("", "ai.onnx"):
            for out in node.output[:1]:
                consts[_s(out)] = _constant_node(node)
            continue
        kind = op_type if domain in ("", "ai.onnx") else f"{domain}:{op_type}"
        attrs = {_s(a.name): _attr(a) for a in node.attribute}
        ops.append(Op(kind, _s(node.name), tuple(_s(i) for i in node.input),
                      tuple(_s(o) for o in node.output), attrs, doc.startswith(ROW_MARK),
                      doc.startswith(FOLD_MARK)))
    data_name = _s(data.name)
    ops = topological(ops, set(consts) | {data_name}, shown)
    shape = _input_shape(data, shown, input_shape)
    declared = {}
    if input_shape is None:
        for v in list(g.value_info) + list(g.output):
            dims = _dims(v.type)
            if dims is not None:
                declared[_s(v.name)] = tuple(dims)
    producer = _s(model.producer_name) or "an unknown producer"
    version = f" {_s(model.producer_version)}" if model.producer_version else ""
    source = f"ONNX model {shown} (opset {opset}, written by {producer}{version})"
    return OpGraph(shown, data_name, shape, consts, ops, tuple(_s(o.name) for o in g.output),
                   opset, one_line(source), declared)


def _input_shape(data, shown: str, override) -> tuple:
    dims = _dims(data.type)
    if dims is None or len(dims) < 3:
        found = "no shape" if dims is None else "×".join(map(str, dims))
        raise ArchcalcError(f"input '{quoted(_s(data.name))}' has {found}; archcalc reads an "
                            f"N×C×L, N×C×H×W or N×C×D×H×W input", file=shown)
    if data.type.tensor_type.elem_type not in _FLOAT_TYPES:
        raise ArchcalcError(f"input '{quoted(_s(data.name))}' is not a floating-point tensor; "
                            f"archcalc reads images, signals and volumes", file=shown)
    batch = dims[0] if isinstance(dims[0], int) and dims[0] > 0 else 1
    if override is not None:
        if len(override) != len(dims) - 1:
            raise ArchcalcError(f"--input gives {len(override)} sizes; input "
                                f"'{quoted(_s(data.name))}' has {len(dims) - 1} after the batch axis",
                                file=shown)
        return (batch,) + tuple(override)
    rest = dims[1:]
    if not all(isinstance(d, int) and d > 0 for d in rest):
        raise ArchcalcError(f"input '{quoted(_s(data.name))}' has symbolic sizes "
                            f"({'×'.join(map(str, dims))}); give them: archcalc import "
                            f"{shown} --input C,H,W -o model.yaml", file=shown)
    return (batch,) + tuple(rest)


__all__ = ["read", "parse", "onnx_module", "DOMAIN", "ROW_MARK", "FOLD_MARK"]
