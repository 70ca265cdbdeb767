"""Writing a spec document as YAML, one layer per line, as the bundled specs are written.

Only plain values occur in an imported spec (text, integers, floats, booleans and lists of
them), so this writes them itself rather than through a YAML library: every value in JSON
form, which YAML reads back unchanged, except that words are left bare when YAML would
read them as the same word, and floats always carry a '.' (YAML 1.1 reads ``1e-05`` as
text).  ``archcalc import`` checks what it wrote by reading it back.
"""
from __future__ import annotations

import json
import re

_BARE = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
#: words YAML 1.1 reads as booleans or null
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "none"}


def scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        if "e" in text and "." not in text.split("e")[0]:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}.0e{exponent}"
        if "e" in text and text.split("e")[1][0] not in "+-":
            mantissa, exponent = text.split("e")
            text = f"{mantissa}e+{exponent}"
        return text
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key(k)}: {scalar(v)}" for k, v in value.items()) + "}"
    text = str(value)
    if _BARE.fullmatch(text) and text.lower() not in _RESERVED:
        return text
    return json.dumps(text, ensure_ascii=False)


def key(text: str) -> str:
    return text if _BARE.fullmatch(text) else json.dumps(text)


def _block_text(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def dump(doc: dict, header: str = "") -> str:
    """The YAML text of ``doc`` (top-level keys in order, ``layers`` one per line)."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    for k, v in doc.items():
        if k == "layers":
            lines.append("layers:")
            lines.extend(f"  - {scalar(item)}" for item in v)
        elif isinstance(v, str) and k in ("description", "source", "notes"):
            lines.append(f"{k}: {_block_text(v)}")
        else:
            lines.append(f"{k}: {scalar(v)}")
    return "\n".join(lines) + "\n"


__all__ = ["dump", "scalar"]
