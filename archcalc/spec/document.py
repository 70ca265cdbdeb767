"""A spec document as the loader gives it, and its plain form for storage.

The loader (archcalc.spec.loader) reads a spec into plain lists and scalars and mappings
that are :class:`LineDict`\\ s, remembering their own line and the line of each key, so
later errors can say ``specs/x.yaml:12``.  :func:`to_plain` writes such a document as
nested tuples of plain values, every line kept, and :func:`from_plain` builds a fresh
document from them: the form archcalc.spec.parsed stores the bundled specs in.  Neither
needs YAML.
"""
from __future__ import annotations

from typing import Any


class LineDict(dict):
    """A mapping from the spec, with the 1-based line of itself and of each key."""

    line: int | None = None
    key_lines: dict

    def line_of(self, key: str) -> int | None:
        return self.key_lines.get(key, self.line)


_SCALARS = (str, int, float, bool, type(None))


def to_plain(doc: Any) -> Any:
    """``doc`` as nested tuples: a mapping as ("map", line, ((key, key's line, value), …)),
    a list as ("seq", (item, …)), scalars as they are.  ValueError for any other value,
    and for a mapping or list met twice (a YAML alias), which a copy would not share."""
    seen: set[int] = set()

    def plain(value):
        kind = type(value)
        if kind is LineDict or kind is list:
            if id(value) in seen:
                raise ValueError("the document shares a node (a YAML alias)")
            seen.add(id(value))
        if kind is LineDict:
            return ("map", value.line,
                    tuple((key, value.key_lines[key], plain(item)) for key, item in value.items()))
        if kind is list:
            return ("seq", tuple(plain(item) for item in value))
        if kind in _SCALARS:
            return value
        raise ValueError(f"a document holds no {kind.__name__}")
    return plain(doc)


def from_plain(node: Any) -> Any:
    """The document :func:`to_plain` wrote as ``node``, built anew (nothing shared)."""
    if type(node) is not tuple:
        return node
    if node[0] == "seq":
        return [from_plain(item) for item in node[1]]
    _, line, items = node
    doc = LineDict()
    doc.line = line
    doc.key_lines = {}
    for key, key_line, value in items:
        doc[key] = from_plain(value)
        doc.key_lines[key] = key_line
    return doc
