"""Shape propagation: one pass over the model, a row of per-sample counts per layer.

Pure computation on the validated model; works on ints, and unchanged on sympy sizes.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..errors import ArchcalcError, ShapeError
from ..layers import Counts
from ..layers.activation import ACTIVATION_FLOPS
from ..layers.dense import FullyConnected
from .graph import ConcatNode, LayerNode, Model, ResidualNode, SideNode
from .shapes import Shape, is_known


@dataclass(frozen=True)
class Row:
    """One table row before batch and dtype are applied."""

    name: str
    type: str
    in_shape: Shape
    counts: Counts
    line: int | None = None
    #: the Layer behind the row (None for concat and residual-add rows), for other
    #: counting conventions (archcalc.conventions) that need its attributes
    layer: object = None


def same_size(a, b) -> bool:
    if is_known(a, b):
        return a == b
    import sympy  # symbolic path only

    return sympy.simplify(a - b) == 0


def same_shape(a: Shape, b: Shape) -> bool:
    return a.rank == b.rank and all(same_size(x, y) for x, y in zip(a.dims, b.dims))


class _Pass:
    def __init__(self, model: Model, pins: dict | None):
        self.model = model
        self.pins = pins or {}
        self.rows: list[Row] = []
        #: input features seen by each fully connected layer, by path
        self.features: dict[str, object] = {}

    def located(self, err: ArchcalcError, node) -> ArchcalcError:
        return err.at(file=self.model.file, line=node.line, layer=node.path)

    def run(self, nodes, x: Shape) -> Shape:
        for node in nodes:
            try:
                if isinstance(node, LayerNode):
                    x = self.layer(node, x)
                elif isinstance(node, ConcatNode):
                    x = self.concat(node, x)
                elif isinstance(node, SideNode):
                    self.run(node.layers, x)  # its rows count; its output feeds nothing
                else:
                    x = self.residual(node, x)
            except ArchcalcError as err:
                raise self.located(err, node) from None
        return x

    def layer(self, node: LayerNode, x: Shape) -> Shape:
        layer = node.layer
        if isinstance(layer, FullyConnected) and layer.in_features is None and node.path in self.pins:
            layer = replace(layer, in_features=self.pins[node.path])
        if isinstance(layer, FullyConnected):
            self.features[node.path] = x.numel
        counts = layer.counts(x)
        self.rows.append(Row(node.path, layer.label, x, counts, node.line, layer))
        return counts.out_shape

    def concat(self, node: ConcatNode, x: Shape) -> Shape:
        outs = [self.run(branch, x) for branch in node.branches]
        first = outs[0]
        for j, out in enumerate(outs[1:], 2):
            if out.rank != first.rank or not all(same_size(a, b) for a, b in
                                                 zip(out.dims[1:], first.dims[1:])):
                raise ShapeError(f"cannot concatenate along channels: branch 1 gives {first}, "
                                 f"branch {j} gives {out} (sizes after the channels must agree)")
        y = first.with_channels(sum((o.channels for o in outs[1:]), first.channels))
        self.rows.append(Row(node.path, "concat", x, Counts(y, 0, 0, 0, 0, y.numel), node.line))
        return y

    def residual(self, node: ResidualNode, x: Shape) -> Shape:
        body = self.run(node.body, x)
        shortcut = self.run(node.shortcut, x)
        if not same_shape(body, shortcut):
            raise ShapeError(f"residual add of mismatched shapes: body gives {body}, "
                             f"shortcut gives {shortcut}")
        n = body.numel
        act = node.activation
        flops = n + (ACTIVATION_FLOPS[act] * n if act else 0)
        label = f"add+{act}" if act else "add"
        self.rows.append(Row(node.path, label, x, Counts(body, 0, 2 * n, 0, flops, n), node.line))
        return body


def declared_features(model: Model) -> dict:
    """Input features of each fully connected layer at the model's declared input, by path."""
    first = _Pass(model, None)
    first.run(model.nodes, model.input_shape)
    return first.features


def propagate_partial(model: Model, input_shape: Shape | None = None, pins: dict | None = None,
                      fixed_head: bool = True) -> tuple[tuple, ArchcalcError | None]:
    """Like :func:`propagate`, but returns (rows before the error, the error or None).

    ``pins`` (from :func:`declared_features`) saves the declared pass when scanning sizes.
    """
    declared = model.input_shape
    if not fixed_head or input_shape is None or input_shape == declared:
        pins = None
    elif pins is None:
        try:
            pins = declared_features(model)
        except ArchcalcError as err:  # the spec fails on its own declared input
            return (), err
    p = _Pass(model, pins)
    try:
        p.run(model.nodes, input_shape or declared)
    except ArchcalcError as err:
        return tuple(p.rows), err
    return tuple(p.rows), None


def propagate(model: Model, input_shape: Shape | None = None,
              fixed_head: bool = True) -> tuple[Row, ...]:
    """Per-sample rows for ``model`` on ``input_shape`` (default: its declared input).

    Fully connected layers keep the input size their weights were made for: with a
    different input they are pinned to the features seen at the declared input, so a
    mismatch is an error, not a silently resized weight matrix.  ``fixed_head=False``
    lets them follow the input instead (to ask what a paper's other input size implies).
    """
    rows, error = propagate_partial(model, input_shape, fixed_head=fixed_head)
    if error is not None:
        raise error
    return rows
