"""Published figures: what papers, books and notes print, as immutable values.

A spec's ``published:`` list is parsed here into :class:`Published` entries; each names a
figure (a layer's or the model's), the value as printed with its precision ("138M" is
rounded to millions), its source, and optionally a known erratum with an arithmetic
expression that reproduces the printed number.  Pure parsing: no YAML, no engine.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from . import fields
from ..errors import SpecError, did_you_mean, quoted
from ..core.shapes import Shape

#: Figures a published entry can name; each is a column of the report (or derived from one).
FIGURES = ("params", "connections", "macs", "flops", "activations", "activation_bytes",
           "param_bytes", "output", "activations_with_input", "activation_bytes_with_input")
ENTRY_KEYS = ("figure", "layer", "value", "precision", "source", "quote", "input", "erratum",
              "reproduced_by")

_UNITS = {"": 1, "k": 10**3, "K": 10**3, "thousand": 10**3, "M": 10**6, "million": 10**6,
          "G": 10**9, "B": 10**9, "billion": 10**9, "T": 10**12,
          "KB": 10**3, "MB": 10**6, "GB": 10**9, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}
#: Most entries in a spec's published: list (each may ask for its own analysis, at its
#: own input; the bundled specs have at most 19).
MAX_PUBLISHED = 200
#: Most digits a printed figure may have (papers print a handful; this keeps every
#: figure an exact, printable number).
MAX_PRINTED_DIGITS = 30
_NUMBER = re.compile(r"^\s*~?\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$")


@dataclass(frozen=True)
class PrintedNumber:
    """A number as printed: its value and the rounding unit its digits imply (0: exact)."""

    text: str
    value: Fraction
    precision: Fraction

    def agrees(self, exact: int) -> bool:
        """True when ``exact`` rounds to the printed figure at its precision."""
        if self.precision == 0:
            return exact == self.value
        return abs(exact - self.value) * 2 <= self.precision


def parse_printed(raw: Any, precision: Any = None) -> PrintedNumber:
    """'138M' → 138,000,000 ± 0.5M; '1.8G' → ± 0.05G; 60965224 → exact; '96MB' → bytes."""
    if isinstance(raw, bool):
        raise SpecError(f"expected a number as printed, got {quoted(repr(raw))}")
    if isinstance(raw, int):
        value, unit_precision = Fraction(raw), Fraction(0)
        text = f"{raw:,}"
    else:
        found = _NUMBER.match(str(raw))
        if not found or found.group(2) not in _UNITS:
            units = ", ".join(u for u in _UNITS if u)
            raise SpecError(f"cannot read {quoted(repr(raw))} as a printed number (digits and an optional "
                            f"unit: {units})")
        digits, unit = found.group(1).replace(",", ""), _UNITS[found.group(2)]
        if len(digits) > MAX_PRINTED_DIGITS:
            raise SpecError(f"a printed number of {len(digits):,} digits: at most "
                            f"{MAX_PRINTED_DIGITS} are read")
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        value = Fraction(digits) * unit
        unit_precision = Fraction(unit, 10**decimals) if unit != 1 or decimals else Fraction(0)
        text = str(raw)
    if precision is not None:
        if precision == "exact":
            unit_precision = Fraction(0)
        else:
            unit_precision = Fraction(fields.positive_int(precision))
    return PrintedNumber(text, value, unit_precision)


@dataclass(frozen=True)
class Published:
    """One published figure of a spec: what it names, the value printed and its source."""

    figure: str
    source: str
    layer: str | None = None
    number: PrintedNumber | None = None     # for counts
    shape: tuple | None = None              # for figure 'output'
    input_shape: Shape | None = None        # analyse at this input instead of the model's
    quote: str = ""
    erratum: str = ""
    reproduced_by: str = ""
    line: int | None = None

    @property
    def label(self) -> str:
        where = self.layer or "total"
        at = f" @ {self.input_shape}" if self.input_shape else ""
        return f"{where} {self.figure}{at}"

    @property
    def printed(self) -> str:
        if self.shape is not None:
            return "×".join(str(d) for d in self.shape)
        return self.number.text


def parse_published(raw: Any, line_of=lambda key: None) -> tuple[Published, ...]:
    """The ``published:`` list of a spec, validated; errors name the entry's line."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise SpecError("'published' must be a list of entries", line=line_of("published"))
    if len(raw) > MAX_PUBLISHED:
        raise SpecError(f"'published' lists {len(raw):,} entries; at most {MAX_PUBLISHED}",
                        line=line_of("published"))
    entries = []
    for item in raw:
        line = getattr(item, "line", None)
        try:
            entries.append(_entry(item, line))
        except SpecError as err:
            raise err.at(line=line) from None
    return tuple(entries)


def _entry(item: Any, line: int | None) -> Published:
    if not isinstance(item, dict):
        raise SpecError(f"a published entry must be a mapping, got {quoted(repr(item))}")
    for key in item:
        if key not in ENTRY_KEYS:
            raise SpecError(f"unknown key '{key}' in a published entry"
                            f"{did_you_mean(str(key), ENTRY_KEYS)}; allowed: {', '.join(ENTRY_KEYS)}")
    for key in ("figure", "value", "source"):
        if key not in item:
            raise SpecError(f"a published entry needs '{key}'")
    figure = item["figure"]
    if figure not in FIGURES:
        raise SpecError(f"unknown figure '{figure}'{did_you_mean(str(figure), FIGURES)}; "
                        f"figures: {', '.join(FIGURES)}")
    layer = item.get("layer")
    if figure == "output":
        if not layer:
            raise SpecError("an 'output' figure needs the 'layer' it belongs to")
        value = item["value"]
        if not isinstance(value, list) or not value:
            raise SpecError(f"an output value is a list of sizes, got {quoted(repr(value))}")
        shape, number = tuple(fields.positive_int(v) for v in value), None
    else:
        shape, number = None, parse_printed(item["value"], item.get("precision"))
    input_shape = None
    if "input" in item:
        input_shape = fields.input_shape(item["input"])
    text = {k: fields.text(item.get(k, "")) for k in ("quote", "erratum", "reproduced_by")}
    if text["reproduced_by"]:
        _check_reproduction(text["reproduced_by"])
    return Published(figure=figure, source=fields.text(item["source"]),
                     layer=str(layer) if layer is not None else None, number=number,
                     shape=shape, input_shape=input_shape, line=line, **text)


def _check_reproduction(expression: str) -> None:
    """``reproduced_by`` must be integer arithmetic (checked here, where the entry's line
    is known, rather than when ``check`` evaluates it)."""
    from .expr import evaluate

    try:
        value = evaluate(expression, {})
    except SpecError as err:
        raise err.at(key="reproduced_by") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"must compute an integer, got {quoted(repr(value))}",
                        key="reproduced_by")
