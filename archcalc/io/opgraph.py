"""The operator graph every importer produces: ONNX's shape of a model, before archcalc's.

Three readers (ONNX, torch.fx, Caffe's prototxt) each turn their format into one
:class:`OpGraph` — a flat list of :class:`Op` in topological order, ops spelled as ONNX
spells them (``Conv``, ``Relu``, ``Gemm``...), constants kept apart as :class:`Const`
(their shape always; their values only when small, since weights matter only for their
shapes) — and one lowering (:mod:`archcalc.io.lower`) turns that into a spec.  So an
operator is mapped once, whichever format it came from.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

from ..errors import ArchcalcError, quoted

#: Most ops an imported graph may hold (the largest torchvision CNNs export ~1,500 ops).
MAX_OPS = 100_000
#: Elements of a constant whose values an importer reads (shape vectors, scales, clip
#: bounds); larger constants are weights, of which only the shape is kept.
MAX_CONST_VALUES = 4096


@dataclass(frozen=True)
class Const:
    """A tensor known before the model runs: an initializer, a Constant, a parameter."""

    shape: tuple
    #: the values (a NumPy array) when small enough to matter, else None
    value: Any = None
    #: a trainable weight (an initializer or parameter) rather than a Constant node
    weight: bool = True


@dataclass
class Op:
    """One operator: ``op`` in ONNX's spelling (or ``archcalc:<type>`` for archcalc's own
    layer types written by ``archcalc export``), its input and output value names ('' for
    an absent optional input) and its attributes as Python values."""

    op: str
    name: str
    inputs: tuple
    outputs: tuple
    attrs: dict = field(default_factory=dict)
    #: written by archcalc's exporter as a row of its own: never folded into a neighbour
    row: bool = False
    #: written by archcalc's exporter as an activation folded into the row before it
    folded: bool = False
    #: where it was read, for errors: a prototxt line
    line: int | None = None
    #: the type as the file names it, when not ``op`` (a Caffe layer's type)
    label: str = ""

    def where(self) -> str:
        kind = "layer" if self.label else "node"
        return f"{kind} '{quoted(self.name or '?')}' ({quoted(self.label or self.op)})"


@dataclass
class OpGraph:
    """A model as operators: one data input (its full shape, batch axis first), the
    constants, the ops in topological order and the output value names."""

    file: str
    input_name: str
    input_shape: tuple
    consts: dict
    ops: list
    outputs: tuple
    #: ONNX's default-domain opset (semantics of Softmax, Squeeze...); 0: not ONNX
    opset: int = 0
    #: the format and its producer, for the spec's ``source``
    source: str = ""
    #: value → full shape the file itself states (ONNX value_info), checked against archcalc's
    declared: dict = field(default_factory=dict)

    def fail(self, message: str, op: Op | None = None) -> ArchcalcError:
        where = f"{op.where()}: " if op is not None else ""
        return ArchcalcError(f"{where}{message}", file=self.file, line=op.line if op else None)


def topological(ops: list, known: set, file: str) -> list:
    """``ops`` ordered so each comes after the producers of its inputs (ONNX requires the
    order; a reader may not keep it).  ``known``: values defined before any op."""
    if len(ops) > MAX_OPS:
        raise ArchcalcError(f"the graph has {len(ops):,} operators; at most {MAX_OPS:,} are read",
                            file=file)
    producer = {}
    for i, op in enumerate(ops):
        for out in op.outputs:
            if out and out in producer:
                raise ArchcalcError(f"{op.where()}: value '{quoted(out)}' is produced twice",
                                    file=file, line=op.line)
            if out:
                producer[out] = i
    waiting = [0] * len(ops)
    readers: dict[int, list] = {}
    for i, op in enumerate(ops):
        for name in set(op.inputs):
            if not name or name in known:
                continue
            if name not in producer:
                raise ArchcalcError(f"{op.where()}: input '{quoted(name)}' is no graph input, "
                                    f"initializer or output of another node", file=file,
                                    line=op.line)
            waiting[i] += 1
            readers.setdefault(producer[name], []).append(i)
    # the smallest ready index first: a graph already in order keeps its order
    ready = [i for i in range(len(ops)) if waiting[i] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        i = heapq.heappop(ready)
        order.append(ops[i])
        for j in readers.get(i, ()):
            waiting[j] -= 1
            if waiting[j] == 0:
                heapq.heappush(ready, j)
    if len(order) != len(ops):
        stuck = next(ops[i] for i in range(len(ops)) if waiting[i])
        raise ArchcalcError(f"{stuck.where()}: the graph has a cycle through this node",
                            file=file, line=stuck.line)
    return order


__all__ = ["Const", "Op", "OpGraph", "topological", "MAX_OPS", "MAX_CONST_VALUES"]
