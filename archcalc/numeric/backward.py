"""A training step in NumPy: the forward in training mode, a loss, and the backward
through the graph in reverse, each layer's gradient code beside its forward
(``Layer.train_forward`` and ``Layer.backward_numpy``, helpers in
:mod:`archcalc.layers.npgrad`).

Which gradients each node computes is the engine's own rule
(:func:`archcalc.analyses.training.gradient_needs`: requires_grad, frozen layers).  The
runner holds exactly what a runtime holds, so that memory can be traced and compared with
the engine's timeline (docs/conventions.md, "verify --train"):

* forward: a tensor lives until its last reader, as in inference, unless a node keeps it
  for its backward — per node a :class:`~archcalc.layers.npgrad.Tape` of what
  ``Layer.saved`` names (the inputs and output it keeps, and the extras of the forward's
  cache), dropped after that node's backward;
* the loss: Σ ⟨output, R⟩ over the model's outputs, R a fixed random tensor of each
  output's shape (so the outputs' gradient is R);
* backward, last node first: a node that needs neither gradient runs none; a tensor's
  gradient is the sum of what its readers send it (added in place into the first that
  is the runner's own, as autograd's InputBuffer does),
  handed to its producer read-only and dropped after that producer's backward; the
  weights' gradients are kept to the end of the step (as ``.grad``, made at backward,
  PyTorch's ``zero_grad(set_to_none=True)``).

Each step records its MACs (forward: :class:`~archcalc.numeric.tally.Ops`; backward: one
tally for the input's gradient and one for the weights', :class:`GradOps`), its seconds
and, when ``tracemalloc`` is tracing, the peak traced bytes while it ran.
"""
from __future__ import annotations

import time
import tracemalloc
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..analyses.training import gradient_needs
from ..core.backward import Needs
from ..core.dtypes import NUMERIC_DTYPES
from ..core.engine import propagate
from ..core.graph import INPUT, Model
from ..core.shapes import Shape
from ..layers.npgrad import make_tape
from ..layers.npkit import BUFFERS
from .runner import layer_rng, make_input
from .tally import GradOps, Ops


@dataclass(frozen=True)
class Step:
    """One node's forward or backward, as it ran."""

    name: str
    type: str
    phase: str              # "forward" or "backward"
    time: int               # forward of node i: i; its backward: 2n − 1 − i (the engine's)
    index: int              # the node's position
    needs: Needs
    macs: int               # forward: every product; backward: input_macs + weight_macs
    input_macs: int         # backward: products for the inputs' gradient
    weight_macs: int        # backward: products for the weights' gradient
    seconds: float
    peak_bytes: int | None  # traced peak while it ran (None when not tracing)


@dataclass(frozen=True)
class TrainRun:
    """A whole step: its records, and the arrays tests compare."""

    x: object               # the input
    steps: tuple            # forward steps in order, then the backward steps run
    weights: dict           # path -> {name: array}
    grads: dict             # path -> {name: array}, the weights' gradients
    input_grad: object      # the model input's gradient (with ``input_grad``), else None
    loss: float
    #: bytes of the distinct arrays every tape held at the end of the forward
    saved_bytes: int


def loss_weights(model: Model, rows: tuple, batch: int, seed: int, dtype) -> dict:
    """R for each output: the loss is Σ ⟨output, R⟩, so the output's gradient is R."""
    shapes = {row.name: row.counts.out_shape for row in rows}
    rng = np.random.default_rng([seed, 2])
    return {name: rng.standard_normal((batch,) + tuple(shapes[name].dims), dtype=dtype)
            for name in model.outputs}


def _storages(value, seen: dict) -> None:
    """Record the owning buffer (the last ``.base``) of every array in ``value``."""
    if value is None:
        return
    if isinstance(value, (tuple, list)):
        for v in value:
            _storages(v, seen)
        return
    if isinstance(value, dict):
        _storages(tuple(value.values()), seen)
        return
    base = value
    while base.base is not None and isinstance(base.base, np.ndarray):
        base = base.base
    seen[id(base)] = base.nbytes


def tape_bytes(tapes) -> int:
    """Bytes of the distinct buffers a set of tapes holds (a tensor kept by several nodes,
    or through views of it, counts once)."""
    seen: dict = {}
    for tape in tapes:
        _storages((tape.x, tape.y, tape.cache), seen)
    return sum(seen.values())


def _peak() -> int | None:
    return tracemalloc.get_traced_memory()[1] if tracemalloc.is_tracing() else None


def _reset() -> None:
    if tracemalloc.is_tracing():
        tracemalloc.reset_peak()


def train_step(model: Model, input_shape: Shape | None = None, batch: int = 1, seed: int = 0,
               dtype: str = "float32", freeze: tuple = (), input_grad: bool = False,
               on_step: Callable[[Step], None] | None = None, weights: dict | None = None,
               x=None) -> TrainRun:
    """Run one training step of ``model`` (``freeze``: fnmatch patterns of layer paths
    whose weights are not trained; ``input_grad``: the input requires a gradient too).
    ``weights`` (path → arrays) and the input ``x`` replace the seeded ones (tests
    differentiate the step numerically)."""
    if dtype not in NUMERIC_DTYPES:
        raise ValueError(f"dtype must be one of {NUMERIC_DTYPES}, got {dtype!r}")
    rows = propagate(model, input_shape)
    needs, requires = gradient_needs(model, rows, freeze, input_grad)
    nodes, n = model.nodes, len(model.nodes)
    last = model.last_use
    kind = np.dtype(dtype)
    if x is None:
        x = make_input(input_shape or model.input_shape, batch, seed, dtype)
    if weights is None:
        weights = {node.path: node.layer.init_weights(node.layer.take(row.in_shapes),
                                                      layer_rng(seed, node.path), kind)
                   for node, row in zip(nodes, rows)}
    steps = []

    def record(step: Step) -> None:
        steps.append(step)
        if on_step is not None:
            on_step(step)

    # forward, in training mode
    values, tapes = {INPUT: x}, {}
    for i, (node, row, need) in enumerate(zip(nodes, rows, needs)):
        layer = node.layer
        _reset()
        ops = Ops(training=True, rng=layer_rng(seed + 1, node.path))
        arrays = tuple(values[name] for name in node.inputs)
        start = time.perf_counter()
        y, cache = layer.train_forward(layer.take(arrays), weights[node.path], ops)
        seconds = time.perf_counter() - start
        if need.any:
            wants = tuple(bool(requires.get(name)) for name in node.inputs)
            tapes[i] = make_tape(layer, layer.take(row.in_shapes), need, arrays, y, cache, batch,
                                 wants)
        values[node.path] = y
        del arrays, y, cache
        for name in set(node.inputs):
            if last[name] == i and name != INPUT:  # the caller holds the input
                del values[name]
        record(Step(node.path, layer.label, "forward", i, i, need, ops.macs, 0, 0, seconds, _peak()))
    saved_bytes = tape_bytes(tapes.values())

    # the loss, and the gradient of each output
    targets = loss_weights(model, rows, batch, seed, kind)
    loss = float(sum(np.vdot(values[name], r) for name, r in targets.items()))
    values.clear()
    grads = {name: r for name, r in targets.items() if requires.get(name)}
    del targets
    owned: set = set()

    # backward, last node first
    weight_grads = {}
    for i in reversed(range(n)):
        node, need = nodes[i], needs[i]
        if not need.any:
            continue
        layer = node.layer
        _reset()
        tape = tapes.pop(i)
        g = grads.pop(node.path, None)
        if g is None:  # pragma: no cover - every node needing a gradient reaches an output
            raise AssertionError(f"no gradient reached {node.path}")
        g.flags.writeable = False
        owned.discard(node.path)
        ops = GradOps()
        start = time.perf_counter()
        dx, dw = layer.backward_numpy(tape, g, weights[node.path], need, ops)
        seconds = time.perf_counter() - start
        del tape
        if need.weights:
            weight_grads[node.path] = dw
        dxs = (dx,) if layer.arity == 1 else dx
        for name, d in zip(node.inputs, dxs):
            if d is None or not requires.get(name):
                continue
            # a gradient this backward made for this tensor alone may take the sum in place
            fresh = not np.may_share_memory(d, g) and sum(e is d for e in dxs) == 1
            if name not in grads:
                grads[name] = d
                if fresh:
                    owned.add(name)
            elif name in owned:
                np.add(grads[name], d, out=grads[name])
            elif fresh:
                np.add(d, grads[name], out=d)
                grads[name] = d
                owned.add(name)
            else:
                grads[name] = grads[name] + d
                owned.add(name)
        del dx, dxs, dw, d, g
        record(Step(node.path, layer.label, "backward", 2 * n - 1 - i, i, need, ops.macs,
                    ops.input.macs, ops.weights.macs, seconds, _peak()))
    return TrainRun(x, tuple(steps), weights, weight_grads, grads.get(INPUT), loss, saved_bytes)


def trainable(weights: dict) -> dict:
    """The arrays of one layer's weights that are trained (buffers left out)."""
    return {k: v for k, v in weights.items() if k not in BUFFERS}
