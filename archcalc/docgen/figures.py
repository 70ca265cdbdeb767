"""Generated blocks inside hand-written docs: figures quoted in prose pages.

A block is the text between ``<!-- generated: KEY -->`` and ``<!-- end generated -->``;
:data:`GENERATORS` computes each.  ``archcalc docs`` refreshes them with the generated
pages (:func:`archcalc.docgen.site.pages`), and the docs freshness test checks them.
"""
from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def stacked_3x3_vs_7x7() -> str:
    """docs/receptive-fields.md: three 3×3 convolutions against one 7×7, C = 64."""
    from ..spec.catalog import load
    from ..analyses.receptive import receptive_fields
    from ..core.report import analyse

    lines = ["| model | layers | receptive field | weights | weights / C² | MACs |",
             "|:---|---:|---:|---:|---:|---:|"]
    for name in ("stack3x3", "conv7x7"):
        model = load(name)
        report = analyse(model)
        field = receptive_fields(model)[-1]
        c = model.input_shape.channels
        t = report.totals
        lines.append(f"| `{name}` | {len(report.layers)} | {field.rf[0]}×{field.rf[1]} | "
                     f"{t.params:,} | {t.params // (c * c)} | {t.macs:,} |")
    return "\n".join(lines)


GENERATORS = {"stacked-3x3-vs-7x7": stacked_3x3_vs_7x7}
_BLOCK = re.compile(r"(<!-- generated: (?P<key>[\w-]+) -->\n)(?P<body>.*?)\n?(<!-- end generated -->)",
                    re.S)


def blocks(text: str) -> dict:
    """The generated blocks of a doc, by key."""
    return {m["key"]: m["body"] for m in _BLOCK.finditer(text)}


def refresh(text: str) -> str:
    return _BLOCK.sub(lambda m: m[1] + GENERATORS[m["key"]]() + "\n" + m[4], text)


def refreshed_pages(docs: Path = DOCS) -> dict[str, str]:
    """Each hand-written page in ``docs`` that holds generated blocks, blocks refreshed."""
    result = {}
    for path in sorted(docs.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        if blocks(text):
            result[path.name] = refresh(text)
    return result
