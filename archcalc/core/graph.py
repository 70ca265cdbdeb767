"""The validated model: an immutable tree of layer, concatenation and residual nodes.

Built from a spec by :mod:`archcalc.spec.build`; read by the engine.  Paths are the
``/``-joined names a reader sees in every table (``inception3a/b2_3x3``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Union

from ..layers import Layer
from .shapes import Shape


@dataclass(frozen=True)
class LayerNode:
    path: str
    line: int | None
    layer: Layer


@dataclass(frozen=True)
class ConcatNode:
    """Parallel branches fed by the same input, concatenated along channels.
    An empty branch passes its input through (DenseNet's growing concatenation)."""
    path: str
    line: int | None
    branches: tuple


@dataclass(frozen=True)
class ResidualNode:
    """body(x) + shortcut(x), the shortcut being the identity when empty (ResNet)."""
    path: str
    line: int | None
    body: tuple
    shortcut: tuple
    activation: str | None = None


@dataclass(frozen=True)
class SideNode:
    """A side branch: ``layers`` read the current tensor, their output feeds nothing.

    The tensor after the node is the tensor before it (GoogLeNet's auxiliary
    classifiers, usually switched on by an option).  Its layers report rows like any
    others; the side node itself adds no row.
    """
    path: str
    line: int | None
    layers: tuple


Node = Union[LayerNode, ConcatNode, ResidualNode, SideNode]


@dataclass(frozen=True)
class Model:
    name: str
    input_shape: Shape
    nodes: tuple
    dtype: str = "float32"
    description: str = ""
    source: str = ""
    notes: str = ""
    file: str | None = None
    published: tuple = ()

    def layer_nodes(self) -> Iterator[LayerNode]:
        """Every LayerNode, depth first, in execution order."""
        yield from _layer_nodes(self.nodes)


def _layer_nodes(nodes) -> Iterator[LayerNode]:
    for node in nodes:
        if isinstance(node, LayerNode):
            yield node
        elif isinstance(node, ConcatNode):
            for branch in node.branches:
                yield from _layer_nodes(branch)
        elif isinstance(node, SideNode):
            yield from _layer_nodes(node.layers)
        else:
            yield from _layer_nodes(node.body)
            yield from _layer_nodes(node.shortcut)
