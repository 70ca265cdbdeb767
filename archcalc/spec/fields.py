"""Typed attribute parsers: the filter between raw spec values and layer objects.

Each parser takes the raw value and returns a clean, immutable one, or raises
:class:`SpecError` saying what was expected and what arrived.  Layer classes declare
their attributes with :func:`attr`; :func:`build` applies the parsers and rejects
unknown keys, so no layer is ever built from an unchecked mapping.
"""
from __future__ import annotations

import dataclasses
import reprlib
from typing import Any, Callable, Mapping

from ..errors import SpecError, did_you_mean, quoted

Parser = Callable[[Any], Any]
REQUIRED = dataclasses.MISSING

#: Largest size a spec or the command line may give (a channel count, a height, a
#: kernel, a padding, a stride, a repeat count, a batch): 10⁹, far past any real network,
#: small enough that every count stays an exact integer that prints (docs/conventions.md,
#: "Limits").
MAX_SIZE = 10**9


def _describe(value: Any) -> str:
    """What arrived, for a message: one line, long values cut."""
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, (list, tuple)):
        return f"list {quoted(reprlib.repr(list(value)))}"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {quoted(reprlib.repr(value))}"


def _int(value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"expected an integer ≥ {minimum}, got {_describe(value)}")
    if value < minimum:
        raise SpecError(f"expected an integer ≥ {minimum}, got {value}")
    if value > MAX_SIZE:
        raise SpecError(f"expected an integer ≤ 10^9 (archcalc's largest size), got {value:,}")
    return value


def positive_int(value: Any) -> int:
    return _int(value, 1)


def non_negative_int(value: Any) -> int:
    return _int(value, 0)


#: Most spatial axes a map may have: (C, L), (C, H, W) or (C, D, H, W).
MAX_SPATIAL_AXES = 3


def _axis_list(value: Any, what: str) -> list:
    if not 1 <= len(value) <= MAX_SPATIAL_AXES:
        raise SpecError(f"expected an integer or a list of 1 to {MAX_SPATIAL_AXES} {what} "
                        f"(one per spatial axis), got {_describe(value)}")
    return list(value)


def axes(value: Any) -> int | tuple[int, ...]:
    """A positive int n (n along every spatial axis) or a list of them, one per axis
    ([l], [h, w] or [d, h, w]); a list is checked against the input's rank when the layer
    meets its input (:func:`archcalc.core.shapes.per_axis`)."""
    if isinstance(value, (list, tuple)):
        return tuple(positive_int(v) for v in _axis_list(value, "positive integers"))
    return positive_int(value)


def padding(value: Any) -> str | int | tuple:
    """'same' (TensorFlow, asymmetric), 'valid' (0), p (every side), [p1, …] (both sides of
    each axis) or [[before, after], …] (per side of each axis)."""
    if isinstance(value, str):
        word = value.lower()
        if word == "valid":
            return 0
        if word == "same":
            return "same"
        raise SpecError(f"expected 'same', 'valid', an integer or a list, got {_describe(value)}")
    if isinstance(value, (list, tuple)):
        items = _axis_list(value, "paddings")
        if all(isinstance(v, (list, tuple)) for v in items):
            sides = []
            for v in items:
                if len(v) != 2:
                    raise SpecError(f"expected [[before, after], …] per axis, got {_describe(value)}")
                sides.append((non_negative_int(v[0]), non_negative_int(v[1])))
            return tuple(sides)
        return tuple(non_negative_int(v) for v in items)
    return non_negative_int(value)


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise SpecError(f"expected true or false, got {_describe(value)}")
    return value


def number(value: Any) -> float:
    """A finite number (an integer is converted; inf and nan are refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(f"expected a number, got {_describe(value)}")
    if isinstance(value, int) and abs(value) > 10**300:
        raise SpecError("expected a finite number, got an integer beyond 10^300")
    x = float(value)
    if x != x or x in (float("inf"), float("-inf")):
        raise SpecError(f"expected a finite number, got {value}")
    return x


def fraction(value: Any) -> float:
    x = number(value)
    if not 0.0 <= x < 1.0:
        raise SpecError(f"expected a number in [0, 1), got {_describe(value)}")
    return x


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise SpecError(f"expected a string, got {_describe(value)}")
    return value


INPUT_FORMS = "[C, L], [C, H, W] or [C, D, H, W]"


def input_shape(value: Any):
    """A model input of positive integers, as a Shape: channels then 1 to 3 spatial axes."""
    from ..core.shapes import Shape

    if not isinstance(value, list) or not 2 <= len(value) <= MAX_SPATIAL_AXES + 1:
        raise SpecError(f"input must be {INPUT_FORMS}, got {_describe(value)}")
    try:
        return Shape(tuple(positive_int(v) for v in value))
    except SpecError as err:
        raise SpecError(f"input must be {INPUT_FORMS} of positive integers: {err.message}") from None


def choice(*options: str) -> Parser:
    def parse(value: Any) -> str:
        if not isinstance(value, str) or value.lower() not in options:
            hint = did_you_mean(value, options) if isinstance(value, str) else ""
            raise SpecError(f"expected one of {', '.join(options)}, got {_describe(value)}{hint}")
        return value.lower()

    return parse


def optional(parser: Parser) -> Parser:
    def parse(value: Any) -> Any:
        return None if value is None else parser(value)

    return parse


def connection_table(value: Any) -> tuple[tuple[int, ...], ...]:
    """A list, one entry per output map, of the input map indices that feed it."""
    if not isinstance(value, (list, tuple)) or not value:
        raise SpecError(f"expected a list of input-map index lists, got {_describe(value)}")
    rows = []
    for m, row in enumerate(value):
        if not isinstance(row, (list, tuple)) or not row:
            raise SpecError(f"entry {m} must be a non-empty list of input map indices, got {_describe(row)}")
        indices = tuple(non_negative_int(i) for i in row)
        if len(set(indices)) != len(indices):
            raise SpecError(f"entry {m} lists an input map twice: {_describe(indices)}")
        rows.append(indices)
    return tuple(rows)


def attr(parser: Parser, default: Any = REQUIRED, doc: str = "") -> Any:
    """Declare a layer attribute: a dataclass field that carries its parser."""
    meta = {"parser": parser, "doc": doc}
    if default is REQUIRED:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def spec_fields(cls: type) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls) if "parser" in f.metadata}


def build(cls: type, raw: Mapping[str, Any], key_lines: Mapping[str, int] | None = None) -> Any:
    """Build a layer of class ``cls`` from the raw attributes of a spec mapping."""
    fields = spec_fields(cls)
    key_lines = key_lines or {}
    for key in raw:
        if key not in fields:
            hint = did_you_mean(str(key), fields)
            known = ", ".join(sorted(fields)) or "none"
            raise SpecError(f"unknown key '{key}'{hint}; {cls.type_name} takes: {known}",
                            line=key_lines.get(key))
    values = {}
    for name, f in fields.items():
        if name in raw:
            try:
                values[name] = f.metadata["parser"](raw[name])
            except SpecError as err:
                raise err.at(key=name, line=key_lines.get(name)) from None
        elif f.default is REQUIRED:
            raise SpecError(f"missing required key '{name}'")
    return cls(**values)
