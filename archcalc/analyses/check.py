"""Checking published figures against exact ones (``archcalc check``).

Pure computation: each :class:`~archcalc.spec.published.Published` entry of a model is
evaluated with the engine and becomes a :class:`Verdict`.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..spec.expr import evaluate
from ..core.graph import Model
from ..spec.published import Published
from ..core.report import DTYPE_BYTES, Report, analyse

AGREE, ERRATUM, DISAGREE, STALE = "agree", "erratum", "DISAGREE", "STALE ERRATUM"


@dataclass(frozen=True)
class Verdict:
    model: str
    entry: Published
    computed: object            # exact int, or a shape tuple for 'output'
    agrees: bool
    reproduced: int | None = None

    @property
    def status(self) -> str:
        if self.agrees:
            return STALE if self.entry.erratum else AGREE
        return ERRATUM if self.entry.erratum else DISAGREE

    @property
    def ok(self) -> bool:
        """A disagreement is acceptable only when the spec marks it as a known erratum."""
        return self.status in (AGREE, ERRATUM)

    @property
    def difference(self) -> Fraction | None:
        if self.entry.number is None:
            return None
        return self.computed - self.entry.number.value

    @property
    def reproduces(self) -> bool | None:
        if self.reproduced is None:
            return None
        if self.entry.number is not None:
            return self.entry.number.agrees(self.reproduced)
        return False


def _rows(report: Report, layer: str):
    return [r for r in report.layers if r.name == layer or r.name.startswith(layer + "/")]


def computed_figure(entry: Published, report: Report):
    """The exact figure an entry names, from the report it was analysed with."""
    if entry.figure == "output":
        rows = [r for r in report.layers if r.name == entry.layer]
        return rows[0].out_shape.dims if rows else ()
    input_elements = report.input_shape.numel * report.batch
    if entry.figure == "activations_with_input":
        base = _rows(report, entry.layer) if entry.layer else report.layers
        return sum(r.activations for r in base) + input_elements
    if entry.figure == "activation_bytes_with_input":
        base = _rows(report, entry.layer) if entry.layer else report.layers
        return sum(r.activation_bytes for r in base) + input_elements * DTYPE_BYTES[report.dtype]
    if entry.layer:
        rows = _rows(report, entry.layer)
        if entry.figure == "param_bytes":
            return sum(r.params for r in rows) * DTYPE_BYTES[report.dtype]
        return sum(getattr(r, entry.figure) for r in rows)
    return getattr(report.totals, entry.figure)


def check_model(model: Model) -> tuple[Verdict, ...]:
    """A verdict for every published entry of ``model``."""
    reports: dict = {}
    verdicts = []
    for entry in model.published:
        key = entry.input_shape
        if key not in reports:
            # At another input, dense layers follow it: the question is what that input implies.
            reports[key] = analyse(model, entry.input_shape, fixed_head=entry.input_shape is None)
        computed = computed_figure(entry, reports[key])
        if entry.figure == "output":
            agrees = tuple(computed) == entry.shape
        else:
            agrees = entry.number.agrees(computed)
        reproduced = evaluate(entry.reproduced_by, {}) if entry.reproduced_by else None
        verdicts.append(Verdict(model.name, entry, computed, agrees, reproduced))
    return tuple(verdicts)
