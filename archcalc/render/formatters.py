"""Rendering a :class:`Report` as text, markdown, CSV, JSON or LaTeX.  The only module that
knows about columns, separators and units; it computes nothing."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..errors import ArchcalcError, did_you_mean
from ..core.report import Report



@dataclass(frozen=True)
class Column:
    """A column of the layer table: its key, heading and where it shows."""

    key: str           # the field of LayerReport / Totals, and the JSON and CSV name
    header: str        # the table heading
    numeric: bool = True
    default: bool = True  # shown without --columns
    #: read from the report's training rows (table --train) rather than its layers
    training: bool = False


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
    # the operation split of the elementwise FLOPs (archcalc.core.work), opt-in
    Column("comparisons", "comparisons", default=False),
    Column("additions", "additions", default=False),
    Column("multiplications", "multiplications", default=False),
    Column("divisions", "divisions", default=False),
    Column("exponentials", "exponentials", default=False),
    # a training step (table --train; archcalc.analyses.training), opt-in
    Column("backward_macs", "bwd MACs", default=False, training=True),
    Column("backward_flops", "bwd FLOPs", default=False, training=True),
    Column("train_flops", "train FLOPs", default=False, training=True),
    Column("saved_bytes", "kept", default=False, training=True),
)
BY_KEY = {c.key: c for c in COLUMNS}
DEFAULT_KEYS = tuple(c.key for c in COLUMNS if c.default)
#: the text and LaTeX tables leave the element count to the other formats so AlexNet
#: fits 100 columns; its memory (activations × dtype bytes) is shown instead
NARROW_KEYS = tuple(k for k in DEFAULT_KEYS if k != "activations")
#: the columns of ``table --train``: the forward's, then the backward's and what it keeps
TRAIN_KEYS = ("name", "type", "output", "params", "macs", "flops", "backward_macs",
              "backward_flops", "saved_bytes")
#: columns printed in binary byte units in text
BYTE_KEYS = ("activation_bytes", "saved_bytes")


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


def _is_int(n) -> bool:
    return isinstance(n, int) or getattr(n, "is_Integer", False)


def _is_symbolic(report: Report) -> bool:
    """Symbolic mode: some total is a formula (a model without MACs may still have some)."""
    t = report.totals
    return not all(_is_int(v) for v in (t.macs, t.flops, t.connections, t.activation_bytes))


def formula(n) -> str:
    """A symbolic figure (a sympy expression, symbolic mode only) as a readable formula."""
    from ..analyses.symbolic import formula as sympy_formula  # sympy stays off the integer path

    return sympy_formula(n)


def shape_text(shape) -> str:
    """C×H×W, formulas in parentheses when they are sums (symbolic mode)."""
    def dim(d) -> str:
        if _is_int(d):
            return str(int(d))
        text = formula(d)
        return f"({text})" if getattr(d, "is_Add", False) else text

    return "×".join(dim(d) for d in shape.dims)


def _exact(n):
    """An int stays an int (sympy's Integer becomes one); a formula becomes its string."""
    return int(n) if _is_int(n) else formula(n)


def _three_figures(n: int, scale: int) -> str:
    """n / scale to three significant figures, as float formatting gives it; numbers past
    a float's range (10³⁰⁸) are divided exactly instead of overflowing."""
    try:
        return f"{n / scale:.3g}"
    except OverflowError:
        from decimal import Decimal, localcontext

        with localcontext() as ctx:
            ctx.prec = 28
            return f"{Decimal(n) / Decimal(scale):.3g}"


def human_bytes(n: int) -> str:
    """Binary units, three significant figures: 1,161,600 → '1.11 MiB'."""
    for power, unit in enumerate(("B", "KiB", "MiB", "GiB", "TiB")):
        if n < 1024 ** (power + 1) or unit == "TiB":
            if unit == "B":
                return f"{n} B"
            text = _three_figures(n, 1024 ** power)
            if "e" not in text or unit == "TiB":  # 1,048,000 B is 0.999 MiB, not 1.02e+03 KiB
                return f"{text} {unit}"
    raise AssertionError("unreachable")


def human_count(n: int) -> str:
    """Decimal units for a summary line: 60,965,224 → '61.0 M'."""
    units = (("k", 10**3), ("M", 10**6), ("G", 10**9), ("T", 10**12))
    if n < 1000:
        return str(n)
    for i, (unit, scale) in enumerate(units):
        if i == len(units) - 1 or n < units[i + 1][1]:
            text = _three_figures(n, scale)
            if "e" not in text or unit == "T":  # 999,999 is 1.00 M, not 1e+03 k
                return f"{text} {unit}"
    raise AssertionError("unreachable")


def _raw(report: Report, keys, rf=None) -> tuple[list[list], list]:
    """Per-row values of ``keys`` (str, or int for counts; a formula string in symbolic
    mode) and the totals row; with ``rf`` (table --rf) the receptive-field cells follow."""
    work = None
    if any(not BY_KEY[k].default and not BY_KEY[k].training for k in keys):
        from ..core.work import report_work

        work = report_work(report)
    training = getattr(report, "training", None)
    if training is None and any(BY_KEY[k].training for k in keys):
        raise ArchcalcError("the training columns (backward_macs, backward_flops, train_flops, "
                            "saved_bytes) need --train")
    rows = []
    for i, r in enumerate(report.layers):
        row = []
        for k in keys:
            if k == "output":
                row.append(shape_text(r.out_shape))
            elif not BY_KEY[k].numeric:
                row.append(getattr(r, k))
            elif BY_KEY[k].default:
                row.append(_exact(getattr(r, k)))
            elif BY_KEY[k].training:
                row.append(_exact(getattr(training[i], k)))
            else:
                row.append(_exact(getattr(work[i], k)))
        rows.append(row)
    t = report.totals
    total = []
    for k in keys:
        if k == "name":
            total.append("total")
        elif not BY_KEY[k].numeric:
            total.append("")
        elif BY_KEY[k].default:
            total.append(_exact(getattr(t, k)))
        elif BY_KEY[k].training:
            total.append(_exact(sum(getattr(r, k) for r in training)))
        else:
            total.append(_exact(sum(getattr(w, k) for w in work)))
    if rf is not None:
        from .fields import RF_HEADERS, rf_cells  # only with --rf: it loads the rf renderers

        rows = [row + rf_cells(f) for row, f in zip(rows, rf)]
        total = total + [""] * len(RF_HEADERS)
    return rows, total


def _headers(keys, rf) -> tuple[list[str], list[bool]]:
    """Column headings and which are numeric (right-aligned), RF columns included."""
    headers = [BY_KEY[k].header for k in keys]
    numeric = [BY_KEY[k].numeric for k in keys]
    if rf is not None:
        from .fields import RF_HEADERS  # only with --rf: it loads the rf renderers

        headers += RF_HEADERS
        numeric += [h != "RF note" for h in RF_HEADERS]
    return headers, numeric


def _cells(report: Report, keys, number: Callable[[int], str],
           byte_cell: Callable[[int], str], rf=None) -> tuple[list[list[str]], list[str]]:
    rows, total = _raw(report, keys, rf)

    def cell(k, v):
        if isinstance(v, str):
            return v
        return byte_cell(v) if k in BYTE_KEYS else number(v)

    # zip stops at the last key: RF cells (already strings) are kept by the slice
    return ([[cell(k, v) for k, v in zip(keys, row)] + row[len(keys):] for row in rows],
            [cell(k, v) for k, v in zip(keys, total)] + total[len(keys):])


def grouped(n: int) -> str:
    return f"{n:,}"


def _summary(report: Report) -> str:
    t = report.totals
    head = (f"{report.model} · input {shape_text(report.input_shape)} · batch {report.batch} · "
            f"{report.dtype}\n")
    notes = "".join(f"\nnote: {note}" for note in getattr(report, "notes", ()))
    held = sum(getattr(r, "nodes", 1) for r in report.layers)
    if held > len(report.layers):  # table --depth: say that rows are sums
        notes += (f"\n{len(report.layers)} rows for {held} layers: a block row is the sum of "
                  f"the layers it holds")
    if _is_symbolic(report):  # symbolic: the total formulas are in the 'total' block
        params = f"{int(t.params):,}" if _is_int(t.params) else formula(t.params)
        return head + f"params {params} ({human_bytes(t.param_bytes)})" + notes
    text = (head + f"params {t.params:,} ({human_bytes(t.param_bytes)}) · MACs {human_count(t.macs)} · "
            f"FLOPs {human_count(t.flops)} · activations {human_bytes(t.activation_bytes)}")
    return text + "".join(f"\n{line}" for line in convention_lines(report)) + notes


def convention_lines(report: Report) -> list[str]:
    """The header lines naming the convention in force (none for archcalc's own)."""
    if report.convention == "archcalc":
        return []
    from ..conventions import get, torchinfo_sizes

    conv = get(report.convention)
    lines = [f"convention {conv.name} ({conv.tool}): {conv.counts}"]
    if conv.name == "torchinfo":
        sizes = torchinfo_sizes(report)
        lines.append("sizes (MB): " + " · ".join(f"{k} {v / 1e6:.2f}" for k, v in sizes.items()))
    return lines


def _format_text_symbolic(report: Report, keys, summary: bool = False) -> str:
    """Symbolic figures are too wide for columns: one block per layer, a field per line."""
    rows, total = _cells(report, keys, grouped, grouped)
    out = [_summary(report), ""]
    for row in ([] if summary else rows) + [total]:
        cells = dict(zip(keys, row))
        kind = cells.get("type")
        out.append(cells.get("name", "") + (f" ({kind})" if kind else ""))
        for k in keys:
            if k not in ("name", "type") and cells[k]:
                out.append(f"  {BY_KEY[k].header + ':':<13} {cells[k]}")
    return "\n".join(out) + "\n"


def simple_table(rows, headers, numeric) -> list[str]:
    """Lines of tabulate's "simple" format, which the table command has always printed:
    columns two spaces apart, each as wide as its widest cell or its header plus two,
    numbers right-aligned (headers too), text left-aligned, a rule of dashes under the
    headers, trailing spaces dropped.  Written here because importing tabulate costs the
    start-up of ``archcalc table`` about 12 ms (importlib.metadata for its version)."""
    widths = [max([len(h) + 2] + [len(row[i]) for row in rows]) for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(cell.rjust(width) if right else cell.ljust(width)
                         for cell, width, right in zip(cells, widths, numeric)).rstrip()
    return [line(headers), "  ".join("-" * width for width in widths)] + [line(row) for row in rows]


def format_text(report: Report, columns=None, rf=None, width: int | None = None,
                summary: bool = False) -> str:
    """Aligned columns, thousands separators, activation memory in binary units.

    ``width`` (a terminal's columns) fits the table to it: long names abbreviated in the
    middle, the least needed default columns dropped and named in a closing note
    (:mod:`archcalc.render.fit`); None prints every column whole.  ``summary`` prints the
    totals row alone."""
    if _is_symbolic(report):
        return _format_text_symbolic(report, columns or DEFAULT_KEYS, summary)
    keys = columns or NARROW_KEYS
    if summary:
        keys = tuple(k for k in keys if k == "name" or BY_KEY[k].numeric)
        rf = None
    rows, total = _cells(report, keys, grouped, human_bytes, rf)
    if summary:
        rows = []
    headers, numeric = _headers(keys, rf)
    note = ""
    head = _summary(report)
    if width is not None:
        from .fit import DROP_ORDER, fit, wrap

        every = list(keys) + [f"rf:{h}" for h in headers[len(keys):]]
        # the default columns (a table's, or --train's) give way; chosen ones do not
        droppable = DROP_ORDER if columns is None or columns == TRAIN_KEYS else ()
        full = len(simple_table(rows + [total], headers, numeric)[1])
        fitted = fit(every, headers, rows + [total], width, droppable)
        if fitted.dropped or fitted.name_width is not None:
            kept = [every.index(k) for k in fitted.keys]
            headers, numeric = [headers[i] for i in kept], [numeric[i] for i in kept]
            rows, total = fitted.rows[:-1], fitted.rows[-1]
            what = [f"{', '.join(BY_KEY[k].header for k in fitted.dropped)} not shown"
                    ] if fitted.dropped else []
            what += ["names shortened"] if fitted.name_width is not None else []
            note = "\n" + wrap(f"note: {', '.join(what)} to fit {width} columns; --wide "
                               f"shows the whole table ({full} columns)", width) + "\n"
        head = "\n".join(wrap(line, width, " · ") for line in head.split("\n"))
    lines = simple_table(rows + [total], headers, numeric)
    if not summary:
        lines.insert(len(lines) - 1, lines[1])  # a rule above the totals
    return head + "\n\n" + "\n".join(lines) + "\n" + note


def format_markdown(report: Report, columns=None, rf=None, summary: bool = False) -> str:
    """A GitHub pipe table, ready to paste; totals in bold on the last row."""
    keys = columns or DEFAULT_KEYS
    rows, total = _cells(report, keys, grouped, grouped, rf)
    if summary:
        rows = []
    headers, numeric = _headers(keys, rf)
    out = [f"<!-- {line} -->" for line in convention_lines(report)]
    out += ["| " + " | ".join(headers) + " |",
            "|" + "|".join("---:" if is_num else ":---" for is_num in numeric) + "|"]
    esc = [[cell.replace("|", "\\|") for cell in row] for row in rows]
    out += ["| " + " | ".join(row) + " |" for row in esc]
    out.append("| " + " | ".join(f"**{cell}**" if cell else "" for cell in total) + " |")
    notes = getattr(report, "notes", ())  # symbolic mode: where the formulas hold
    if notes:
        out += [""] + [f"- {note}" for note in notes]
    return "\n".join(out) + "\n"


def format_csv(report: Report, columns=None, rf=None, summary: bool = False) -> str:
    """One row per layer plus a 'total' row; plain integers, shapes as C×H×W."""
    import csv  # here, not at the top: the text table's start-up does not need it
    import io

    from .fields import RF_HEADERS

    keys = columns or DEFAULT_KEYS
    rows, total = _cells(report, keys, str, str, rf)
    if summary:
        rows = []
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(keys) + ([h.lower().replace(" ", "_") for h in RF_HEADERS] if rf else []))
    writer.writerows(rows + [total])
    return buf.getvalue()


def to_json_dict(report: Report, columns=None, rf=None, summary: bool = False) -> dict:
    """The documented JSON contract (docs/json.md); every count is a JSON integer (in
    symbolic mode, a formula string that sympy parses).  ``columns`` narrows each layer
    (and the totals) to those keys; a convention other than archcalc's adds the key
    ``convention``; ``rf`` adds "rf", "jump" and "start" to each layer.  Rows of a
    collapsed report (``table --depth``) add "nodes", the layers each sums; ``summary``
    leaves ``layers`` empty."""
    from .fields import rf_json

    keys = columns or DEFAULT_KEYS
    rows, total = _raw(report, keys)
    layers = []
    for r, row in zip(report.layers, rows):
        entry = dict(zip(keys, row))
        if "output" in entry:
            entry["output"] = [_exact(d) for d in r.out_shape.dims]
        if columns is None and hasattr(r, "nodes"):
            entry["nodes"] = r.nodes
        layers.append(entry)
    if summary:
        layers, rf = [], None
    if rf is not None:
        layers = [{**layer, **rf_json(f)} for layer, f in zip(layers, rf)]
    totals = {k: v for k, v in zip(keys, total) if BY_KEY[k].numeric}
    if "params" in keys:
        totals["param_bytes"] = _exact(report.totals.param_bytes)
    training = getattr(report, "training", None)
    if training is not None:  # table --train: the step's totals whatever the columns
        for k in ("backward_macs", "backward_flops", "train_flops", "saved_bytes"):
            totals[k] = sum(getattr(r, k) for r in training)
        totals["optimizer_flops"] = report.optimizer_flops
        totals["optimizer"] = report.optimizer
    doc = {
        "model": report.model,
        "input": [_exact(d) for d in report.input_shape.dims],
        "batch": _exact(report.batch),
        "dtype": report.dtype,
        "layers": layers,
        "totals": totals,
    }
    if report.convention != "archcalc":
        doc["convention"] = report.convention
    if hasattr(report, "conditions"):  # symbolic mode (docs/json.md, "Symbolic mode")
        doc["symbolic"] = {
            "conditions": [{"layer": c.layer, "equation": c.equation} for c in report.conditions],
            "min_input": list(report.min_input) if report.min_input else None,
            "open_above": report.open_above,
            "notes": list(report.notes),
        }
    return doc


def format_json(report: Report, columns=None, rf=None, summary: bool = False) -> str:
    import json  # here, not at the top: the text table's start-up does not need it

    return json.dumps(to_json_dict(report, columns, rf, summary), indent=2,
                      ensure_ascii=False) + "\n"


def format_latex(report: Report, columns=None, rf=None, summary: bool = False) -> str:
    """A booktabs tabular: escaped names, thousands separated by {,}, a rule above the
    totals; the convention (if not archcalc's) in a leading comment."""
    from .latex import tabular

    keys = columns or NARROW_KEYS
    rows, total = _raw(report, keys, rf)
    if summary:
        rows = []
    comments = [f"% {report.model}, input {shape_text(report.input_shape)}, batch {report.batch}, "
                f"{report.dtype}"] + [f"% {line}" for line in convention_lines(report)]
    return tabular(*_headers(keys, rf), rows, total, comments)


FORMATTERS: dict[str, Callable[..., str]] = {
    "text": format_text, "markdown": format_markdown, "csv": format_csv, "json": format_json,
    "latex": format_latex,
}


def combine(fmt: str, names, texts) -> str:
    """Several models' tables (``archcalc table A B``), each rendered alone, as one
    output: text tables one after another (each opens with its model's line), markdown
    under a ``## name`` heading each, CSV with a leading ``model`` column, JSON as
    ``{"tables": [document, ...]}``, LaTeX tabulars one after another."""
    if fmt == "json":
        import json

        return json.dumps({"tables": [json.loads(t) for t in texts]}, indent=2,
                          ensure_ascii=False) + "\n"
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        for i, (name, text) in enumerate(zip(names, texts)):
            rows = list(csv.reader(io.StringIO(text)))
            if i == 0:
                writer.writerow(["model"] + rows[0])
            writer.writerows([name] + row for row in rows[1:])
        return buf.getvalue()
    if fmt == "markdown":
        return "\n".join(f"## {name}\n\n{text}" for name, text in zip(names, texts))
    return "\n".join(texts)
