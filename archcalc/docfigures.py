"""Figures quoted in the docs, computed by archcalc (tests/test_docs.py checks they are fresh).

``python -m archcalc.docfigures`` rewrites every generated block in docs/ in place.
"""
from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def stacked_3x3_vs_7x7() -> str:
    """docs/receptive-fields.md: three 3×3 convolutions against one 7×7, C = 64."""
    from .catalog import load
    from .receptive import receptive_fields
    from .report import analyse

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


def main() -> None:
    for path in sorted(DOCS.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        new = refresh(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"updated {path}")


if __name__ == "__main__":
    main()
