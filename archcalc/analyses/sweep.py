"""A grid of configurations (``archcalc sweep``): options × input sizes × batch sizes,
the totals of each, and the Pareto front of params against MACs.

The grid is ``options`` (each a list of values; every combination builds the model once),
``inputs`` (shapes of the model's input rank) and ``batches``.  Batch needs no work: the
per-sample totals are scaled (params do not depend on it, docs/conventions.md).  Input
sizes are the engine's (:func:`archcalc.core.engine.counter`) along a memoised walk: the
totals of the nodes after node *i* depend only on the shapes of the tensors still alive
after it, so once a configuration reaches a state (node, live shapes) an earlier one
reached, the rest of its totals are known.  Strided layers send many input sizes to the
same state (224 and 223 both become 112 after ResNet's stride-2 stem), so a sweep of
10,000 sizes evaluates a fraction of the nodes a walk per size would
(benchmarks/sweep.py measures it: 10,000 (H, W) pairs of ResNet-50 in about half a second,
29× fewer node evaluations; 10,000 square sizes in about three, 7× fewer; a walk per size
takes some 40 s).  It runs in one process: split over two processes (the memo split with
them) the hardest case measured no faster on a two-core machine, start-up included.  Fully connected layers are fixed to the features seen
at the declared input, as ``table`` fixes them: a size whose flattened features differ is
an invalid configuration, reported with its error.

A grid is capped (docs/conventions.md, "Limits"): at most :data:`MAX_SWEEP_CONFIGS`
configurations, :data:`MAX_SWEEP_MODELS` option combinations and
:data:`MAX_SWEEP_WORK` node evaluations in the worst case (no state shared).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable, Iterable

from ..core.dtypes import DTYPE_BYTES
from ..core.engine import counter, declared_features, propagate_partial
from ..core.graph import INPUT, Model
from ..core.shapes import Shape
from ..errors import ArchcalcError, quoted

#: Most configurations (option combinations × input shapes × batch sizes) in one sweep.
MAX_SWEEP_CONFIGS = 100_000
#: Most option combinations (each builds the model: a few milliseconds).
MAX_SWEEP_MODELS = 1_000
#: Most node evaluations a sweep may need when no two configurations share a state
#: (option combinations × input shapes × nodes): about a minute at worst, usually far less.
MAX_SWEEP_WORK = 10_000_000

#: Most states one model's memoised walk remembers (about 500 bytes each).
MAX_MEMO = 400_000

FIGURES = ("params", "connections", "macs", "flops", "activations")


@dataclass(frozen=True)
class Point:
    """One configuration and its totals for the whole batch (None where it is invalid)."""

    options: tuple        # (name, value) pairs, in the sweep's option order
    input_shape: Shape
    batch: int
    dtype: str
    params: int | None
    connections: int | None
    macs: int | None
    flops: int | None
    activations: int | None
    activation_bytes: int | None
    #: the one-line error that makes the configuration invalid
    error: str | None = None

    @property
    def valid(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Sweep:
    model: str
    option_names: tuple
    points: tuple
    #: indices of the points on the Pareto front of (params, MACs), both minimised
    pareto: tuple


def pareto_front(pairs) -> tuple:
    """Indices of the pairs (x, y) no other pair dominates, both minimised: j dominates i
    when x_j ≤ x_i and y_j ≤ y_i with one of them strictly less.  Equal pairs do not
    dominate each other, so all of them are on the front when one is.  None entries
    (invalid configurations) are left out.  O(n log n)."""
    order = sorted((p[0], p[1], i) for i, p in enumerate(pairs) if p is not None)
    front, best = [], None  # best: least y among pairs of strictly smaller x
    at = 0
    while at < len(order):
        x = order[at][0]
        end = at
        while end < len(order) and order[end][0] == x:
            end += 1
        least = order[at][1]  # the group is sorted by y
        if best is None or least < best:
            front += [i for _, y, i in order[at:end] if y == least]
            best = least
        at = end
    return tuple(sorted(front))


class Totaller:
    """Per-sample totals of one model at any input shape: the engine along the memoised
    walk described in the module docstring.

    States are remembered where the graph is narrowest — after nodes past which a single
    tensor lives on (a chain's every node, a residual block's add, a concat's output) —
    or after every node when the model has no such point; at most :data:`MAX_MEMO` of
    them (about 500 bytes each), so memory stays bounded on any grid."""

    def __init__(self, model: Model, fixed_head: bool = True):
        self.model = model
        self.evaluations = 0
        self.fallback = False
        pins = None
        if fixed_head:
            try:
                pins = declared_features(model)
            except ArchcalcError:  # the spec fails on its own input: the engine's own path
                self.fallback = True
        self.step = counter(model, pins)
        last = model.last_use
        made, live = [INPUT], []
        for i, node in enumerate(model.nodes):
            made.append(node.path)
            live.append(tuple(t for t in made if last[t] > i))
        narrow = [len(names) == 1 for names in live[:-1]]  # after the last node: nothing left
        self.live = live
        self.kept = [n or not any(narrow) for n in narrow] + [False]
        self.memo: dict = {}

    def totals(self, shape: Shape):
        """(params, connections, macs, flops, activations) per sample, or the
        :class:`ArchcalcError` that makes ``shape`` invalid."""
        if self.fallback:
            rows, error = propagate_partial(self.model, shape)
            self.evaluations += len(self.model.nodes)
            if error is not None:
                return error
            return tuple(sum(getattr(r.counts, f) for r in rows) for f in FIGURES)
        values = {INPUT: shape}
        trail, memo, step, live, kept = [], self.memo, self.step, self.live, self.kept
        result = (0, 0, 0, 0, 0)
        for i, node in enumerate(self.model.nodes):
            try:
                c = step(node, tuple(values[t] for t in node.inputs))
            except ArchcalcError as err:
                result = err
                break
            self.evaluations += 1
            values[node.path] = c.out_shape
            key = (i, tuple(values[t] for t in live[i])) if kept[i] else None
            trail.append((key, c))
            if key is not None:
                known = memo.get(key)
                if known is not None:
                    result = known
                    break
        # back along the walk: each state's suffix is what follows it
        room = len(memo) < MAX_MEMO
        for key, c in reversed(trail):
            if key is not None and room:
                memo[key] = result
            if not isinstance(result, ArchcalcError):
                result = (result[0] + c.params, result[1] + c.connections, result[2] + c.macs,
                          result[3] + c.flops, result[4] + c.activations)
        return result


def _combinations(options: dict) -> list[dict]:
    names = list(options)
    return [dict(zip(names, values)) for values in itertools.product(*(options[n] for n in names))]


def check_grid(options: dict, inputs: list, batches: list, nodes: int | None = None) -> None:
    """Refuse a grid past the caps, before any work."""
    for name, values in options.items():
        if not values:
            raise ArchcalcError(f"option '{quoted(name)}' has no values to sweep")
    models = 1
    for values in options.values():
        models *= len(values)
    configs = models * len(inputs) * len(batches)
    if not configs:
        raise ArchcalcError("the sweep has no configurations (no input size or batch)")
    if models > MAX_SWEEP_MODELS:
        raise ArchcalcError(f"the sweep has {models:,} option combinations; at most "
                            f"{MAX_SWEEP_MODELS:,} (each builds the model)")
    if configs > MAX_SWEEP_CONFIGS:
        raise ArchcalcError(f"the sweep has {configs:,} configurations; at most "
                            f"{MAX_SWEEP_CONFIGS:,}")
    if nodes is not None and models * len(inputs) * nodes > MAX_SWEEP_WORK:
        raise ArchcalcError(f"the sweep could need {models * len(inputs) * nodes:,} layer "
                            f"evaluations ({models * len(inputs):,} models and inputs × {nodes:,} "
                            f"layers); at most {MAX_SWEEP_WORK:,}")


def sweep(build: Callable[[dict], Model], options: dict | None = None,
          inputs: Iterable | None = None, batches: Iterable[int] = (1,), dtype: str | None = None,
          fixed_head: bool = True, on_step: Callable[[int], None] | None = None) -> Sweep:
    """Every configuration of the grid, in order (options slowest, then input, then batch).

    ``build(options)`` makes the model for one option combination; ``inputs`` are shapes
    (tuples of the model's input rank, :class:`Shape`, or callables from the model to a
    list of them) — None sweeps the model's own input only; ``on_step(n, total)`` is told
    of each n (option combination, input) pairs done, of ``total``.
    """
    options = {name: list(values) for name, values in (options or {}).items()}
    batches = list(batches)
    for b in batches:
        if isinstance(b, bool) or not isinstance(b, int) or b < 1:
            raise ArchcalcError(f"batch sizes must be positive integers, got {b!r}")
    if dtype is not None and dtype not in DTYPE_BYTES:
        raise ArchcalcError(f"unknown dtype '{quoted(dtype)}'; choose from {', '.join(DTYPE_BYTES)}")
    raw_inputs = list(inputs) if inputs is not None else [None]
    check_grid(options, [None], batches or [1])  # the option combinations, before any build
    combos = _combinations(options)
    points, name = [], None
    for combo in combos:
        model = build(combo)
        name = name or model.name
        shapes = _shapes(model, raw_inputs)
        check_grid(options, shapes, batches, len(model.nodes))
        steps = len(combos) * len(shapes)
        size = DTYPE_BYTES[dtype or model.dtype]
        totaller = Totaller(model, fixed_head)
        pairs = tuple(combo.items())
        for shape in shapes:
            result = totaller.totals(shape)
            for batch in batches:
                if isinstance(result, ArchcalcError):
                    points.append(Point(pairs, shape, batch, dtype or model.dtype,
                                        *([None] * 6), error=result.render()))
                    continue
                params, connections, macs, flops, acts = result
                points.append(Point(pairs, shape, batch, dtype or model.dtype, params,
                                    batch * connections, batch * macs, batch * flops,
                                    batch * acts, batch * acts * size))
            if on_step is not None:
                on_step(1, steps)
    front = pareto_front([(p.params, p.macs) if p.valid else None for p in points])
    return Sweep(name or "", tuple(options), tuple(points), front)


def _shapes(model: Model, raw: list) -> list[Shape]:
    """The input shapes of one model: its own for None, each checked against its rank."""
    rank = model.input_shape.rank
    out = []
    for x in raw:
        if callable(x):
            out += _shapes(model, list(x(model)))
            continue
        if x is None:
            out.append(model.input_shape)
            continue
        dims = tuple(x.dims) if isinstance(x, Shape) else tuple(x)
        if len(dims) != rank or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 1
                                        for d in dims):
            raise ArchcalcError(f"input {quoted(dims)} is not {rank} positive integers "
                                f"(the input rank of '{quoted(model.name)}')")
        out.append(Shape(dims))
    return out


# --- the grid's text form (the command line) ---------------------------------------------

def parse_values(text: str, what: str) -> list[int]:
    """'8' → [8]; '1,8,32' → [1, 8, 32]; '224..512..32' → 224, 256, …, 512 (A..B is step 1);
    items combine: '1,2..4'.  Counted before any list is made, so a huge range is refused."""
    from ..spec.fields import MAX_SIZE

    values = []
    for item in text.split(","):
        values += _range(item.strip(), what, MAX_SIZE, text)
        if len(values) > MAX_SWEEP_CONFIGS:
            raise ArchcalcError(f"{what} lists more than {MAX_SWEEP_CONFIGS:,} values: "
                                f"'{quoted(text)}'")
    return values


def _range(item: str, what: str, largest: int, text: str) -> range:
    expected = (f"{what} takes N, A..B or A..B..STEP (positive integers, A ≤ B), "
                f"got '{quoted(text)}'")
    parts = item.split("..")
    if not 1 <= len(parts) <= 3 or not all(p.isascii() and p.isdigit() and len(p) <= 30
                                           for p in parts):
        raise ArchcalcError(expected)
    numbers = [int(p) for p in parts]
    if any(n < 1 for n in numbers) or numbers[0] > numbers[min(1, len(numbers) - 1)]:
        raise ArchcalcError(expected)
    if any(n > largest for n in numbers):
        raise ArchcalcError(f"{what} sizes are at most 10^9 (archcalc's largest size), "
                            f"got '{quoted(text)}'")
    start, stop = numbers[0], numbers[1] if len(numbers) > 1 else numbers[0]
    step = numbers[2] if len(numbers) > 2 else 1
    count = (stop - start) // step + 1
    if count > MAX_SWEEP_CONFIGS:
        raise ArchcalcError(f"{what} lists {count:,} values; at most {MAX_SWEEP_CONFIGS:,}: "
                            f"'{quoted(text)}'")
    return range(start, stop + 1, step)


def parse_input_grid(text: str) -> Callable[[Model], list]:
    """'C,H,W' with each part N, A..B or A..B..STEP (repeat ``--input`` for a list of
    shapes), as a function of the model, whose input rank decides: as many parts as the
    rank give every combination; two parts for a model of higher rank are C and one size
    for every spatial axis ('3,224..512..32': square inputs)."""
    axes = [parse_values(part.strip(), "--input")
            for part in text.replace("×", ",").replace("x", ",").split(",")]
    total = 1
    for values in axes:
        total *= len(values)
    if total > MAX_SWEEP_CONFIGS:
        raise ArchcalcError(f"--input '{quoted(text)}' makes {total:,} shapes; at most "
                            f"{MAX_SWEEP_CONFIGS:,}")

    def shapes(model: Model) -> list[tuple]:
        rank = model.input_shape.rank
        if len(axes) == rank:
            return list(itertools.product(*axes))
        if len(axes) == 2 and rank > 2:
            return [(c,) + (s,) * (rank - 1) for c in axes[0] for s in axes[1]]
        raise ArchcalcError(f"--input '{quoted(text)}' has {len(axes)} parts; "
                            f"'{quoted(model.name)}' takes {rank} (or 2: channels and one size "
                            f"for every spatial axis)")
    return shapes


def parse_option_grid(texts: Iterable[str], parse_one: Callable[[str], tuple]) -> dict:
    """'NAME=V1,V2,...' each (values read as ``--option`` reads one) → {name: [values]}."""
    grid: dict = {}
    for text in texts:
        name, sep, raw = text.partition("=")
        if not sep or not raw.strip():
            raise ArchcalcError(f"--option must be NAME=V1,V2,... (e.g. aux_logits=true,false), "
                                f"got '{quoted(text)}'")
        values = [parse_one(f"{name}={v}")[1] for v in raw.split(",")]
        key = name.strip()
        if key in grid:
            raise ArchcalcError(f"option '{quoted(key)}' is given twice; list its values in one "
                                f"--option {quoted(key)}=V1,V2,...")
        grid[key] = values
    return grid
