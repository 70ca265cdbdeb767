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


def _is_int(n) -> bool:
    return isinstance(n, int) or getattr(n, "is_Integer", False)


def formula(n) -> str:
    """A symbolic figure (a sympy expression, symbolic mode only) as a readable formula."""
    from .symbolic import formula as sympy_formula  # sympy stays off the integer path

    return sympy_formula(n)


def shape_text(shape) -> str:
    """C×H×W, formulas in parentheses when they are sums (symbolic mode)."""
    def dim(d) -> str:
        if _is_int(d):
            return str(int(d))
        text = formula(d)
        return f"({text})" if getattr(d, "is_Add", False) else text

    return "×".join(dim(d) for d in shape.dims)


def json_value(n):
    """An exact JSON integer, or in symbolic mode the formula as a sympify-able string."""
    return int(n) if _is_int(n) else formula(n)


def human_bytes(n: int) -> str:
    """Binary units, three significant figures: 1,161,600 → '1.11 MiB'."""
    if not _is_int(n):
        return f"{formula(n)} B"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{n} B" if unit == "B" else f"{value:.3g} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def human_count(n: int) -> str:
    """Decimal units for a summary line: 60,965,224 → '61.0 M'."""
    if not _is_int(n):
        return formula(n)
    for unit, scale in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return str(n)


def _cells(report: Report, grouped: bool, bytes_human: bool, rf=None) -> tuple[list[list[str]], list[str]]:
    def num(n: int) -> str:
        if not _is_int(n):
            return formula(n)
        return f"{int(n):,}" if grouped else str(int(n))

    def act_bytes(n: int) -> str:
        return human_bytes(n) if bytes_human else num(n)

    rows = []
    for r in report.layers:
        rows.append([r.name, r.type, shape_text(r.out_shape), num(r.params), num(r.connections),
                     num(r.macs), num(r.flops), num(r.activations), act_bytes(r.activation_bytes)])
    t = report.totals
    total = ["total", "", "", num(t.params), num(t.connections), num(t.macs), num(t.flops),
             num(t.activations), act_bytes(t.activation_bytes)]
    if rf is not None:  # table --rf: receptive-field columns after the counts
        rows = [row + rf_cells(f) for row, f in zip(rows, rf)]
        total = total + [""] * len(RF_HEADERS)
    return rows, total


def _columns(rf) -> list:
    extra = [Column(h.lower().replace(" ", "_"), h, numeric=h != "RF note") for h in RF_HEADERS]
    return list(COLUMNS) + (extra if rf is not None else [])


def _summary(report: Report) -> str:
    t = report.totals
    params = f"{int(t.params):,}" if _is_int(t.params) else formula(t.params)
    notes = "".join(f"\nnote: {note}" for note in getattr(report, "notes", ()))
    head = f"{report.model} · input {shape_text(report.input_shape)} · batch {report.batch} · {report.dtype}"
    if not _is_int(t.macs):  # symbolic: the total formulas are in the 'total' block
        return f"{head}\nparams {params} ({human_bytes(t.param_bytes)})" + notes
    return (f"{head}\n"
            f"params {params} ({human_bytes(t.param_bytes)}) · MACs {human_count(t.macs)} · "
            f"FLOPs {human_count(t.flops)} · activations {human_bytes(t.activation_bytes)}"
            + notes)


def _format_text_symbolic(report: Report) -> str:
    """Symbolic figures are too wide for columns: one block per layer, a field per line."""
    rows, total = _cells(report, grouped=True, bytes_human=False)
    keys = [c.key for c in COLUMNS]
    out = [_summary(report), ""]
    for row in rows + [total]:
        cells = dict(zip(keys, row))
        out.append(f"{cells['name']}" + (f" ({cells['type']})" if cells["type"] else ""))
        for c in COLUMNS[2:]:
            if cells[c.key]:
                out.append(f"  {c.header + ':':<13} {cells[c.key]}")
    return "\n".join(out) + "\n"


def format_text(report: Report, rf=None) -> str:
    """Aligned columns, thousands separators, activation memory in binary units."""
    if not _is_int(report.totals.macs):
        return _format_text_symbolic(report)
    from tabulate import tabulate

    # The element count is left to the other formats so AlexNet fits 100 columns;
    # its memory (activations × dtype bytes) is shown instead.
    columns = _columns(rf)
    keep = [i for i, c in enumerate(columns) if c.key != "activations"]
    rows, total = _cells(report, grouped=True, bytes_human=True, rf=rf)
    rows = [[row[i] for i in keep] for row in rows]
    total = [total[i] for i in keep]
    headers = [columns[i].header for i in keep]
    align = ["right" if columns[i].numeric else "left" for i in keep]
    table = tabulate(rows + [total], headers=headers, tablefmt="simple", colalign=align,
                     disable_numparse=True)
    lines = table.split("\n")
    rule = lines[1]
    lines.insert(len(lines) - 1, rule)  # a rule above the totals
    return _summary(report) + "\n\n" + "\n".join(lines) + "\n"


def format_markdown(report: Report, rf=None) -> str:
    """A GitHub pipe table, ready to paste; totals in bold on the last row."""
    rows, total = _cells(report, grouped=True, bytes_human=False, rf=rf)
    columns = _columns(rf)
    headers = [c.header for c in columns]
    out = ["| " + " | ".join(headers) + " |",
           "|" + "|".join("---:" if c.numeric else ":---" for c in columns) + "|"]
    esc = [[cell.replace("|", "\\|") for cell in row] for row in rows]
    out += ["| " + " | ".join(row) + " |" for row in esc]
    out.append("| " + " | ".join(f"**{cell}**" if cell else "" for cell in total) + " |")
    notes = getattr(report, "notes", ())
    if notes:
        out += [""] + [f"- {note}" for note in notes]
    return "\n".join(out) + "\n"


def format_csv(report: Report, rf=None) -> str:
    """One row per layer plus a 'total' row; plain integers, shapes as C×H×W."""
    rows, total = _cells(report, grouped=False, bytes_human=False, rf=rf)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([c.key for c in _columns(rf)])
    writer.writerows(rows + [total])
    return buf.getvalue()


def to_json_dict(report: Report, rf=None) -> dict:
    """The documented JSON contract (docs/json.md); every count is a JSON integer.
    With ``rf`` (table --rf) each layer also has "rf", "jump" and "start"."""
    v = json_value
    layers = [{
        "name": r.name, "type": r.type, "output": [v(d) for d in r.out_shape.dims],
        "params": v(r.params), "connections": v(r.connections), "macs": v(r.macs),
        "flops": v(r.flops), "activations": v(r.activations),
        "activation_bytes": v(r.activation_bytes),
    } for r in report.layers]
    if rf is not None:
        layers = [{**layer, **rf_json(f)} for layer, f in zip(layers, rf)]
    t = report.totals
    out = {
        "model": report.model,
        "input": [v(d) for d in report.input_shape.dims],
        "batch": v(report.batch),
        "dtype": report.dtype,
        "layers": layers,
        "totals": {"params": v(t.params), "connections": v(t.connections), "macs": v(t.macs),
                   "flops": v(t.flops), "activations": v(t.activations),
                   "activation_bytes": v(t.activation_bytes), "param_bytes": v(t.param_bytes)},
    }
    if hasattr(report, "conditions"):  # symbolic mode (docs/json.md, "Symbolic mode")
        out["symbolic"] = {
            "conditions": [{"layer": c.layer, "equation": c.equation} for c in report.conditions],
            "min_input": list(report.min_input) if report.min_input else None,
            "open_above": report.open_above,
            "notes": list(report.notes),
        }
    return out


def format_json(report: Report, rf=None) -> str:
    return json.dumps(to_json_dict(report, rf), indent=2, ensure_ascii=False) + "\n"


FORMATTERS: dict[str, Callable[[Report], str]] = {
    "text": format_text, "markdown": format_markdown, "csv": format_csv, "json": format_json,
}


# --- sizes and receptive fields ---------------------------------------------------------

def _spans(values: list) -> str:
    """[1, 2, 3, 7] → '1–3, 7'."""
    out, start, prev = [], None, None
    for v in values + [None]:
        if start is not None and (v is None or v != prev + 1):
            out.append(str(start) if start == prev else f"{start}–{prev}")
            start = None
        if v is not None and start is None:
            start = v
        prev = v
    return ", ".join(out) or "none"


def sizes_json(scan) -> dict:
    """docs/json.md, 'sizes': square scans give sizes as integers, others as [H, W]."""
    size = (lambda hw: hw[0]) if scan.square else list
    out = {"model": scan.model}
    if scan.square:
        out.update({"min": scan.heights[0], "max": scan.heights[1]})
    else:
        out.update({"height": list(scan.heights), "width": list(scan.widths)})
    out.update({
        "valid": [size(s) for s in scan.valid],
        "exact": [size(s) for s in scan.exact],
        "inexact": [{"size": size(d.size), "layer": d.layer, "dropped": list(d.dropped),
                     "valid": d.valid} for d in scan.inexact],
        "smallest_valid": size(scan.smallest_valid) if scan.smallest_valid else None,
    })
    return out


def format_sizes(scan, fmt: str = "text") -> str:
    if fmt == "json":
        return json.dumps(sizes_json(scan), ensure_ascii=False) + "\n"
    from tabulate import tabulate

    if scan.square:
        where = f"square inputs {scan.heights[0]}–{scan.heights[1]}"
        show = lambda hw: str(hw[0])  # noqa: E731
        listed = lambda pairs: _spans([p[0] for p in pairs])  # noqa: E731
    else:
        where = (f"heights {scan.heights[0]}–{scan.heights[1]} × "
                 f"widths {scan.widths[0]}–{scan.widths[1]}")
        show = lambda hw: f"{hw[0]}×{hw[1]}"  # noqa: E731
        listed = lambda pairs: ", ".join(show(p) for p in pairs) or "none"  # noqa: E731
    smallest = show(scan.smallest_valid) if scan.smallest_valid else "none found"
    lines = [f"{scan.model} · {where}",
             f"smallest valid input: {smallest}",
             f"valid ({len(scan.valid)}): {listed(scan.valid)}",
             f"exact ({len(scan.exact)}): {listed(scan.exact)}"]
    if not scan.valid:
        lines.append("no valid size in this range")
    if scan.inexact:
        rows = [[show(d.size), d.layer, f"{d.dropped[0]} rows, {d.dropped[1]} cols",
                 "yes" if d.valid else "no"] for d in scan.inexact]
        lines += ["", "inexact sizes (first layer that drops input pixels):",
                  tabulate(rows, headers=["size", "layer", "dropped", "valid"], tablefmt="simple",
                           disable_numparse=True)]
    return "\n".join(lines) + "\n"


def _pair(values, show=str) -> str:
    """(7, 7) → '7'; (7, 5) → '7×5'; None → '—' (no grid)."""
    if values is None:
        return "—"
    a, b = (show(v) for v in values)
    return a if a == b else f"{a}×{b}"


def _number(x):
    """A Fraction as a JSON number: an integer when whole, else a float (halves are exact)."""
    return int(x) if x.denominator == 1 else float(x)


def _start_text(x) -> str:
    return str(_number(x))


def rf_cells(field) -> list:
    note = f"largest of {field.paths} paths" if field.paths > 1 else ""
    return [_pair(field.rf), _pair(field.jump), _pair(field.start, _start_text), note]


def rf_json(field) -> dict:
    out = {"rf": list(field.rf), "jump": list(field.jump) if field.jump else None,
           "start": [_number(s) for s in field.start]}
    if field.paths > 1:
        out["paths"] = field.paths  # the field is the largest over this many paths
    return out


RF_HEADERS = ["RF", "jump", "start", "RF note"]


def format_rf(model: str, fields, fmt: str = "text") -> str:
    """``archcalc rf``: sizes in input pixels, (height, width) pairs."""
    if fmt == "json":
        layers = [{"name": f.name, **rf_json(f)} for f in fields]
        return json.dumps({"model": model, "layers": layers}, ensure_ascii=False) + "\n"
    from tabulate import tabulate

    rows = [[f.name] + rf_cells(f) for f in fields]
    table = tabulate(rows, headers=["layer"] + RF_HEADERS[:3] + ["note"], tablefmt="simple",
                     colalign=("left", "right", "right", "right", "left"), disable_numparse=True)
    foot = ("\nRF, jump and start in input pixels (pixel i centred at i); — : no spatial grid "
            "(global layer); concat and residual rows give the largest field over their paths.")
    return f"{model} · receptive fields\n\n{table}\n{foot}\n"
