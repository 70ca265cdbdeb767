"""The validated model: an immutable graph of named tensors, in topological order.

Built from a spec by :mod:`archcalc.spec.build`, which expands every piece of sugar
(blocks, repeats, concat branches, residual blocks, side branches) into plain nodes.  A
node is one layer: its path (the ``/``-joined name a reader sees in every table, e.g.
``inception3a/b2_3x3``), the spec line it came from, the layer, and the tensors it reads —
paths of earlier nodes, or :data:`INPUT`.  Every pass over a model (engine, NumPy runner,
receptive fields, liveness) is :func:`walk`, one loop over this list.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Iterator

from ..layers import Layer
from .shapes import Shape

#: the name of the model's input tensor
INPUT = "input"


@dataclass(frozen=True)
class Node:
    """One layer of the graph: its path, spec line, layer and the tensors it reads."""

    path: str
    line: int | None
    layer: Layer
    inputs: tuple  # tensor names: paths of earlier nodes or INPUT


@dataclass(frozen=True)
class Model:
    """A validated model: its input, its nodes in topological order, its outputs and
    what the spec says about it."""

    name: str
    input_shape: Shape
    nodes: tuple
    #: tensors the model returns; never freed by a liveness-aware pass
    outputs: tuple = ()
    dtype: str = "float32"
    description: str = ""
    source: str = ""
    notes: str = ""
    file: str | None = None
    published: tuple = ()

    def layer_nodes(self) -> Iterator[Node]:
        """The nodes that read one tensor (every node but the merges), in order."""
        return (n for n in self.nodes if n.layer.arity == 1)

    @cached_property
    def index(self) -> dict:
        """Node path → its position in :attr:`nodes`."""
        return {node.path: i for i, node in enumerate(self.nodes)}

    @cached_property
    def last_use(self) -> dict:
        """Tensor name → index of the last node that reads it; ``len(nodes)`` for outputs
        (they live to the end) and for tensors nothing reads."""
        end = len(self.nodes)
        last = {INPUT: -1, **{n.path: -1 for n in self.nodes}}
        for i, node in enumerate(self.nodes):
            for name in node.inputs:
                last[name] = i
        for name in self.outputs:
            last[name] = end
        return {name: (end if i < 0 else i) for name, i in last.items()}

    def head(self, count: int) -> "Model":
        """The model cut after its first ``count`` nodes, or after the first node past them
        where only that node's output is still needed (so a module is never cut apart)."""
        last, end = self.last_use, len(self.nodes)
        while count < end:
            made = [INPUT] + [n.path for n in self.nodes[:count]]
            if [t for t in made if count <= last[t] < end] == [made[-1]]:
                break
            count += 1
        nodes = self.nodes[:count]
        return Model(self.name, self.input_shape, nodes, (nodes[-1].path,), self.dtype,
                     self.description, self.source, self.notes, self.file)


def walk(model: Model, start, step: Callable, free: bool = False) -> dict:
    """The one traversal: ``step(node, inputs)`` for every node in order, ``inputs`` being
    the tuple of values ``step`` returned for the tensors the node reads (``start`` for
    :data:`INPUT`).  With ``free``, a value is dropped after its last reader, as a runner
    that holds only live tensors does.  Returns the values still held at the end."""
    values = {INPUT: start}
    last = model.last_use if free else None
    for i, node in enumerate(model.nodes):
        values[node.path] = step(node, tuple(values[name] for name in node.inputs))
        if free:
            for name in set(node.inputs):
                if last[name] == i:
                    del values[name]
    return values
