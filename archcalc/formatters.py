"""Rendering a :class:`Report` as text, markdown, CSV or JSON.  The only module that
knows about columns, separators and units; it computes nothing."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Callable

from .report import Report

FORMATS = ("text", "markdown", "csv", "json")


@dataclass(frozen=True)
class Column:
    key: str           # the field of LayerReport / Totals, and the JSON and CSV name
    header: str        # the table heading
    numeric: bool = True


COLUMNS = (
    Column("name", "layer", numeric=False),
    Column("type", "type", numeric=False),
    Column("output", "output", numeric=False),
    Column("params", "params"),
    Column("connections", "connections"),
    Column("macs", "MACs"),
    Column("flops", "FLOPs"),
    Column("activations", "activations"),
    Column("activation_bytes", "act. mem"),
)


def human_bytes(n: int) -> str:
    """Binary units, three significant figures: 1,161,600 → '1.11 MiB'."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{n} B" if unit == "B" else f"{value:.3g} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def human_count(n: int) -> str:
    """Decimal units for a summary line: 60,965,224 → '61.0 M'."""
    for unit, scale in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return str(n)


def _cells(report: Report, grouped: bool, bytes_human: bool) -> tuple[list[list[str]], list[str]]:
    def num(n: int) -> str:
        return f"{n:,}" if grouped else str(n)

    def act_bytes(n: int) -> str:
        return human_bytes(n) if bytes_human else num(n)

    rows = []
    for r in report.layers:
        rows.append([r.name, r.type, str(r.out_shape), num(r.params), num(r.connections),
                     num(r.macs), num(r.flops), num(r.activations), act_bytes(r.activation_bytes)])
    t = report.totals
    total = ["total", "", "", num(t.params), num(t.connections), num(t.macs), num(t.flops),
             num(t.activations), act_bytes(t.activation_bytes)]
    return rows, total


def _summary(report: Report) -> str:
    t = report.totals
    return (f"{report.model} · input {report.input_shape} · batch {report.batch} · {report.dtype}\n"
            f"params {t.params:,} ({human_bytes(t.param_bytes)}) · MACs {human_count(t.macs)} · "
            f"FLOPs {human_count(t.flops)} · activations {human_bytes(t.activation_bytes)}")


def format_text(report: Report) -> str:
    """Aligned columns, thousands separators, activation memory in binary units."""
    from tabulate import tabulate

    # The element count is left to the other formats so AlexNet fits 100 columns;
    # its memory (activations × dtype bytes) is shown instead.
    keep = [i for i, c in enumerate(COLUMNS) if c.key != "activations"]
    rows, total = _cells(report, grouped=True, bytes_human=True)
    rows = [[row[i] for i in keep] for row in rows]
    total = [total[i] for i in keep]
    headers = [COLUMNS[i].header for i in keep]
    align = ["right" if COLUMNS[i].numeric else "left" for i in keep]
    table = tabulate(rows + [total], headers=headers, tablefmt="simple", colalign=align,
                     disable_numparse=True)
    lines = table.split("\n")
    rule = lines[1]
    lines.insert(len(lines) - 1, rule)  # a rule above the totals
    return _summary(report) + "\n\n" + "\n".join(lines) + "\n"


def format_markdown(report: Report) -> str:
    """A GitHub pipe table, ready to paste; totals in bold on the last row."""
    rows, total = _cells(report, grouped=True, bytes_human=False)
    headers = [c.header for c in COLUMNS]
    out = ["| " + " | ".join(headers) + " |",
           "|" + "|".join("---:" if c.numeric else ":---" for c in COLUMNS) + "|"]
    esc = [[cell.replace("|", "\\|") for cell in row] for row in rows]
    out += ["| " + " | ".join(row) + " |" for row in esc]
    out.append("| " + " | ".join(f"**{cell}**" if cell else "" for cell in total) + " |")
    return "\n".join(out) + "\n"


def format_csv(report: Report) -> str:
    """One row per layer plus a 'total' row; plain integers, shapes as C×H×W."""
    rows, total = _cells(report, grouped=False, bytes_human=False)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([c.key for c in COLUMNS])
    writer.writerows(rows + [total])
    return buf.getvalue()


def to_json_dict(report: Report) -> dict:
    """The documented JSON contract (docs/json.md); every count is a JSON integer."""
    layers = [{
        "name": r.name, "type": r.type, "output": list(r.out_shape.dims),
        "params": r.params, "connections": r.connections, "macs": r.macs, "flops": r.flops,
        "activations": r.activations, "activation_bytes": r.activation_bytes,
    } for r in report.layers]
    t = report.totals
    return {
        "model": report.model,
        "input": list(report.input_shape.dims),
        "batch": report.batch,
        "dtype": report.dtype,
        "layers": layers,
        "totals": {"params": t.params, "connections": t.connections, "macs": t.macs,
                   "flops": t.flops, "activations": t.activations,
                   "activation_bytes": t.activation_bytes, "param_bytes": t.param_bytes},
    }


def format_json(report: Report) -> str:
    return json.dumps(to_json_dict(report), indent=2, ensure_ascii=False) + "\n"


FORMATTERS: dict[str, Callable[[Report], str]] = {
    "text": format_text, "markdown": format_markdown, "csv": format_csv, "json": format_json,
}
