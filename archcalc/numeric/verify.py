"""``archcalc verify``: run a model in NumPy and check the engine against the arrays.

For every row the engine predicts, compare its output shape, params, MACs and memory with
what the forward pass actually held and did (docs/conventions.md, "Memory in verify").
"""
from __future__ import annotations

import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import ArchcalcError
from ..core.dtypes import NUMERIC_DTYPES
from ..core.graph import Model
from ..core.report import DTYPE_BYTES, analyse
from ..core.shapes import Shape

#: measured peak / predicted peak must lie in [1 / MEMORY_TOLERANCE, MEMORY_TOLERANCE]
MEMORY_TOLERANCE = 1.5
#: below this many bytes a prediction is not checked: Python's own bookkeeping dominates
MEMORY_FLOOR = 1 << 20


@dataclass(frozen=True)
class Check:
    """Engine vs NumPy for one row."""

    name: str
    type: str
    engine_shape: tuple
    numpy_shape: tuple
    engine_params: int
    numpy_params: int
    engine_macs: int
    numpy_macs: int
    predicted_bytes: int
    measured_bytes: int
    seconds: float

    @property
    def shape_ok(self) -> bool:
        return self.engine_shape == self.numpy_shape

    @property
    def params_ok(self) -> bool:
        return self.engine_params == self.numpy_params

    @property
    def macs_ok(self) -> bool:
        return self.engine_macs == self.numpy_macs

    @property
    def memory_ok(self) -> bool:
        return memory_agrees(self.predicted_bytes, self.measured_bytes)

    @property
    def ok(self) -> bool:
        return self.shape_ok and self.params_ok and self.macs_ok and self.memory_ok

    def disagreements(self) -> list[str]:
        out = []
        if not self.shape_ok:
            out.append(f"output shape: engine {_dims(self.engine_shape)}, numpy {_dims(self.numpy_shape)}")
        if not self.params_ok:
            out.append(f"params: engine {self.engine_params:,}, numpy {self.numpy_params:,}")
        if not self.macs_ok:
            out.append(f"MACs: engine {self.engine_macs:,}, numpy {self.numpy_macs:,}")
        if not self.memory_ok:
            out.append(f"memory: predicted {self.predicted_bytes:,} B, measured {self.measured_bytes:,} B "
                       f"(allowed ratio 1/{MEMORY_TOLERANCE:g}..{MEMORY_TOLERANCE:g})")
        return [f"{self.name}: {d}" for d in out]


def memory_agrees(predicted: int, measured: int) -> bool:
    if max(predicted, measured) < MEMORY_FLOOR:
        return True
    return predicted / MEMORY_TOLERANCE <= measured <= predicted * MEMORY_TOLERANCE


def _dims(dims: tuple) -> str:
    return "×".join(str(d) for d in dims)


@dataclass(frozen=True)
class Verification:
    model: str
    input_shape: Shape
    batch: int
    dtype: str
    seed: int
    checks: tuple
    forward_seconds: float
    predicted_peak: int
    measured_peak: int

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def disagreements(self) -> list[str]:
        return [d for c in self.checks for d in c.disagreements()]


def predicted_memory(report, model: Model, keep_outputs: bool = False) -> list[int]:
    """Predicted traced bytes at the peak of each row (docs/conventions.md, "Memory in
    verify"): params of the layers made so far + the input (its caller holds it) + every
    earlier output still alive (read by this node or a later one, or returned by the model;
    a view keeps the tensor it aliases alive) + this node's output and workspace.  With
    ``keep_outputs`` (``--save``) every output stays alive."""
    size = DTYPE_BYTES[report.dtype]
    end = len(model.nodes)
    owner, last, held = {}, {}, {}
    for node, row in zip(model.nodes, report.layers):
        base = owner.get(node.inputs[0]) if row.layer.is_view else None
        owner[node.path] = base or node.path
        held.setdefault(owner[node.path], row.activations)
    for name, i in model.last_use.items():
        if name in owner:
            storage = owner[name]
            last[storage] = max(last.get(storage, 0), end if keep_outputs else i)
    # each storage is alive from the node that makes it to its last reader: a sweep
    change = [0] * (end + 2)
    for storage, t in last.items():
        change[model.index[storage]] += held[storage]
        change[t + 1] -= held[storage]
    params = alive = 0
    out = []
    for i, row in enumerate(report.layers):
        params += row.params
        alive += change[i]
        extra = row.layer.workspace(row.layer.take(row.in_shapes), report.batch)
        out.append(size * (params + report.input_shape.numel * report.batch + alive + extra))
    return out


def available_memory(meminfo: str | Path = "/proc/meminfo") -> int | None:
    """MemAvailable in bytes, or None where the kernel does not say."""
    try:
        for line in Path(meminfo).read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def verify(model: Model, input_shape: Shape | None = None, batch: int = 1, seed: int = 0,
           dtype: str = "float32", available: int | None = None, save: str | None = None,
           on_layer: Callable | None = None) -> Verification:
    """Run ``model`` in NumPy and compare every row with the engine.

    ``available`` (bytes) defaults to MemAvailable; a run whose predicted peak exceeds it is
    refused before anything is allocated.  ``on_layer(run)`` is called after every row.
    """
    from . import runner

    if dtype not in NUMERIC_DTYPES:
        raise ArchcalcError(f"verify runs float32 or float64, not '{dtype}'")
    report = analyse(model, input_shape, batch=batch, dtype=dtype)
    predicted = predicted_memory(report, model, keep_outputs=bool(save))
    peak = max(predicted)
    if available is None:
        available = available_memory()
    if available is not None and peak > available:
        raise ArchcalcError(f"{model.name} at batch {batch} needs about {_gib(peak)} "
                            f"(params + activations + workspace, {dtype}) but only "
                            f"{_gib(available)} is available; lower --batch or --input")
    shape = report.input_shape
    _warm_up()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        x, runs = runner.forward(model, shape, batch, seed, dtype, on_layer=on_layer,
                                 keep_outputs=bool(save))
        seconds = sum(run.seconds for run in runs)  # forwards only, not making weights
        baseline_peak = tracemalloc.get_traced_memory()[1]
    finally:
        if not was_tracing:
            tracemalloc.stop()
    if save:
        _save(save, x, runs)
    by_name = {run.name: run for run in runs}
    checks = []
    for row, pred in zip(report.layers, predicted):
        run = by_name.get(row.name)
        if run is None:  # pragma: no cover - the runner walks the same tree as the engine
            raise AssertionError(f"no forward record for {row.name}")
        checks.append(Check(row.name, row.type, tuple(row.out_shape.dims), run.out_shape,
                            row.params, run.params, row.macs, run.macs, pred,
                            run.peak_bytes or 0, run.seconds))
    measured = max([c.measured_bytes for c in checks] + [baseline_peak])
    return Verification(model.name, shape, batch, dtype, seed, tuple(checks), seconds, peak, measured)


def _warm_up() -> None:
    """Import what NumPy loads lazily on first use, so module code is not traced as if it
    were the first layer's memory."""
    import numpy.ma  # noqa: F401  (np.unique, used by connection tables, loads it)
    import numpy.random

    numpy.random.default_rng(0).standard_normal(1)


def _save(path: str, x, runs) -> None:
    """One .npz: ``input``, then ``<layer>/<weight name>`` and ``<layer>/output``."""
    import numpy as np

    arrays = {"input": x}
    for run in runs:
        for key, array in run.weights.items():
            arrays[f"{run.name}/{key}"] = array
        arrays[f"{run.name}/output"] = run.output
    try:
        np.savez(path, **arrays)
    except OSError as err:
        raise ArchcalcError(f"cannot write {path}: {err.strerror}") from None
