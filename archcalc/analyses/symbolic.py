"""Symbolic mode: the input's spatial sizes (L in 1-D; H, W in 2-D; D, H, W in 3-D) and
the batch B become sympy symbols.

Nothing here computes a size or a count: :func:`analyse_symbolic` runs the same engine
and report as integer mode (:func:`archcalc.core.report.analyse`) on a :class:`Shape` whose
dims are symbols, so every column is the exact formula of the integer figure.  This
module adds what symbols alone cannot say:

* a fully connected layer on a flattened size that depends on H or W keeps the weight
  matrix of the declared input, so its formulas hold only where that size matches — the
  condition is reported (``conditions``), and its counts are constants;
* the engine's checks that compare sizes (a window larger than its input, a dense layer
  on the wrong number of features) cannot be decided on symbols, so validity comes from
  the integer engine: the smallest valid size along each axis (``min_input``) and, when no
  condition pins the input, the statement that any larger size is accepted.

Formulas print in floor form, ``floor((H - 11)/4) + 1``, and every printed formula is a
string that ``sympy.sympify`` parses back to the same expression.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy
from sympy.printing.str import StrPrinter

from ..core.engine import propagate
from ..errors import ArchcalcError, ShapeError
from ..core.graph import Model
from ..core.report import Report, analyse
from ..core.shapes import Shape

#: Most strided windows (stride > 1 along an axis) a model may have in symbolic mode:
#: each nests the size formulas one floor deeper (the bundled models have at most 8).
MAX_SYMBOLIC_STRIDED = 32
#: Most windows along one axis whose size formula splits into cases (Max or Piecewise: a
#: window narrower than its stride, with 'same' padding or in ceil mode).  Each copies
#: the formula so far into every case, so building them grows exponentially (three in
#: ceil mode take 15 s, four over a minute; none of the bundled models has one).
MAX_SYMBOLIC_CASES = 2


def _check_formula_growth(model: Model) -> None:
    """Refuse, before any sympy work, a model whose formulas would be too large to build."""
    from ..core.shapes import effective_kernel, pads_per_axis, per_axis
    from ..layers.conv import Conv
    from ..layers.pool import Window

    rank = len(model.input_shape.spatial)
    strided, cases = 0, [0] * rank
    for node in model.layer_nodes():
        layer = node.layer
        if not isinstance(layer, (Conv, Window)):
            continue
        try:
            kernel, stride, dilation = (per_axis(getattr(layer, name), rank, name)
                                        for name in ("kernel", "stride", "dilation"))
            padding = pads_per_axis(layer.padding, rank)
        except ShapeError:
            continue  # the engine reports the layer's own error
        extents = [effective_kernel(k, d) for k, d in zip(kernel, dilation)]
        strided += any(s > 1 for s in stride)
        for axis, (s, e) in enumerate(zip(stride, extents)):
            if padding == "same":
                cases[axis] += e < s
            elif layer.ceil_mode:
                cases[axis] += s + padding[axis][1] > e
        for count, cap, what in ((strided, MAX_SYMBOLIC_STRIDED, "strided windows"),
                                 (max(cases), MAX_SYMBOLIC_CASES, "windows narrower than their "
                                  "stride along an axis ('same' padding or ceil mode)")):
            if count > cap:
                raise ArchcalcError(f"--symbolic handles at most {cap} {what}; this is one more "
                                    f"(its formulas would grow too large): use integer sizes",
                                    file=model.file, line=node.line, layer=node.path)


# The batch is B, not N: plain sympy.sympify reads N as its numeric-evaluation function.
L, D, H, W, B = sympy.symbols("L D H W B", integer=True, positive=True)
SYMBOLS = {"L": L, "D": D, "H": H, "W": W, "B": B}
#: the symbols of the spatial axes, by their number
AXIS_SYMBOLS = {1: (L,), 2: (H, W), 3: (D, H, W)}


def axis_names(rank: int) -> tuple:
    """('L',), ('H', 'W') or ('D', 'H', 'W'): the spatial axes of a map of ``rank`` axes."""
    return tuple(str(s) for s in AXIS_SYMBOLS[rank])


class _FloorPrinter(StrPrinter):
    """sympy's str form, with floor and ceiling of a fraction written over one line:
    ``floor((H - 11)/4)`` rather than sympy's distributed ``floor(H/4 - 11/4)``.

    The same floors recur in every later size of a model (and in its totals), so each
    is rewritten once per process: ``together`` and ``expand`` are the slow part."""

    _rounded_texts: dict = {}

    def _rounded(self, name: str, expr) -> str:
        key = (name, expr)
        text = self._rounded_texts.get(key)
        if text is None:
            text = self._rounded_texts[key] = self._rounded_uncached(name, expr)
        return text

    def _rounded_uncached(self, name: str, expr) -> str:
        num, den = sympy.fraction(sympy.together(sympy.expand(expr.args[0])))
        if den == 1:
            return f"{name}({self._print(num)})"
        top = self._print(num)
        if not (num.is_Atom or num.func in (sympy.floor, sympy.ceiling)):
            top = f"({top})"
        bottom = self._print(den) if den.is_Atom else f"({self._print(den)})"
        return f"{name}({top}/{bottom})"

    def _print_floor(self, expr) -> str:
        return self._rounded("floor", expr)

    def _print_ceiling(self, expr) -> str:
        return self._rounded("ceiling", expr)


def formula(value) -> str:
    """A readable, sympify-able string for an int or a sympy expression."""
    if isinstance(value, int):
        return str(value)
    return _formula(sympy.sympify(value))


@lru_cache(maxsize=4096)
def _formula(expr) -> str:
    # cached: a model's rows repeat the same sizes in several columns and many rows
    if expr.is_Integer:
        return str(int(expr))
    if not expr.has(sympy.Max, sympy.Piecewise):  # factoring those is slow and no clearer
        expr = sympy.factor_terms(expr)
    return _FloorPrinter().doprint(expr)


def evaluate(value, *sizes: int, batch: int = 1) -> int:
    """The integer a formula (expression or printed string) takes at the spatial ``sizes``
    (L; H, W; or D, H, W) and batch B."""
    expr = sympy.sympify(value, locals=dict(SYMBOLS))
    at = dict(zip(AXIS_SYMBOLS[len(sizes)], sizes), **{"B": batch})
    result = expr.subs({SYMBOLS[str(k)]: v for k, v in at.items()})
    if not result.is_Integer:
        where = ", ".join(f"{k}={v}" for k, v in at.items())
        raise ArchcalcError(f"formula {value} does not evaluate to an integer at {where}: {result}")
    return int(result)


@dataclass(frozen=True)
class Condition:
    """A fully connected layer's formulas hold only where ``features == expected``."""

    layer: str
    features: object  # sympy expression in the spatial symbols
    expected: int

    @property
    def equation(self) -> str:
        """As a string sympify parses (``Eq(lhs, rhs)``)."""
        return f"Eq({formula(self.features)}, {self.expected})"


@dataclass(frozen=True)
class SymbolicReport(Report):
    """A :class:`Report` whose figures are sympy expressions in the spatial symbols and B."""

    conditions: tuple = ()
    #: smallest valid size per spatial axis, each scanned with the others at the declared size
    min_input: tuple | None = None
    #: True when every size at least ``min_input`` is valid (no dense layer pins the input)
    open_above: bool = False
    notes: tuple = ()


def _conditions(model: Model, report: Report) -> tuple:
    """Dense layers whose flattened input depends on H or W, with the count they expect."""
    from ..layers.dense import FullyConnected

    dense = {node.path for node in model.nodes if isinstance(node.layer, FullyConnected)}
    declared = {row.name: row.in_shape.numel for row in propagate(model) if row.name in dense}
    found = []
    for row in report.layers:
        if row.name in dense:
            n = sympy.sympify(row.in_shape.numel)
            if n.free_symbols:
                found.append(Condition(row.name, n, declared[row.name]))
    return tuple(found)


def analyse_symbolic(model: Model, dtype: str | None = None, limit: int | None = None) -> SymbolicReport:
    """The model's report on an input whose spatial sizes are symbols (C×L, C×H×W or
    C×D×H×W) with batch B, plus where its formulas hold.

    ``limit`` bounds the integer scan for the smallest valid size along each axis (default:
    twice the declared size; never past :data:`archcalc.analyses.sizes.MAX_SEARCH_SIZE`).
    """
    from .sizes import search_limit, smallest_valid_axis

    declared = tuple(model.input_shape.spatial)
    symbols = AXIS_SYMBOLS[len(declared)]
    names = axis_names(len(declared))
    propagate(model)  # a spec that fails on its own input fails here, with its own message
    _check_formula_growth(model)
    try:
        report = analyse(model, Shape.of(model.input_shape.channels, *symbols), batch=B, dtype=dtype)
    except ShapeError as err:  # e.g. branches whose sizes agree only at some inputs
        raise ShapeError(f"no single formula: with symbolic {', '.join(names)}, {err.message}; "
                         f"the model is valid only at some sizes ('archcalc sizes' lists them)",
                         file=err.file, line=err.line, layer=err.layer) from None
    except (TypeError, ValueError) as err:  # sympy could not decide a comparison
        raise ArchcalcError(f"this model cannot be analysed with symbolic sizes: {err}",
                            file=model.file) from None
    conditions = _conditions(model, report)
    wanted = limit or 2 * max(declared)
    limit = search_limit(model, wanted)
    smallest = tuple(smallest_valid_axis(model, axis, limit) for axis in range(len(declared)))
    min_input = smallest if None not in smallest else None
    open_above = not conditions and min_input is not None
    notes = []
    for cond in conditions:
        notes.append(f"{cond.layer}: the dense weights fix the input size; formulas hold only "
                     f"where {formula(cond.features)} = {cond.expected:,} "
                     f"(the flattened size at the declared {model.input_shape})")
    if open_above:
        bounds = " and ".join(f"{n} ≥ {m}" for n, m in zip(names, min_input))
        notes.append(f"accepts any input with {bounds}; formulas hold for every such size")
    elif min_input is not None:
        if len(names) == 1:
            notes.append(f"smallest valid {names[0]} is {min_input[0]}; "
                         f"'archcalc sizes' lists the valid sizes")
        else:
            each = " and smallest valid ".join(
                f"{n} is {m} ({', '.join(f'{o} = {d}' for o, d in zip(names, declared) if o != n)})"
                for n, m in zip(names, min_input))
            notes.append(f"smallest valid {each}; 'archcalc sizes' lists the valid sizes")
    elif limit < wanted:
        notes.append(f"no smallest valid {' and '.join(names)} found up to {limit:,} (the "
                     f"search's limit); 'archcalc sizes' lists the valid sizes in a range")
    notes.append("formulas are exact for every valid size; params do not depend on the batch B")
    fields = {f: getattr(report, f) for f in ("model", "input_shape", "batch", "dtype", "layers")}
    return SymbolicReport(**fields, conditions=conditions, min_input=min_input,
                          open_above=open_above, notes=tuple(notes))
