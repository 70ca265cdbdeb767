"""Several models side by side (``archcalc compare``): one entry of totals per model.

Besides the table's totals an entry gives two measures of size and one of memory:

* ``layers``: the nodes of the graph — every row of ``archcalc table`` (activations,
  norms, merges included);
* ``depth``: the most *weight layers* on any path from the input to an output, a weight
  layer being one with parameters that does multiply-accumulates (a convolution, a dense
  layer, LeNet-5's RBF; not a batch norm, whose parameters only scale and shift).  This
  is the count in a model's name: VGG-16 has 16, ResNet-50 50 (its projection shortcuts
  run beside the convolutions they skip, so they do not lengthen the path), GoogLeNet 22;
* ``peak_memory_bytes``: the most memory archcalc's NumPy forward holds at once — the
  params, the input and every activation still alive, and a layer's workspace — as
  ``verify`` predicts it and checks it against ``tracemalloc`` (docs/conventions.md,
  "Memory in verify"); None when that prediction is not defined for the model.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..core.graph import Model, walk
from ..core.report import Report, analyse
from ..core.shapes import Shape
from ..errors import ArchcalcError


@dataclass(frozen=True)
class Entry:
    """One model's totals, as ``compare`` prints them."""

    model: str
    input_shape: Shape
    batch: int
    dtype: str
    layers: int
    depth: int
    params: int
    connections: int
    macs: int
    flops: int
    activations: int
    activation_bytes: int
    param_bytes: int
    peak_memory_bytes: int | None
    convention: str = "archcalc"


def is_weight_layer(row) -> bool:
    """A row with parameters that does multiply-accumulates (conv, dense, RBF)."""
    return row.params > 0 and row.macs > 0


def weighted_depth(model: Model, report: Report) -> int:
    """The most weight layers on a path from the input to any node (the longest path,
    each node weighing 1 when :func:`is_weight_layer`, else 0); ``report`` is the
    model's own report (one row per node, in order)."""
    weight = {node.path: int(is_weight_layer(row)) for node, row in zip(model.nodes, report.layers)}
    deepest = walk(model, 0, lambda node, inputs: max(inputs) + weight[node.path])
    ends = [deepest[name] for name in model.outputs if name in deepest] or [0]
    return max(ends)


def peak_memory(model: Model, report: Report) -> int | None:
    """The predicted peak bytes of archcalc's NumPy forward (``verify``'s prediction)."""
    from ..numeric.verify import predicted_memory

    try:
        return max(predicted_memory(report, model), default=0)
    except (ArchcalcError, ValueError, TypeError, NotImplementedError):
        return None


def entry(model: Model, input_shape: Shape | None = None, batch: int = 1,
          dtype: str | None = None, convention: str = "archcalc",
          with_memory: bool = True) -> Entry:
    """The totals of ``model`` at ``input_shape`` (default: its own) and ``batch``."""
    from ..conventions import apply

    own = analyse(model, input_shape, batch=batch, dtype=dtype)
    report = apply(own, convention)
    t = report.totals
    return Entry(model=model.name, input_shape=report.input_shape, batch=batch,
                 dtype=report.dtype, layers=len(model.nodes), depth=weighted_depth(model, own),
                 params=t.params, connections=t.connections, macs=t.macs, flops=t.flops,
                 activations=t.activations, activation_bytes=t.activation_bytes,
                 param_bytes=t.param_bytes,
                 peak_memory_bytes=peak_memory(model, own) if with_memory else None,
                 convention=convention)


def compare(models, input_shape=None, batch: int = 1, dtype: str | None = None,
            convention: str = "archcalc", with_memory: bool = True) -> tuple:
    """One :class:`Entry` per model, in order.  ``input_shape`` (a Shape, or a callable
    from a model to its Shape, or None for each model's own) applies to every model."""
    out = []
    for model in models:
        shape = input_shape(model) if callable(input_shape) else input_shape
        out.append(entry(model, shape, batch, dtype, convention, with_memory))
    return tuple(out)

