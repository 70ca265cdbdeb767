"""Rendering a :class:`~archcalc.numeric.verify_train.TrainVerification` (``archcalc
verify --train``) as a text table or JSON."""
from __future__ import annotations

import json

from ..numeric.verify_train import TrainVerification
from .formatters import human_bytes
from .verify import OK, BAD, _mark


def _macs(c) -> str:
    if c.phase == "forward":
        engine, numpy = f"{c.engine_input_macs:,}", f"{c.numpy_input_macs:,}"
    else:
        engine = f"{c.engine_input_macs:,} + {c.engine_weight_macs:,}"
        numpy = f"{c.numpy_input_macs:,} + {c.numpy_weight_macs:,}"
    return f"{OK} {engine}" if c.macs_ok else f"{BAD} {engine} ≠ {numpy}"


def render_text(v: TrainVerification) -> str:
    from tabulate import tabulate

    rows = [[c.name, c.type, c.phase, _macs(c),
             f"{_mark(c.memory_ok)} {human_bytes(c.predicted_bytes)} / {human_bytes(c.measured_bytes)}",
             f"{c.seconds:.4f}"] for c in v.checks]
    headers = ["layer", "type", "step", "MACs (backward: input + weights)", "memory pred./meas.",
               "seconds"]
    frozen = f", frozen {', '.join(v.freeze)}" if v.freeze else ""
    peak_layer, peak_phase = v.peak_step
    lines = [f"{v.model} training step: input {v.input_shape}, batch {v.batch}, {v.dtype}, "
             f"seed {v.seed}{frozen}",
             tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True),
             f"forward {v.forward_seconds:.3f} s, backward {v.backward_seconds:.3f} s; loss {v.loss:.6g}",
             f"{_mark(v.saved_ok)} saved for backward: engine {human_bytes(v.engine_saved_bytes)}, "
             f"numpy {human_bytes(v.numpy_saved_bytes)}",
             f"{_mark(v.peak_ok)} peak memory: predicted {human_bytes(v.predicted_peak)} "
             f"({peak_layer}, {peak_phase}), measured {human_bytes(v.measured_peak)}",
             v.verdict()]
    lines.extend(f"  {d}" for d in v.disagreements())
    return "\n".join(lines) + "\n"


def render_json(v: TrainVerification) -> str:
    steps = [{
        "name": c.name, "type": c.type, "phase": c.phase, "time": c.time,
        "macs": {"engine": {"input": c.engine_input_macs, "weights": c.engine_weight_macs},
                 "numpy": {"input": c.numpy_input_macs, "weights": c.numpy_weight_macs},
                 "ok": c.macs_ok},
        "memory_bytes": {"predicted": c.predicted_bytes, "measured": c.measured_bytes,
                         "ok": c.memory_ok},
        "seconds": c.seconds, "ok": c.ok,
    } for c in v.checks]
    layer, phase = v.peak_step
    doc = {
        "model": v.model, "input": list(v.input_shape.dims), "batch": v.batch, "dtype": v.dtype,
        "seed": v.seed, "freeze": list(v.freeze), "train": True, "ok": v.ok, "steps": steps,
        "forward_seconds": v.forward_seconds, "backward_seconds": v.backward_seconds,
        "loss": v.loss,
        "saved_bytes": {"engine": v.engine_saved_bytes, "numpy": v.numpy_saved_bytes,
                        "ok": v.saved_ok},
        "peak_memory_bytes": {"predicted": v.predicted_peak, "measured": v.measured_peak,
                              "ok": v.peak_ok, "layer": layer, "phase": phase},
        "disagreements": v.disagreements(),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
