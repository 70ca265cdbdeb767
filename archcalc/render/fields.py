"""Rendering size scans (``archcalc sizes``) and receptive fields (``archcalc rf``,
``table --rf``) as text and JSON; like :mod:`archcalc.render.formatters`, it computes nothing."""
from __future__ import annotations

import json
from fractions import Fraction


def plural(n: int, noun: str) -> str:
    """1 row, 2 rows."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def spans(values: list) -> str:
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
        kind = {1: "lengths", 2: "square inputs", 3: "cubic inputs"}[scan.axes]
        where = f"{kind} {scan.heights[0]}–{scan.heights[1]}"
        show = lambda hw: str(hw[0])  # noqa: E731
        listed = lambda pairs: spans([p[0] for p in pairs])  # noqa: E731
    else:
        where = (f"heights {scan.heights[0]}–{scan.heights[1]} × "
                 f"widths {scan.widths[0]}–{scan.widths[1]}")
        show = lambda size: "×".join(map(str, size))  # noqa: E731
        listed = lambda pairs: ", ".join(show(p) for p in pairs) or "none"  # noqa: E731
    smallest = show(scan.smallest_valid) if scan.smallest_valid else "none found"
    if not scan.smallest_valid and getattr(scan, "search_limit", None):
        smallest = f"none found in 1–{scan.search_limit:,} (the search's limit)"
    lines = [f"{scan.model} · {where}",
             f"smallest valid input: {smallest}",
             f"valid ({len(scan.valid)}): {listed(scan.valid)}",
             f"exact ({len(scan.exact)}): {listed(scan.exact)}"]
    if not scan.valid:
        lines.append("no valid size in this range")
    if scan.inexact:
        units = ("slice", "row", "col")[-len(scan.inexact[0].dropped):] if scan.axes > 1 else ("cell",)
        rows = [[show(d.size), d.layer, ", ".join(plural(n, u) for n, u in zip(d.dropped, units)),
                 "yes" if d.valid else "no"] for d in scan.inexact]
        lines += ["", "inexact sizes (first layer that drops input pixels):",
                  tabulate(rows, headers=["size", "layer", "dropped", "valid"], tablefmt="simple",
                           disable_numparse=True)]
    return "\n".join(lines) + "\n"


def _pair(values, show=str) -> str:
    """(7, 7) → '7'; (7, 5) → '7×5'; (9,) → '9'; (3, 7, 7) → '3×7×7'; None → '—' (no grid)."""
    if values is None:
        return "—"
    texts = [show(v) for v in values]
    return texts[0] if len(set(texts)) == 1 else "×".join(texts)


def _number(x):
    """A Fraction as a JSON number: an integer when whole, else a float (halves are exact)."""
    return int(x) if x.denominator == 1 else float(x)


def _start_text(x) -> str:
    return str(_number(x))


#: Largest receptive-field figure printed (strides multiply along a model, so 300 layers
#: of stride 10⁹ reach 10²⁷⁰⁰; Python will not even print an integer of 4,300 digits).
MAX_RF = 10**100


def _bounded(field) -> None:
    values = list(field.rf) + list(field.jump or ()) + [abs(s) for s in field.start]
    if any(v > MAX_RF for v in values):
        from ..errors import ArchcalcError

        raise ArchcalcError("receptive field, jump or start beyond 10^100 input pixels "
                            "(strides multiply along the model); archcalc prints them up to "
                            "10^100", layer=field.name)


def _count_text(x) -> str:
    """An rf or a jump: an integer, or after upsampling an exact fraction such as 3/2."""
    return str(x)


def rf_cells(field) -> list:
    _bounded(field)
    note = f"union of {field.paths} paths" if field.paths > 1 else ""
    return [_pair(field.rf, _count_text), _pair(field.jump, _count_text),
            _pair(field.start, _start_text), note]


def _json_count(x):
    """An integer, or a fraction (after upsampling) as its float."""
    return x if isinstance(x, int) else _number(Fraction(x))


def rf_json(field) -> dict:
    _bounded(field)
    out = {"rf": [_json_count(r) for r in field.rf],
           "jump": [_json_count(j) for j in field.jump] if field.jump else None,
           "start": [_number(s) for s in field.start]}
    if field.paths > 1:
        out["paths"] = field.paths  # the field is the union over this many paths
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
            "(global layer); merge rows (concat, add, multiply) give the union of their inputs' fields.")
    return f"{model} · receptive fields\n\n{table}\n{foot}\n"
