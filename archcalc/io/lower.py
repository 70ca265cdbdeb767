"""From an :class:`~archcalc.io.opgraph.OpGraph` to a spec document: operators to layers.

One pass over the ops in order.  Every value is a :class:`Data` — an archcalc tensor
(a layer's output, or the model input) seen through an optional view — or a
:class:`~archcalc.io.opgraph.Const`.  An op becomes a layer (``emit``), a view of its input
(Flatten, Reshape, Squeeze, Unsqueeze, Transpose to channels-last: no layer, the reader
decides), folds into the layer before it (an activation after a conv, dense or add that
nothing else reads, unless archcalc's exporter wrote it as a row of its own), or a
constant (shape arithmetic, evaluated).  The operator table is in
:mod:`archcalc.io.operators`.

Views are resolved where they are read: a dense layer reads any flattening of its input
(it flattens itself), a multiply reads a vector as C×1×1, a layer norm and a 1×1 conv
read a channels-last map as the channels at each position; a layer that needs the
tensor as it is gets an explicit ``flatten`` when the view is one, and a one-line error
otherwise.  Values that no output depends on are dropped.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from ..core.graph import INPUT
from ..core.shapes import Shape
from ..errors import ArchcalcError, quoted
from ..layers import REGISTRY
from ..spec import fields
from .opgraph import Const, Op, OpGraph

#: layer types a following activation folds into (their ``activation`` attribute)
FOLDS_INTO = ("conv", "conv_transpose", "dense", "add", "subsample")
#: ops that read only their input's shape: not readers of its data
SHAPE_READERS = ("Shape", "Size")
#: longest layer name made from a node name
MAX_NAME = 80


@dataclass(frozen=True)
class Data:
    """A value computed from the input: archcalc tensor ``ref`` in ONNX's ``shape``
    (batch axis first).  ``form``: 'exact' (the tensor as archcalc holds it), 'view'
    (the same elements, reshaped), 'nhwc' (channels moved last), 'grouped' / 'shuffled'
    (a channel shuffle half done, ``groups`` groups)."""

    ref: str
    shape: tuple
    form: str = "exact"
    groups: int = 0
    #: the op that made the view (names the flatten layer a reader may need)
    origin: Any = field(default=None, compare=False)


def shape_text(dims) -> str:
    return "×".join(str(d) for d in dims)


_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]+")


def clean_name(raw: str) -> str:
    """A layer name from a node name: PyTorch's scope paths ('/layer1/layer1.0/conv1/Conv')
    become module paths ('layer1.0.conv1'); '/' becomes '.', other characters outside
    letters, digits, '_', '.', '-' become '_'."""
    raw = str(raw)
    if raw.startswith("/") and raw.count("/") >= 2:
        # each scope extends the one before it ('block' then 'block.0') or nests in it
        parts = [p for p in raw.split("/") if p]
        segments: list[str] = []
        for part in parts[:-1]:
            if segments and part.startswith(segments[-1] + "."):
                segments[-1] = part
            else:
                segments.append(part)
        raw = ".".join(segments) or parts[-1]
    name = _UNSAFE.sub("_", raw.replace("/", "."))
    name = re.sub(r"\.{2,}", ".", name).strip("._-")
    return name[:MAX_NAME]


class Lowering:
    """The state of one lowering: values, the layers made so far, names in use."""

    def __init__(self, graph: OpGraph, readers: dict):
        self.g = graph
        self.readers = readers
        self.batch = graph.input_shape[0]
        self.values: dict[str, Any] = dict(graph.consts)
        self.values[graph.input_name] = Data(INPUT, tuple(graph.input_shape))
        self.arch = {INPUT: Shape(tuple(graph.input_shape[1:]))}
        self.items: list[dict] = []
        self.made: dict[str, tuple] = {}   # layer name → (item, layer)
        self.names = {INPUT}
        self.flat: dict[str, str] = {}     # tensor → its flatten layer
        self.outputs = set(graph.outputs)

    # --- values ----------------------------------------------------------------------
    def fail(self, message: str, op: Op | None = None) -> ArchcalcError:
        return self.g.fail(message, op)

    def value(self, op: Op, i: int):
        name = op.inputs[i] if i < len(op.inputs) else ""
        if not name:
            raise self.fail(f"input {i + 1} is missing", op)
        if name not in self.values:
            raise self.fail(f"input '{quoted(name)}' is not defined before this node", op)
        return self.values[name]

    def has(self, op: Op, i: int) -> bool:
        return i < len(op.inputs) and bool(op.inputs[i])

    def data(self, op: Op, i: int = 0) -> Data:
        v = self.value(op, i)
        if not isinstance(v, Data):
            raise self.fail(f"input {i + 1} ('{quoted(op.inputs[i])}') is a constant where "
                            f"archcalc needs a tensor computed from the model input", op)
        return v

    def const(self, op: Op, i: int) -> Const:
        v = self.value(op, i)
        if not isinstance(v, Const):
            raise self.fail(f"input {i + 1} ('{quoted(op.inputs[i])}') must be a constant (a "
                            f"weight or a fixed value); here it is computed from the input", op)
        return v

    def numbers(self, op: Op, i: int, what: str) -> list:
        """The values of a small constant input (a shape, scales, bounds)."""
        c = self.const(op, i)
        if c.value is None:
            raise self.fail(f"{what} (input {i + 1}) has no values archcalc can read", op)
        return c.value.reshape(-1).tolist()

    def bind(self, op: Op, value, index: int = 0) -> None:
        if index < len(op.outputs) and op.outputs[index]:
            self.values[op.outputs[index]] = value

    def exact(self, op: Op, i: int = 0) -> str:
        """The archcalc tensor input ``i`` is, for a layer that reads it as it is."""
        d = self.data(op, i)
        return self.as_exact(d, op)

    def as_exact(self, d: Data, op: Op) -> str:
        if d.form == "exact":
            return d.ref
        if d.form == "view" and len(d.shape) == 2:
            return self.flattened(d)
        raise self.fail(f"reads {shape_text(d.shape[1:])}, a {_FORMS[d.form]} of "
                        f"'{quoted(d.ref)}' ({self.arch[d.ref]}); archcalc has no layer for "
                        f"that reshape", op)

    def flattened(self, d: Data) -> str:
        """An explicit flatten layer of ``d.ref`` (made once, named after the op that
        flattened it)."""
        if self.arch[d.ref].rank == 1:
            return d.ref
        if d.ref not in self.flat:
            origin = d.origin or Op("Flatten", "flatten", (), ())
            self.flat[d.ref] = self.emit(origin, "flatten", {}, [d.ref], out=None)
        return self.flat[d.ref]

    def view(self, op: Op, base: Data, shape: tuple) -> Data:
        """``base`` reshaped to ``shape``: exact when it is the tensor's own shape, else a
        view with the same elements."""
        arch = self.arch[base.ref]
        if tuple(shape[1:]) == tuple(arch.dims):
            return Data(base.ref, tuple(shape))
        return Data(base.ref, tuple(shape), "view", origin=op)

    # --- layers ------------------------------------------------------------------------
    def name_for(self, op: Op) -> str:
        base = clean_name(op.name) or (clean_name(op.outputs[0]) if op.outputs else "") \
            or op.op.split(":")[-1].lower()
        name, k = base, 2
        if name in self.names:
            name = f"{base}.{op.op.split(':')[-1].lower()}"
        while name in self.names:
            name, k = f"{base}_{k}", k + 1
        self.names.add(name)
        return name

    def emit(self, op: Op, kind: str, attrs: dict, inputs: list, out: str | None = "") -> str:
        """A layer of type ``kind`` reading ``inputs`` (archcalc tensors); binds op's first
        output to it (``out=None``: binds nothing).  Returns the layer's name."""
        defaults = {f.name: f.default for f in dataclasses.fields(REGISTRY[kind])}
        attrs = {k: v for k, v in attrs.items() if v is not None and defaults.get(k) != v}
        layer, y = self.check(op, kind, attrs, inputs)
        name = self.name_for(op)
        item = {"name": name, "type": kind, **attrs, "inputs": list(inputs)}
        self.items.append(item)
        self.made[name] = (item, layer)
        self.arch[name] = y
        if out is not None:
            target = out or (op.outputs[0] if op.outputs else "")
            if target:
                self.values[target] = Data(name, (self.batch,) + tuple(y.dims))
                self.compare_declared(op, target, y)
        return name

    def check(self, op: Op, kind: str, attrs: dict, inputs: list):
        try:
            layer = fields.build(REGISTRY[kind], attrs)
            shapes = tuple(self.arch[r] for r in inputs)
            y = layer.out_shape(layer.take(shapes))
        except ArchcalcError as err:
            raise self.fail(f"as archcalc's {kind}: {err.message}", op) from None
        return layer, y

    def compare_declared(self, op: Op, value: str, y: Shape) -> None:
        """The graph's own shape for ``value`` (ONNX value_info), when it states one, must be
        archcalc's: a mismatch is an operator read wrongly, never a silent difference."""
        declared = self.g.declared.get(value)
        if declared is None or len(declared) != y.rank + 1:
            return
        if any(isinstance(d, int) and d > 0 and d != a for d, a in zip(declared[1:], y.dims)):
            raise self.fail(f"archcalc computes an output of {y}, the graph declares "
                            f"{shape_text(declared[1:])}", op)

    def fold(self, op: Op, activation: str, standalone: tuple) -> None:
        """An activation: folded into the layer that made its input when that layer can
        hold one and nothing else reads its output; else a layer ``standalone`` =
        (type, attrs) of its own, on the tensor as it is (any view kept)."""
        d = self.data(op, 0)
        # softmax is its own row (Caffe's 'prob') unless archcalc's exporter folded it
        if activation == "softmax" and not op.folded:
            activation = ""
        if activation and not op.row and d.form == "exact" and d.ref in self.made \
                and self.readers.get(op.inputs[0], 0) == 1:
            item, _ = self.made[d.ref]
            if item["type"] in FOLDS_INTO and not item.get("activation"):
                attrs = {k: v for k, v in item.items() if k not in ("name", "type", "inputs")}
                attrs["activation"] = activation
                _, y = self.check(op, item["type"], attrs, item["inputs"])
                item["activation"] = activation
                self.made[d.ref] = (item, fields.build(REGISTRY[item["type"]], attrs))
                self.bind(op, d)
                return
        kind, attrs = standalone
        if d.form == "exact":
            self.emit(op, kind, attrs, [d.ref])
            return
        # an elementwise function on a view is the function on the tensor, seen the same way
        name = self.emit(op, kind, attrs, [d.ref], out=None)
        self.bind(op, Data(name, d.shape, d.form, d.groups, d.origin))

    # --- the document --------------------------------------------------------------------
    def document(self, name: str, description: str, source: str, notes: str = "") -> dict:
        outputs = []
        for value in self.g.outputs:
            v = self.values.get(value)
            if not isinstance(v, Data):
                raise self.fail(f"graph output '{quoted(value)}' is a constant, not computed "
                                f"from the input")
            out = self.as_exact(v, Op("Output", value, (value,), ()))
            if out == INPUT:
                raise self.fail(f"graph output '{quoted(value)}' is the input itself")
            if out not in outputs:
                outputs.append(out)
        if not outputs:
            raise self.fail("the graph has no outputs")
        items = self.reachable(outputs)
        if not items:
            raise self.fail("no layer computes the graph's outputs")
        layers, previous = [], INPUT
        for item in items:
            item = dict(item)
            inputs = item.pop("inputs")
            kind = REGISTRY[item["type"]]
            if kind.arity != 1 or inputs != [previous]:
                item["inputs"] = inputs
            layers.append(item)
            previous = item["name"]
        doc = {"name": name, "description": description, "source": source}
        if notes:
            doc["notes"] = notes
        doc["input"] = list(self.arch[INPUT].dims)
        doc["layers"] = layers
        if outputs != [layers[-1]["name"]]:
            doc["outputs"] = outputs
        self.dropped = len(self.items) - len(items)
        return doc

    def reachable(self, outputs: list) -> list:
        """The layers some output depends on, in order."""
        needed = set(outputs)
        for item in reversed(self.items):
            if item["name"] in needed:
                needed.update(item["inputs"])
        return [item for item in self.items if item["name"] in needed]


_FORMS = {"view": "reshaped view", "nhwc": "channels-last view", "grouped": "grouped view",
          "shuffled": "shuffled view"}


_MALFORMED = (TypeError, ValueError, KeyError, IndexError, AttributeError, ArithmeticError)


def count_readers(graph: OpGraph) -> dict:
    """Value → ops reading its data (shape-only readers excluded), outputs counted."""
    readers: dict[str, int] = {}
    for op in graph.ops:
        if op.op in SHAPE_READERS:
            continue
        for name in op.inputs:
            if name:
                readers[name] = readers.get(name, 0) + 1
    for name in graph.outputs:
        readers[name] = readers.get(name, 0) + 1
    return readers


def fold_constants(graph: OpGraph) -> OpGraph:
    """Evaluate every op whose inputs are all constants (an Identity or Transpose of a
    weight, shape arithmetic on constants), so the rewrites see their results as
    constants."""
    from dataclasses import replace

    from .constants import evaluate
    from .operators import CONSTANT_OPS

    class _Values:  # what evaluate reads: the constants so far, and where to fail
        def __init__(self):
            self.values = dict(graph.consts)

        def fail(self, message, op=None):
            return graph.fail(message, op)

    state, kept = _Values(), []
    for op in graph.ops:
        if op.op in CONSTANT_OPS and op.op != "Shape" and op.inputs and not op.row \
                and all(not name or isinstance(state.values.get(name), Const) for name in op.inputs):
            try:
                values = evaluate(state, op)
            except ArchcalcError:
                kept.append(op)  # left for the lowering to report, if anything reads it
                continue
            except (ArithmeticError, ValueError, IndexError, TypeError) as err:
                raise graph.fail(f"cannot evaluate this constant computation: {err}", op) from None
            for name, value in zip(op.outputs, values):
                if name:
                    state.values[name] = value
            continue
        kept.append(op)
    if len(kept) == len(graph.ops):
        return graph
    return replace(graph, consts=state.values, ops=kept)


def lower(graph: OpGraph, name: str, description: str, source: str) -> dict:
    """The spec document of ``graph`` (every op mapped or one error naming it)."""
    from . import operators
    from .patterns import recognise

    op = None
    try:
        graph = recognise(fold_constants(graph))
        state = Lowering(graph, count_readers(graph))
        for op in graph.ops:
            operators.apply(state, op)
        op = None
        doc = state.document(name, description, source)
    except _MALFORMED as err:
        # an attribute or input of a foreign file that is not of the kind its operator
        # takes (a string where ONNX says ints): the node named, never a traceback
        raise graph.fail(f"cannot read this node's attributes or inputs "
                         f"({type(err).__name__}: {quoted(err)})", op) from None
    if state.dropped:
        doc["notes"] = (f"{state.dropped} layer(s) that no output depends on were left out. "
                        + doc.get("notes", "")).strip()
    return doc


__all__ = ["Data", "Lowering", "clean_name", "lower", "shape_text", "FOLDS_INTO"]
