"""The Python API (docs/api.md): models from whatever a user holds, plain tuples for
sizes, results as records (lists of dicts, the JSON contract's keys) or as markdown.

    >>> import archcalc
    >>> report = archcalc.analyse("resnet50", input=(3, 256, 256), batch=8)
    >>> report.totals.params
    25557032

Everything here is a thin layer over the core (:mod:`archcalc.core.report`,
:mod:`archcalc.analyses.compare`, :mod:`archcalc.analyses.sweep`) and the renderers:
it adds the conversions at the boundary, and nothing else.  Errors are
:class:`archcalc.errors.ArchcalcError`, with the message the CLI would print.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Iterable, Mapping

from .core.graph import Model
from .core.report import Report
from .core.report import analyse as _analyse
from .core.shapes import Shape
from .errors import ArchcalcError, SpecError, quoted


def load(spec: Any, options: Mapping[str, Any] | None = None) -> Model:
    """The model ``spec`` gives: a :class:`Model` (returned as is), a bundled name
    (``"resnet50"``), a path (``str`` or :class:`~pathlib.Path`) to a YAML spec, a YAML
    text (a string holding a newline, ``: `` or starting with ``{``), or a dict shaped like
    a spec; ``options`` set the options the spec declares."""
    from .spec.build import build_model
    from .spec.catalog import load as load_file

    if isinstance(spec, Model):
        if options:
            raise ArchcalcError("options are set when a model is built: pass the spec "
                                "(a name, a path, YAML or a dict), not a built Model")
        return spec
    if isinstance(spec, Mapping):
        return build_model(dict(spec), "<dict>", options, default_name="model")
    if isinstance(spec, os.PathLike):
        return load_file(os.fspath(spec), options)
    if not isinstance(spec, str):
        raise ArchcalcError(f"a model is a name, a path, YAML text, a dict or a Model, got "
                            f"{type(spec).__name__}")
    if _is_yaml_text(spec):
        from .spec.loader import parse_yaml

        return build_model(parse_yaml(spec, "<string>"), "<string>", options,
                           default_name="model")
    return load_file(spec, options)


def _is_yaml_text(text: str) -> bool:
    """A spec's text rather than a name or a path: names and paths hold no newline and
    no ': ' (a YAML mapping), and do not open with '{' (a flow mapping)."""
    if Path(text).suffix in (".yaml", ".yml") and "\n" not in text:
        return False
    return "\n" in text or ": " in text or text.lstrip().startswith("{")


def input_shape(model: Model, input: Any) -> Shape | None:
    """``input`` — None (the model's own), a Shape, or a tuple or list of positive
    integers of the model's input rank — as a Shape."""
    if input is None or isinstance(input, Shape):
        return input
    if isinstance(input, (str, bytes)) or not isinstance(input, Iterable):
        raise ArchcalcError(f"input must be a tuple of {model.input_shape.rank} positive "
                            f"integers like {tuple(model.input_shape.dims)}, got {quoted(repr(input))}")
    dims = tuple(input)
    if len(dims) != model.input_shape.rank or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in dims):
        raise ArchcalcError(f"input must be {model.input_shape.rank} positive integers "
                            f"(the input rank of '{quoted(model.name)}', e.g. "
                            f"{tuple(model.input_shape.dims)}), got {quoted(repr(input))}")
    return Shape(dims)


@dataclass(frozen=True)
class Analysis(Report):
    """A :class:`Report` (``layers``, ``totals``, ``model``, ``input_shape``, ``batch``,
    ``dtype``) that also renders itself."""

    def records(self) -> list[dict]:
        """One dict per row, with the keys of ``table --format json``'s layers."""
        from .render.formatters import to_json_dict

        return to_json_dict(self)["layers"]

    def totals_record(self) -> dict:
        """The totals as a dict (``table --format json``'s ``totals``)."""
        from .render.formatters import to_json_dict

        return to_json_dict(self)["totals"]

    def to_dict(self) -> dict:
        """The whole ``table --format json`` document."""
        from .render.formatters import to_json_dict

        return to_json_dict(self)

    def markdown(self, columns: Iterable[str] | None = None) -> str:
        """A GitHub pipe table (``table --format markdown``)."""
        from .render.formatters import format_markdown

        return format_markdown(self, _columns(columns))

    def text(self, width: int | None = None, columns: Iterable[str] | None = None) -> str:
        """The text table (``table``); ``width`` fits it to that many columns."""
        from .render.formatters import format_text

        return format_text(self, _columns(columns), width=width)

    def csv(self, columns: Iterable[str] | None = None) -> str:
        from .render.formatters import format_csv

        return format_csv(self, _columns(columns))

    def latex(self, columns: Iterable[str] | None = None) -> str:
        from .render.formatters import format_latex

        return format_latex(self, _columns(columns))

    def collapse(self, depth: int) -> "Analysis":
        """One row per block instance down to ``depth`` (``table --depth``)."""
        from .core.collapse import collapse

        return collapse(self, depth)


def _columns(columns) -> tuple | None:
    if columns is None:
        return None
    from .render.formatters import parse_columns

    return parse_columns(",".join(columns) if not isinstance(columns, str) else columns)


def analyse(model: Any, input: Any = None, batch: int = 1, dtype: str | None = None,
            convention: str = "archcalc", depth: int | None = None,
            fixed_head: bool = True, options: Mapping[str, Any] | None = None) -> Analysis:
    """The per-layer figures of ``model`` (anything :func:`load` takes) on ``input`` (a
    tuple such as ``(3, 256, 256)``; default: the spec's), for ``batch`` samples of
    ``dtype``; counted as ``convention`` counts (docs/conventions-compared.md);
    ``depth`` collapses the rows to block instances (``table --depth``)."""
    from .conventions import CONVENTIONS, apply

    model = load(model, options)
    if convention not in CONVENTIONS:
        raise ArchcalcError(f"unknown convention '{quoted(convention)}'; choose from "
                            f"{', '.join(CONVENTIONS)}")
    report = apply(_analyse(model, input_shape(model, input), batch=batch, dtype=dtype,
                            fixed_head=fixed_head), convention)
    result = Analysis(**{f.name: getattr(report, f.name) for f in fields(Report)})
    return result.collapse(depth) if depth is not None else result


class Comparison(tuple):
    """The entries of :func:`compare` (:class:`archcalc.analyses.compare.Entry`), one
    per model, that also render themselves."""

    def records(self) -> list[dict]:
        """One dict per model, with the keys of ``compare --format json``."""
        from .render.compare import compare_json

        return compare_json(self)["models"]

    def markdown(self, columns: Iterable[str] | None = None) -> str:
        from .render.compare import format_compare

        return format_compare(self, "markdown", _compare_keys(columns))

    def text(self, width: int | None = None, columns: Iterable[str] | None = None) -> str:
        from .render.compare import format_compare

        return format_compare(self, "text", _compare_keys(columns), width=width)

    def csv(self, columns: Iterable[str] | None = None) -> str:
        from .render.compare import format_compare

        return format_compare(self, "csv", _compare_keys(columns))


def _compare_keys(columns):
    if columns is None:
        return None
    from .render.compare import COMPARE_COLUMNS, parse_keys

    return parse_keys(",".join(columns) if not isinstance(columns, str) else columns,
                      COMPARE_COLUMNS, "columns")


def compare(models: Iterable[Any], input: Any = None, batch: int = 1,
            dtype: str | None = None, convention: str = "archcalc") -> Comparison:
    """One entry of totals per model (``archcalc compare``): layers, depth, params,
    connections, MACs, FLOPs, activations and their bytes, param bytes, peak memory."""
    from .analyses.compare import entry
    from .conventions import CONVENTIONS

    if convention not in CONVENTIONS:
        raise ArchcalcError(f"unknown convention '{quoted(convention)}'; choose from "
                            f"{', '.join(CONVENTIONS)}")
    if isinstance(models, (str, Mapping, Model, os.PathLike)):
        models = [models]
    out = []
    for spec in models:
        model = load(spec)
        out.append(entry(model, input_shape(model, input), batch, dtype, convention))
    return Comparison(out)


class SweepResult:
    """The configurations of :func:`sweep` (``points``), the Pareto front's indices
    (``pareto``), and renderings."""

    def __init__(self, result):
        self.result = result
        self.model = result.model
        self.points = result.points
        self.pareto = result.pareto

    def __len__(self) -> int:
        return len(self.points)

    def records(self) -> list[dict]:
        """One dict per configuration, with the keys of ``sweep --format json``'s rows."""
        from .render.compare import sweep_json

        return sweep_json(self.result)["rows"]

    def front(self) -> list[dict]:
        """The records of the configurations on the Pareto front, in grid order."""
        rows = self.records()
        return [rows[i] for i in self.pareto]

    def markdown(self) -> str:
        from .render.compare import format_sweep

        return format_sweep(self.result, "markdown")

    def text(self, width: int | None = None) -> str:
        from .render.compare import format_sweep

        return format_sweep(self.result, "text", width=width)

    def csv(self) -> str:
        from .render.compare import format_sweep

        return format_sweep(self.result, "csv")


def sweep(spec: Any, options: Mapping[str, Iterable] | None = None, inputs: Any = None,
          batch: Any = 1, dtype: str | None = None, fixed_head: bool = True) -> SweepResult:
    """Totals over the grid ``options`` (name → values) × ``inputs`` (a tuple or a list of
    them; default: the spec's input) × ``batch`` (an int or a list), as ``archcalc
    sweep``; a configuration the model cannot take is kept with its error."""
    from .analyses.sweep import sweep as run

    options = {name: list(values) for name, values in (options or {}).items()}
    for name, values in options.items():
        if isinstance(values, (str, bytes)):
            raise ArchcalcError(f"option '{quoted(name)}' takes a list of values, got "
                                f"{quoted(repr(values))}")
    if isinstance(spec, Model):
        if options:
            raise ArchcalcError("options are set when a model is built: pass the spec "
                                "(a name, a path, YAML or a dict), not a built Model")
        build = lambda combo: spec  # noqa: E731
    else:
        build = _builder(spec)
    if inputs is not None and not isinstance(inputs, (list, range)):
        inputs = [inputs]
    if inputs is not None and inputs and isinstance(inputs[0], int):
        inputs = [tuple(inputs)]  # one shape given as a list of ints
    batches = [batch] if isinstance(batch, int) else list(batch)
    return SweepResult(run(build, options, inputs, batches, dtype, fixed_head=fixed_head))


def _builder(spec):
    """``build(options)`` for anything :func:`load` takes, reading files once."""
    if isinstance(spec, (str, os.PathLike)) and not (isinstance(spec, str) and _is_yaml_text(spec)):
        from .spec.catalog import builder

        return builder(os.fspath(spec))
    return lambda combo: load(spec, combo)


__all__ = ["load", "analyse", "compare", "sweep", "Analysis", "Comparison", "SweepResult",
           "ArchcalcError", "SpecError"]
