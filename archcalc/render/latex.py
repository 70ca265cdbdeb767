"""LaTeX rendering: a booktabs ``tabular`` from cells prepared by the formatter.

Needs ``\\usepackage{booktabs}`` in the document.  Text is escaped (``conv_1`` →
``conv\\_1``), ``×`` in shapes becomes ``$\\times$``, and integers are grouped in
thousands with ``{,}`` so that math-mode commas do not add space: 1{,}234{,}567.
"""
from __future__ import annotations

_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
            "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
            "^": r"\textasciicircum{}", "×": r"$\times$"}


def escape(text: str) -> str:
    """Text safe inside a LaTeX table cell."""
    return "".join(_SPECIAL.get(ch, ch) for ch in text)


def number(n: int) -> str:
    """An exact integer with {,} between groups of three digits."""
    return f"{n:,}".replace(",", "{,}")


def _cell(value) -> str:
    return number(value) if isinstance(value, int) else escape(value)


def tabular(headers, numeric, rows, total, comments=()) -> str:
    """``\\begin{tabular}`` … ``\\end{tabular}`` with top, mid and bottom rules and a
    mid rule above the totals row (none when ``total`` is None); numeric columns
    right-aligned."""
    spec = "".join("r" if is_num else "l" for is_num in numeric)
    out = list(comments)
    out += [f"\\begin{{tabular}}{{{spec}}}", r"\toprule",
            " & ".join(escape(h) for h in headers) + r" \\", r"\midrule"]
    out += [" & ".join(_cell(v) for v in row) + r" \\" for row in rows]
    if total is not None:
        out += [r"\midrule", " & ".join(_cell(v) for v in total) + r" \\"]
    out += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(out) + "\n"
