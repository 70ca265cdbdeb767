"""Fitting a text table to a terminal's width: paths abbreviated in the middle, the
columns that matter least dropped (and named in a note).  Works on cells already
rendered; it computes nothing.

The order columns go in (:data:`DROP_ORDER`): connections (LeNet-5's sense, the figure
least asked for), FLOPs (2·MACs plus the elementwise work: the MACs stay), with --train
the backward's FLOPs and kept bytes, the type, the output shape, the activation memory.  The layer name, params and MACs always stay.  A
path is shortened part by part, the longest first, keeping each part's start and end
(``features.denseblock3/23/conv2`` → ``featu…block3/23/conv2``); a column of names is
never cut below :data:`MIN_NAME` characters while a column can still go.
"""
from __future__ import annotations

from dataclasses import dataclass

#: Columns dropped to fit, first to last (keys of archcalc.render.formatters.COLUMNS;
#: with --train the backward's FLOPs and kept bytes go before the type).
DROP_ORDER = ("connections", "flops", "backward_flops", "saved_bytes", "type", "output",
              "activation_bytes")
#: Narrowest the name column gets while a column can still be dropped instead.
MIN_NAME = 16
#: Narrowest any abbreviated name gets.
MIN_ABBREVIATED = 8
ELLIPSIS = "…"


def abbreviate(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, cut in the middle of its longest parts."""
    if len(text) <= width:
        return text
    width = max(width, 2)
    parts = text.split("/")
    # shorten the longest part (keeping its first and last characters) until it fits or
    # every part is down to three characters and an ellipsis
    while sum(map(len, parts)) + len(parts) - 1 > width:
        longest = max(range(len(parts)), key=lambda i: (len(parts[i]), -i))
        part = parts[longest]
        if len(part) <= 4:
            break
        excess = sum(map(len, parts)) + len(parts) - 1 - width
        keep = max(3, len(part) - 1 - excess)
        head = (keep + 1) // 2
        parts[longest] = part[:head] + ELLIPSIS + part[len(part) - (keep - head):]
    joined = "/".join(parts)
    if len(joined) <= width:
        return joined
    head = (width - 1) // 2  # too many parts to keep each: cut the whole path once
    return text[:head] + ELLIPSIS + text[len(text) - (width - 1 - head):]


@dataclass(frozen=True)
class Fitted:
    """A table fitted to a width: the columns kept, their cells, what was dropped."""

    keys: tuple          # the columns kept, in order
    rows: list           # their cells
    dropped: tuple       # the keys dropped, in DROP_ORDER
    name_width: int | None  # the width names were cut to (None: uncut)
    width: int           # the table's width as printed


def table_width(widths) -> int:
    return sum(widths) + 2 * (len(widths) - 1)


def fit(keys, headers, rows, width: int, droppable=DROP_ORDER) -> Fitted:
    """The columns of ``rows`` (lists of cells, one per key; the header row excluded) that
    fit ``width`` characters, with names abbreviated.  ``headers`` gives each key's
    heading (a column is at least its heading plus two wide, as the table prints it)."""
    keys = list(keys)
    col = {k: [len(headers[i]) + 2] + [len(r[i]) for r in rows] for i, k in enumerate(keys)}
    widths = {k: max(v) for k, v in col.items()}
    names = "name" in keys
    floor_name = len(headers[keys.index("name")]) + 2 if names else 0
    can_drop = [k for k in droppable if k in keys]
    chosen, name_width = None, None
    for n in range(len(can_drop) + 1):
        kept = [k for k in keys if k not in can_drop[:n]]
        if not names:
            if table_width([widths[k] for k in kept]) <= width or n == len(can_drop):
                chosen = kept
                break
            continue
        others = table_width([widths[k] for k in kept if k != "name"]) + 2
        room = width - others
        longest = widths["name"]
        if room >= longest:
            chosen, name_width = kept, None
            break
        if room >= max(MIN_NAME, floor_name) or n == len(can_drop):
            chosen = kept
            name_width = max(room, MIN_ABBREVIATED, floor_name)
            break
    index = [keys.index(k) for k in chosen]
    out = []
    for r in rows:
        cells = [r[i] for i in index]
        if name_width is not None:
            at = chosen.index("name")
            cells[at] = abbreviate(cells[at], name_width)
        out.append(cells)
    dropped = tuple(k for k in can_drop if k not in chosen)
    final = [widths[k] for k in chosen]
    if name_width is not None:
        final[chosen.index("name")] = max([floor_name] + [len(c[chosen.index("name")]) for c in out])
    return Fitted(tuple(chosen), out, dropped, name_width, table_width(final))


def wrap(text: str, width: int, separator: str = " ") -> str:
    """``text`` broken at ``separator`` into lines of at most ``width`` characters where
    it can be (a piece longer than the width stays whole)."""
    pieces = text.split(separator)
    lines, line = [], pieces[0]
    for piece in pieces[1:]:
        if len(line) + len(separator) + len(piece) <= width:
            line += separator + piece
        else:
            lines.append(line.rstrip())
            line = piece
    lines.append(line)
    return "\n".join(lines)
