"""Rendering a :class:`~archcalc.numeric.verify.Verification` as a text table or JSON."""
from __future__ import annotations

import json

from .formatters import human_bytes
from ..numeric.verify import Verification

OK, BAD = "✓", "✗"


def _mark(ok: bool) -> str:
    return OK if ok else BAD


def _dims(dims) -> str:
    return "×".join(str(d) for d in dims)


def _pair(ok: bool, engine: str, numpy: str) -> str:
    return f"{OK} {engine}" if ok else f"{BAD} {engine} ≠ {numpy}"


def render_text(v: Verification) -> str:
    from tabulate import tabulate

    rows = []
    for c in v.checks:
        rows.append([
            c.name, c.type,
            _pair(c.shape_ok, _dims(c.engine_shape), _dims(c.numpy_shape)),
            _pair(c.params_ok, f"{c.engine_params:,}", f"{c.numpy_params:,}"),
            _pair(c.macs_ok, f"{c.engine_macs:,}", f"{c.numpy_macs:,}"),
            f"{_mark(c.memory_ok)} {human_bytes(c.predicted_bytes)} / {human_bytes(c.measured_bytes)}",
            f"{c.seconds:.4f}",
        ])
    headers = ["layer", "type", "output", "params", "MACs", "memory pred./meas.", "seconds"]
    lines = [f"{v.model}: input {v.input_shape}, batch {v.batch}, {v.dtype}, seed {v.seed}",
             tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True),
             f"forward: {v.forward_seconds:.3f} s; peak memory: predicted "
             f"{human_bytes(v.predicted_peak)}, measured {human_bytes(v.measured_peak)}"]
    if v.ok:
        lines.append(f"{OK} all {len(v.checks)} layers agree with the engine")
    else:
        lines.append(f"{BAD} {len(v.disagreements())} disagreements:")
        lines.extend(f"  {d}" for d in v.disagreements())
    return "\n".join(lines) + "\n"


def render_json(v: Verification) -> str:
    rows = []
    for c in v.checks:
        rows.append({
            "name": c.name, "type": c.type,
            "output": {"engine": list(c.engine_shape), "numpy": list(c.numpy_shape), "ok": c.shape_ok},
            "params": {"engine": c.engine_params, "numpy": c.numpy_params, "ok": c.params_ok},
            "macs": {"engine": c.engine_macs, "numpy": c.numpy_macs, "ok": c.macs_ok},
            "memory_bytes": {"predicted": c.predicted_bytes, "measured": c.measured_bytes,
                             "ok": c.memory_ok},
            "seconds": c.seconds,
            "ok": c.ok,
        })
    doc = {
        "model": v.model, "input": list(v.input_shape.dims), "batch": v.batch,
        "dtype": v.dtype, "seed": v.seed, "ok": v.ok, "layers": rows,
        "forward_seconds": v.forward_seconds,
        "peak_memory_bytes": {"predicted": v.predicted_peak, "measured": v.measured_peak},
        "disagreements": v.disagreements(),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
