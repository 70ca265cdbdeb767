"""Shape propagation: one walk over the model graph, a row of per-sample counts per node.

Pure computation on the validated model; works on ints, and unchanged on sympy sizes.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..errors import ArchcalcError
from ..layers import Counts
from ..layers.dense import FullyConnected
from .graph import Model, walk
from .shapes import Shape


@dataclass(frozen=True)
class Row:
    """One table row before batch and dtype are applied."""

    name: str
    type: str
    #: the shapes of the tensors the node reads, in its ``inputs`` order
    in_shapes: tuple
    counts: Counts
    line: int | None = None
    #: the Layer behind the row, for analyses and other tools' counting rules
    layer: object = None

    @property
    def in_shape(self) -> Shape:
        """The first (for most layers the only) input's shape."""
        return self.in_shapes[0]


class _Pass:
    def __init__(self, model: Model, pins: dict | None):
        self.model = model
        self.pins = pins or {}
        self.rows: list[Row] = []
        #: input features seen by each fully connected layer, by path
        self.features: dict[str, object] = {}

    def step(self, node, shapes: tuple) -> Shape:
        layer = node.layer
        try:
            if isinstance(layer, FullyConnected):
                if layer.in_features is None and node.path in self.pins:
                    layer = replace(layer, in_features=self.pins[node.path])
                self.features[node.path] = shapes[0].numel
            counts = layer.counts(layer.take(shapes))
        except ArchcalcError as err:
            if layer.arity != 1 and not err.layer:  # say which tensors met
                names = ", ".join(f"'{name}'" for name in node.inputs)
                err = type(err)(f"{err.message} (inputs {names})", key=err.key)
            raise err.at(file=self.model.file, line=node.line, layer=node.path) from None
        self.rows.append(Row(node.path, layer.label, shapes, counts, node.line, layer))
        return counts.out_shape

    def run(self, x: Shape) -> None:
        walk(self.model, x, self.step)


def counter(model: Model, pins: dict | None = None):
    """The engine's step for callers that walk the graph their own way (the sweep's
    memoised walk, :mod:`archcalc.analyses.sweep`): ``step(node, input_shapes)`` → the
    node's per-sample :class:`Counts`, errors located as :func:`propagate` locates them;
    ``pins`` as :func:`declared_features` gives them (fully connected layers fixed)."""
    run = _Pass(model, pins)

    def step(node, shapes: tuple) -> Counts:
        run.step(node, shapes)
        return run.rows.pop().counts
    return step


def declared_features(model: Model) -> dict:
    """Input features of each fully connected layer at the model's declared input, by path."""
    first = _Pass(model, None)
    first.run(model.input_shape)
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
        p.run(input_shape or declared)
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
