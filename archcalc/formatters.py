"""Rendering a :class:`Report` as text, markdown, CSV or JSON.  The only module that
knows about columns, separators and units; it computes nothing."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Callable

from .errors import ArchcalcError, did_you_mean
from .report import Report

FORMATS = ("text", "markdown", "csv", "json", "latex")


@dataclass(frozen=True)
class Column:
    key: str           # the field of LayerReport / Totals, and the JSON and CSV name
    header: str        # the table heading
    numeric: bool = True
    default: bool = True  # shown without --columns


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
    # the operation split of the elementwise FLOPs (archcalc.work), opt-in
    Column("comparisons", "comparisons", default=False),
    Column("additions", "additions", default=False),
    Column("multiplications", "multiplications", default=False),
    Column("divisions", "divisions", default=False),
    Column("exponentials", "exponentials", default=False),
)
BY_KEY = {c.key: c for c in COLUMNS}
DEFAULT_KEYS = tuple(c.key for c in COLUMNS if c.default)
#: the text and LaTeX tables leave the element count to the other formats so AlexNet
#: fits 100 columns; its memory (activations × dtype bytes) is shown instead
NARROW_KEYS = tuple(k for k in DEFAULT_KEYS if k != "activations")


def parse_columns(text: str) -> tuple[str, ...]:
    """'name,macs,flops' → ('name', 'macs', 'flops'); an unknown name is a user error."""
    keys = tuple(k.strip() for k in text.split(",") if k.strip())
    if not keys:
        raise ArchcalcError(f"--columns needs at least one of: {', '.join(BY_KEY)}")
    for k in keys:
        if k not in BY_KEY:
            raise ArchcalcError(f"unknown column '{k}'{did_you_mean(k, BY_KEY)}; "
                                f"choose from {', '.join(BY_KEY)}")
    return keys


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


def _raw(report: Report, keys) -> tuple[list[list], list]:
    """Per-row values (str or int) of ``keys``, and the totals row."""
    work = None
    if any(not BY_KEY[k].default for k in keys):
        from .work import report_work

        work = report_work(report)
    rows = []
    for i, r in enumerate(report.layers):
        row = []
        for k in keys:
            if k == "output":
                row.append(str(r.out_shape))
            elif BY_KEY[k].default:
                row.append(getattr(r, k))
            else:
                row.append(getattr(work[i], k))
        rows.append(row)
    t = report.totals
    total = []
    for k in keys:
        if k == "name":
            total.append("total")
        elif not BY_KEY[k].numeric:
            total.append("")
        elif BY_KEY[k].default:
            total.append(getattr(t, k))
        else:
            total.append(sum(getattr(w, k) for w in work))
    return rows, total


def _cells(report: Report, keys, number: Callable[[int], str],
           byte_cell: Callable[[int], str]) -> tuple[list[list[str]], list[str]]:
    rows, total = _raw(report, keys)

    def cell(k, v):
        if isinstance(v, str):
            return v
        return byte_cell(v) if k == "activation_bytes" else number(v)

    return ([[cell(k, v) for k, v in zip(keys, row)] for row in rows],
            [cell(k, v) for k, v in zip(keys, total)])


def grouped(n: int) -> str:
    return f"{n:,}"


def _summary(report: Report) -> str:
    t = report.totals
    text = (f"{report.model} · input {report.input_shape} · batch {report.batch} · {report.dtype}\n"
            f"params {t.params:,} ({human_bytes(t.param_bytes)}) · MACs {human_count(t.macs)} · "
            f"FLOPs {human_count(t.flops)} · activations {human_bytes(t.activation_bytes)}")
    return text + "".join(f"\n{line}" for line in convention_lines(report))


def convention_lines(report: Report) -> list[str]:
    """The header lines naming the convention in force (none for archcalc's own)."""
    if report.convention == "archcalc":
        return []
    from .conventions import get, torchinfo_sizes

    conv = get(report.convention)
    lines = [f"convention {conv.name} ({conv.tool}): {conv.counts}"]
    if conv.name == "torchinfo":
        sizes = torchinfo_sizes(report)
        lines.append("sizes (MB): " + " · ".join(f"{k} {v / 1e6:.2f}" for k, v in sizes.items()))
    return lines


def format_text(report: Report, columns=None) -> str:
    """Aligned columns, thousands separators, activation memory in binary units."""
    from tabulate import tabulate

    keys = columns or NARROW_KEYS
    rows, total = _cells(report, keys, grouped, human_bytes)
    headers = [BY_KEY[k].header for k in keys]
    align = ["right" if BY_KEY[k].numeric else "left" for k in keys]
    table = tabulate(rows + [total], headers=headers, tablefmt="simple", colalign=align,
                     disable_numparse=True)
    lines = table.split("\n")
    rule = lines[1]
    lines.insert(len(lines) - 1, rule)  # a rule above the totals
    return _summary(report) + "\n\n" + "\n".join(lines) + "\n"


def format_markdown(report: Report, columns=None) -> str:
    """A GitHub pipe table, ready to paste; totals in bold on the last row."""
    keys = columns or DEFAULT_KEYS
    rows, total = _cells(report, keys, grouped, grouped)
    out = [f"<!-- {line} -->" for line in convention_lines(report)]
    out += ["| " + " | ".join(BY_KEY[k].header for k in keys) + " |",
            "|" + "|".join("---:" if BY_KEY[k].numeric else ":---" for k in keys) + "|"]
    esc = [[cell.replace("|", "\\|") for cell in row] for row in rows]
    out += ["| " + " | ".join(row) + " |" for row in esc]
    out.append("| " + " | ".join(f"**{cell}**" if cell else "" for cell in total) + " |")
    return "\n".join(out) + "\n"


def format_csv(report: Report, columns=None) -> str:
    """One row per layer plus a 'total' row; plain integers, shapes as C×H×W."""
    keys = columns or DEFAULT_KEYS
    rows, total = _cells(report, keys, str, str)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(keys)
    writer.writerows(rows + [total])
    return buf.getvalue()


def to_json_dict(report: Report, columns=None) -> dict:
    """The documented JSON contract (docs/json.md); every count is a JSON integer.
    ``columns`` narrows each layer (and the totals) to those keys; a convention other
    than archcalc's adds the key ``convention``."""
    keys = columns or DEFAULT_KEYS
    rows, total = _raw(report, keys)
    layers = []
    for r, row in zip(report.layers, rows):
        entry = dict(zip(keys, row))
        if "output" in entry:
            entry["output"] = list(r.out_shape.dims)
        layers.append(entry)
    totals = {k: v for k, v in zip(keys, total) if BY_KEY[k].numeric}
    if "params" in keys:
        totals["param_bytes"] = report.totals.param_bytes
    doc = {
        "model": report.model,
        "input": list(report.input_shape.dims),
        "batch": report.batch,
        "dtype": report.dtype,
        "layers": layers,
        "totals": totals,
    }
    if report.convention != "archcalc":
        doc["convention"] = report.convention
    return doc


def format_json(report: Report, columns=None) -> str:
    return json.dumps(to_json_dict(report, columns), indent=2, ensure_ascii=False) + "\n"


def format_latex(report: Report, columns=None) -> str:
    """A booktabs tabular: escaped names, thousands separated by {,}, a rule above the
    totals; the convention (if not archcalc's) in a leading comment."""
    from .latex import tabular

    keys = columns or NARROW_KEYS
    rows, total = _raw(report, keys)
    comments = [f"% {report.model}, input {report.input_shape}, batch {report.batch}, "
                f"{report.dtype}"] + [f"% {line}" for line in convention_lines(report)]
    return tabular([BY_KEY[k].header for k in keys],
                   [BY_KEY[k].numeric for k in keys], rows, total, comments)


FORMATTERS: dict[str, Callable[..., str]] = {
    "text": format_text, "markdown": format_markdown, "csv": format_csv, "json": format_json,
    "latex": format_latex,
}
