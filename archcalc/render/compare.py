"""Rendering ``archcalc compare`` (one row per model) and ``archcalc sweep`` (one row per
configuration) as text, markdown, CSV, JSON or LaTeX.  Computes nothing."""
from __future__ import annotations

import json
from dataclasses import dataclass

from ..errors import ArchcalcError, did_you_mean
from .formatters import grouped, human_bytes, shape_text, simple_table


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    numeric: bool = True
    default: bool = True
    byte: bool = False   # bytes: binary units in text


COMPARE_COLUMNS = (
    Column("model", "model", numeric=False),
    Column("input", "input", numeric=False),
    Column("batch", "batch"),
    Column("dtype", "dtype", numeric=False, default=False),
    Column("layers", "layers"),
    Column("depth", "depth"),
    Column("params", "params"),
    Column("connections", "connections", default=False),
    Column("macs", "MACs"),
    Column("flops", "FLOPs"),
    Column("activations", "activations", default=False),
    Column("activation_bytes", "act. mem", byte=True),
    Column("param_bytes", "param mem", default=False, byte=True),
    Column("peak_memory_bytes", "peak mem", byte=True),
)
#: the keys every JSON entry of ``compare`` keeps (docs/json.md)
COMPARE_JSON_KEYS = ("model", "input", "batch", "dtype", "layers", "depth", "params",
                     "connections", "macs", "flops", "activations", "activation_bytes",
                     "param_bytes", "peak_memory_bytes")


def parse_keys(text: str, columns, flag: str = "--columns") -> tuple:
    by_key = {c.key: c for c in columns}
    keys = tuple(k.strip() for k in text.split(",") if k.strip())
    if not keys:
        raise ArchcalcError(f"{flag} needs at least one of: {', '.join(by_key)}")
    for k in keys:
        if k not in by_key:
            raise ArchcalcError(f"unknown column '{k}'{did_you_mean(k, by_key)}; "
                                f"choose from {', '.join(by_key)}")
    return keys


def _value(entry, key):
    if key == "input":
        return entry.input_shape
    return getattr(entry, key)


def _cell(column: Column, value, fmt: str) -> str:
    if value is None:
        return "—" if fmt in ("text", "markdown") else ""
    if hasattr(value, "dims"):
        return shape_text(value)
    if not column.numeric:
        return str(value)
    if fmt == "csv":
        return str(value)
    if column.byte and fmt == "text":
        return human_bytes(value)
    return grouped(value)


def _table(rows_of_values, columns, fmt: str, title: str = "", notes=(), width=None,
           droppable=()) -> str:
    headers = [c.header for c in columns]
    cells = [[_cell(c, v, fmt) for c, v in zip(columns, row)] for row in rows_of_values]
    if fmt == "text" and width is not None:  # fit the terminal: drop what matters least
        from .fit import fit, wrap

        keys = [c.key for c in columns]
        fitted = fit(keys, headers, cells, width, droppable)
        if fitted.dropped:
            kept = [keys.index(k) for k in fitted.keys]
            columns = [columns[i] for i in kept]
            headers = [headers[i] for i in kept]
            cells = fitted.rows
            shown = ", ".join(c.header for c in COMPARE_COLUMNS + SWEEP_COLUMNS
                              if c.key in fitted.dropped)
            notes = [f"{', '.join(dict.fromkeys(shown.split(', ')))} not shown to fit {width} "
                     f"columns (--format csv or json has every figure)"] + list(notes)
        notes = [wrap(n, width - 6) for n in notes]  # "note: " leads each
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow([c.key for c in columns])
        writer.writerows(cells)
        return buf.getvalue()
    if fmt == "markdown":
        out = ["| " + " | ".join(headers) + " |",
               "|" + "|".join("---:" if c.numeric else ":---" for c in columns) + "|"]
        out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in cells]
        return "\n".join(out + [""] + [f"- {n}" for n in notes]).rstrip("\n") + "\n"
    if fmt == "latex":
        from .latex import escape, tabular

        raw = [[v if isinstance(v, int) and c.numeric else _cell(c, v, "csv")
                for c, v in zip(columns, row)] for row in rows_of_values]
        body = tabular(headers, [c.numeric for c in columns], raw, None)
        return "".join(f"% {escape(n)}\n" for n in ([title] if title else []) + list(notes)) + body
    lines = simple_table(cells, headers, [c.numeric for c in columns])
    return (f"{title}\n\n" if title else "") + "\n".join(lines) + "\n" + \
        "".join("note: " + n.replace("\n", "\n      ") + "\n" for n in notes)


def compare_json(entries, keys=None) -> dict:
    """docs/json.md, ``compare``: ``{"models": [entry, ...]}``, counts as integers."""
    keys = keys or COMPARE_JSON_KEYS
    out = []
    for e in entries:
        doc = {}
        for k in keys:
            v = _value(e, k)
            doc[k] = list(v.dims) if k == "input" else v
        if e.convention != "archcalc":
            doc["convention"] = e.convention
        out.append(doc)
    return {"models": out}


def format_compare(entries, fmt: str = "text", keys=None, width: int | None = None) -> str:
    if fmt == "json":
        return json.dumps(compare_json(entries, keys), indent=2, ensure_ascii=False) + "\n"
    by_key = {c.key: c for c in COMPARE_COLUMNS}
    columns = [by_key[k] for k in keys] if keys else [c for c in COMPARE_COLUMNS if c.default]
    rows = [[_value(e, c.key) for c in columns] for e in entries]
    notes = []
    conventions = {e.convention for e in entries} - {"archcalc"}
    if conventions:
        notes.append(f"MACs and FLOPs counted as {', '.join(sorted(conventions))} counts them")
    if any(c.key == "depth" for c in columns):
        notes.append("depth: the most weight layers (convolutions, dense layers) on a path "
                     "from the input to an output")
    if any(c.key == "peak_memory_bytes" for c in columns):
        notes.append("peak mem: params, input and live activations at the peak of archcalc's "
                     "NumPy forward (as verify predicts it)")
    return _table(rows, columns, fmt, notes=notes, width=width,
                  droppable=("flops", "layers", "batch", "activation_bytes", "input"))


SWEEP_COLUMNS = (
    Column("input", "input", numeric=False),
    Column("batch", "batch"),
    Column("params", "params"),
    Column("macs", "MACs"),
    Column("flops", "FLOPs"),
    Column("activation_bytes", "act. mem", byte=True),
)


def _option_text(value) -> str:
    """An option value as --option takes it: true/false for booleans."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def sweep_json(result) -> dict:
    """docs/json.md, ``sweep``: ``{"model", "options", "rows": [...], "pareto": [i, ...]}``."""
    rows = []
    for i, p in enumerate(result.points):
        row = {"options": dict(p.options), "input": list(p.input_shape.dims), "batch": p.batch,
               "dtype": p.dtype, "params": p.params, "connections": p.connections,
               "macs": p.macs, "flops": p.flops, "activations": p.activations,
               "activation_bytes": p.activation_bytes}
        if p.error is not None:
            row["error"] = p.error
        rows.append(row)
    return {"model": result.model, "options": list(result.option_names), "rows": rows,
            "pareto": list(result.pareto)}


def format_sweep(result, fmt: str = "text", width: int | None = None) -> str:
    """One row per configuration; '*' marks the Pareto front of params and MACs."""
    if fmt == "json":
        return json.dumps(sweep_json(result), indent=2, ensure_ascii=False) + "\n"
    front = set(result.pareto)
    errors = any(p.error for p in result.points)
    columns = [Column(f"option:{n}", n, numeric=False) for n in result.option_names]
    columns += list(SWEEP_COLUMNS) + [Column("pareto", "pareto", numeric=False)]
    if errors:
        columns.append(Column("error", "error", numeric=False))
    # text and markdown name each distinct error once, in a note; CSV gives it whole
    refs: dict = {}
    rows = []
    for i, p in enumerate(result.points):
        row = [_option_text(v) for _, v in p.options]
        row += [p.input_shape, p.batch, p.params, p.macs, p.flops, p.activation_bytes]
        row.append("*" if i in front else "")
        if errors:
            if p.error is None or fmt == "csv":
                row.append(p.error or "")
            else:
                row.append(f"invalid [{refs.setdefault(p.error, len(refs) + 1)}]")
        rows.append(row)
    valid = sum(p.valid for p in result.points)
    many = len(result.points)
    notes = [f"{many:,} configuration{'s' if many != 1 else ''}, {valid:,} valid; * : on the "
             f"Pareto front of params and MACs (no other configuration has fewer of one and "
             f"no more of the other), {len(front):,} of them"]
    notes += [f"[{n}] {error}" for error, n in refs.items()]
    title = f"{result.model} · sweep" if fmt == "text" else ""
    return _table(rows, columns, fmt, title=title, notes=notes, width=width,
                  droppable=("flops", "activation_bytes", "batch"))
