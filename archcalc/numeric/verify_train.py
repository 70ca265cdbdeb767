"""``archcalc verify --train``: run a training step in NumPy and check the engine's
training figures against it (docs/conventions.md, "verify --train").

Per step — the forward of every node, then the backward of every node that runs one —
compare the MACs the engine states (forward; the backward's input and weight MACs apart)
with those the real products performed, and the traced peak memory with the engine's
timeline; over the step, the bytes every tape held at the end of the forward with the
engine's saved-activation bytes.
"""
from __future__ import annotations

import tracemalloc
from dataclasses import dataclass
from typing import Callable

from ..analyses.training import analyse_training, gradient_needs
from ..core.backward import Needs
from ..core.dtypes import DTYPE_BYTES, NUMERIC_DTYPES
from ..core.engine import propagate
from ..core.graph import Model
from ..core.shapes import Shape
from ..errors import ArchcalcError
from .verify import MEMORY_TOLERANCE, _gib, _warm_up, available_memory, memory_agrees


@dataclass(frozen=True)
class TrainCheck:
    """Engine vs NumPy for one step of the training step."""

    name: str
    type: str
    phase: str          # "forward" or "backward"
    time: int
    engine_input_macs: int   # forward: every product; backward: the inputs' gradient's
    numpy_input_macs: int
    engine_weight_macs: int  # backward: the weights' gradient's (0 on forward steps)
    numpy_weight_macs: int
    predicted_bytes: int
    measured_bytes: int
    seconds: float

    @property
    def macs_ok(self) -> bool:
        return (self.engine_input_macs, self.engine_weight_macs) == \
            (self.numpy_input_macs, self.numpy_weight_macs)

    @property
    def memory_ok(self) -> bool:
        return memory_agrees(self.predicted_bytes, self.measured_bytes)

    @property
    def ok(self) -> bool:
        return self.macs_ok and self.memory_ok

    def disagreements(self) -> list[str]:
        out = []
        where = f"{self.name} ({self.phase})"
        if self.phase == "forward" and not self.macs_ok:
            out.append(f"{where}: MACs: engine {self.engine_input_macs:,}, numpy {self.numpy_input_macs:,}")
        elif not self.macs_ok:
            out.append(f"{where}: backward MACs (input + weights): engine {self.engine_input_macs:,} + "
                       f"{self.engine_weight_macs:,}, numpy {self.numpy_input_macs:,} + "
                       f"{self.numpy_weight_macs:,}")
        if not self.memory_ok:
            out.append(f"{where}: memory: predicted {self.predicted_bytes:,} B, measured "
                       f"{self.measured_bytes:,} B (allowed ratio "
                       f"1/{MEMORY_TOLERANCE:g}..{MEMORY_TOLERANCE:g})")
        return out


@dataclass(frozen=True)
class TrainVerification:
    model: str
    input_shape: Shape
    batch: int
    dtype: str
    seed: int
    freeze: tuple
    checks: tuple
    forward_seconds: float
    backward_seconds: float
    predicted_peak: int
    measured_peak: int
    #: the step holding the predicted peak: (layer, phase)
    peak_step: tuple
    engine_saved_bytes: int
    numpy_saved_bytes: int
    loss: float

    @property
    def saved_ok(self) -> bool:
        return self.engine_saved_bytes == self.numpy_saved_bytes

    @property
    def peak_ok(self) -> bool:
        return memory_agrees(self.predicted_peak, self.measured_peak)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks) and self.saved_ok and self.peak_ok

    def disagreements(self) -> list[str]:
        out = [d for c in self.checks for d in c.disagreements()]
        if not self.saved_ok:
            out.append(f"saved for backward: engine {self.engine_saved_bytes:,} B, numpy "
                       f"{self.numpy_saved_bytes:,} B")
        if not self.peak_ok:
            out.append(f"peak memory: predicted {self.predicted_peak:,} B, measured "
                       f"{self.measured_peak:,} B")
        return out

    def verdict(self) -> str:
        """One line: what was checked and whether it all agrees."""
        steps = len(self.checks)
        if self.ok:
            return (f"✓ all {steps} steps agree with the engine: forward and backward MACs, "
                    f"saved bytes, memory")
        return f"✗ {len(self.disagreements())} disagreements in {steps} steps"


def _dropped(layer, x, y, batch: int, size: int) -> int:
    """Bytes of the cache a training forward makes for a backward that does not run (the
    extras a backward would keep), dropped as soon as the forward returns: its workspace."""
    extras = layer.saved(x, y, Needs(True, True)).extras
    return sum(e.elements * (e.itemsize or size) * (1 if e.per_batch else batch) for e in extras)


def predicted_step_memory(model: Model, input_shape: Shape | None, batch: int, dtype: str,
                          freeze: tuple = ()) -> tuple:
    """(the engine's training analysis, {(phase, node index): predicted traced bytes}).

    A step holds every weight (made before the first step), the gradients of the weights
    whose backward has run (this step's included), the activation memory the engine's
    timeline has at that time (docs/conventions.md, "Memory of a training step"), and the
    layer's own workspace in that step (``Layer.train_workspace``, ``backward_workspace``;
    a layer that runs no backward still runs its training forward, and the cache it makes
    is dropped at once: workspace of its forward step).
    """
    t = analyse_training(model, input_shape, batch=batch, dtype=dtype, freeze=freeze)
    rows = propagate(model, input_shape)
    needs, _ = gradient_needs(model, rows, freeze)
    size = DTYPE_BYTES[dtype]
    n = len(model.nodes)
    params = size * sum(row.counts.params for row in rows)
    out, grads = {}, 0
    for i, (node, row, need) in enumerate(zip(model.nodes, rows, needs)):
        x = node.layer.take(row.in_shapes)
        out["forward", i] = (params + t.moments[i].at(batch) + node.layer.train_workspace(x, batch, size)
                             + (0 if need.any else _dropped(node.layer, x, row.counts.out_shape, batch, size)))
    for i in reversed(range(n)):
        node, row, need = model.nodes[i], rows[i], needs[i]
        if not need.any:
            continue
        if need.weights:
            grads += size * row.counts.params
        x, y = node.layer.take(row.in_shapes), row.counts.out_shape
        out["backward", i] = (params + grads + t.moments[2 * n - 1 - i].at(batch)
                              + node.layer.backward_workspace(x, y, need, batch, size))
    return t, out


def verify_training(model: Model, input_shape: Shape | None = None, batch: int = 1,
                    seed: int = 0, dtype: str = "float32", freeze: tuple = (),
                    available: int | None = None, on_step: Callable | None = None) -> TrainVerification:
    """Run a training step of ``model`` in NumPy and compare every step with the engine.

    ``available`` (bytes) defaults to MemAvailable; a run whose predicted peak exceeds it
    is refused before anything is allocated.  ``on_step(step)`` is called after each step.
    """
    from .backward import train_step

    if dtype not in NUMERIC_DTYPES:
        raise ArchcalcError(f"verify runs float32 or float64, not '{dtype}'")
    t, predicted = predicted_step_memory(model, input_shape, batch, dtype, freeze)
    peak_key = max(predicted, key=predicted.get)
    peak = predicted[peak_key]
    if available is None:
        available = available_memory()
    if available is not None and peak > available:
        raise ArchcalcError(f"a training step of {model.name} at batch {batch} needs about "
                            f"{_gib(peak)} (weights, gradients, activations and workspace, "
                            f"{dtype}) but only {_gib(available)} is available; lower "
                            f"--batch or --input")
    rows = {row.name: row for row in t.rows}
    _warm_up()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        run = train_step(model, t.input_shape, batch, seed, dtype, freeze, on_step=on_step)
    finally:
        if not was_tracing:
            tracemalloc.stop()
    engine = propagate(model, t.input_shape)
    checks = []
    for step in run.steps:
        node = model.nodes[step.index]
        if step.phase == "forward":
            macs = (batch * engine[step.index].counts.macs, step.macs, 0, 0)
        else:
            row = engine[step.index]
            x, y = node.layer.take(row.in_shapes), row.counts.out_shape
            bw = node.layer.backward(x, y, rows[step.name].needs)
            macs = (batch * bw.input_macs, step.input_macs, batch * bw.weight_macs, step.weight_macs)
        checks.append(TrainCheck(step.name, step.type, step.phase, step.time, *macs,
                                 predicted[step.phase, step.index], step.peak_bytes or 0,
                                 step.seconds))
    measured = max(c.measured_bytes for c in checks)
    forward = sum(c.seconds for c in checks if c.phase == "forward")
    backward = sum(c.seconds for c in checks if c.phase == "backward")
    layer = model.nodes[peak_key[1]].path
    return TrainVerification(model.name, t.input_shape, batch, dtype, seed, tuple(freeze),
                             tuple(checks), forward, backward, peak, measured,
                             (layer, peak_key[0]), t.saved_bytes, run.saved_bytes, run.loss)


__all__ = ["TrainCheck", "TrainVerification", "predicted_step_memory", "verify_training"]
