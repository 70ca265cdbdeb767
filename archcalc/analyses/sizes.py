"""Which input sizes a model accepts, and which of them its windows tile exactly.

A size is *valid* when the integer engine propagates the model on it without error
(every window fits its padded input, branches agree, dense layers see the features
their weights were made for).  A window layer *drops* the input rows past the end of
its last window (docs/conventions.md, "Dropped rows")::

    dropped = max(0, pad_before + in − ((out − 1)·stride + extent)),  extent = d·(k − 1) + 1

which in floor mode is the familiar ``(in + pads − extent) mod stride`` less any trailing
padding that is all the tail holds.  A size tiles *exactly* when no window layer drops
a row or a column.

Scans are capped (docs/conventions.md, "Limits"): sizes up to :data:`MAX_SCAN_SIZE`, at
most :data:`MAX_SCAN_PAIRS` (H, W) pairs per scan; the searches for the smallest valid
size outside the range stop at :data:`MAX_SCAN_SIZE` too, and say so when they stop.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..core.engine import declared_features, propagate, propagate_partial
from ..core.graph import Model
from ..core.shapes import Shape
from ..errors import ArchcalcError

#: Largest input size a scan or a search for the smallest valid size tries.
MAX_SCAN_SIZE = 10_000
#: Most (H, W) pairs one scan propagates (a square scan of 1..10,000 is 10,000 pairs).
MAX_SCAN_PAIRS = 10_000
#: Most layer evaluations (sizes tried × layers of the model) one scan or search spends:
#: some seconds; the bundled models' default scans need under 300,000.
MAX_SCAN_WORK = 2_000_000


def _layers(model: Model) -> int:
    return max(1, len(model.nodes))  # every node, merges included, is one evaluation


def search_limit(model: Model, limit: int) -> int:
    """``limit`` cut to what a search for the smallest valid size may try on ``model``."""
    return max(1, min(limit, MAX_SCAN_SIZE, MAX_SCAN_WORK // _layers(model)))


@dataclass(frozen=True)
class Drop:
    """The first layer (in execution order) that drops input rows or columns."""

    size: tuple      # (H, W) of the model input
    layer: str
    dropped: tuple   # (rows, columns)
    valid: bool


@dataclass(frozen=True)
class SizeScan:
    model: str
    heights: tuple   # (min, max)
    widths: tuple
    valid: tuple     # (H, W) pairs
    exact: tuple
    inexact: tuple   # Drop per size that drops pixels (valid or not)
    invalid: tuple   # (size, message) of the first error
    smallest_valid: tuple | None
    #: the search for a smallest valid size stopped here without finding one (None: it
    #: was not cut short)
    search_limit: int | None = None
    #: a scan of square sizes (one range) rather than of every (H, W) pair of two ranges,
    #: equal ones included (`--height 6:8 --width 6:8` is 9 pairs, not 3 squares)
    square: bool = True


def window_drops(layer, in_shape: Shape) -> tuple:
    """(rows, columns) of the input that no window of ``layer`` reaches ((0, 0) for layers
    without windows)."""
    g = layer.geometry(in_shape)
    return g.dropped if g is not None else (0,) * len(in_shape.spatial)


def first_drop(rows: tuple) -> tuple | None:
    """(layer, (rows, columns)) of the first row whose window drops input, or None."""
    for row in rows:
        if row.layer.arity == 1:
            dropped = window_drops(row.layer, row.in_shape)
            if any(dropped):
                return row.name, dropped
    return None


def is_valid(model: Model, height: int, width: int) -> bool:
    try:
        propagate(model, Shape.of(model.input_shape.channels, height, width))
    except ArchcalcError:
        return False
    return True


def smallest_valid_axis(model: Model, axis: str, limit: int) -> int | None:
    """Smallest valid height (or width) up to ``limit`` (cut by :func:`search_limit`), the
    other axis at its declared size."""
    _, h0, w0 = model.input_shape.dims
    for s in range(1, search_limit(model, limit) + 1):
        if is_valid(model, *((s, w0) if axis == "height" else (h0, s))):
            return s
    return None


def smallest_valid_square(model: Model, limit: int | None = None) -> int | None:
    """Smallest valid square size, scanning 1..limit (default: the declared size's larger
    side), cut by :func:`search_limit`."""
    _, h0, w0 = model.input_shape.dims
    for s in range(1, search_limit(model, limit or max(h0, w0)) + 1):
        if is_valid(model, s, s):
            return s
    return None


def _check_range(name: str, lo: int, hi: int) -> None:
    if lo < 1:
        raise ArchcalcError(f"{name}: sizes start at 1, got minimum {lo}")
    if lo > hi:
        raise ArchcalcError(f"{name}: minimum {lo} is greater than maximum {hi}")
    if hi > MAX_SCAN_SIZE:
        raise ArchcalcError(f"{name}: sizes are scanned up to {MAX_SCAN_SIZE:,}, got maximum {hi:,}")


def scan(model: Model, heights: tuple, widths: tuple | None = None,
         on_size=None) -> SizeScan:
    """Valid, exact and inexact sizes over the given ranges (square when ``widths`` is None);
    ``on_size(1, total)`` is told of each size tried (a progress bar)."""
    _check_range("height range" if widths else "size range", *heights)
    if widths:
        _check_range("width range", *widths)
    count = (heights[1] - heights[0] + 1) * ((widths[1] - widths[0] + 1) if widths else 1)
    if count > MAX_SCAN_PAIRS:
        raise ArchcalcError(f"the scan covers {count:,} sizes; at most {MAX_SCAN_PAIRS:,} "
                            f"(narrow --height or --width)")
    if count * _layers(model) > MAX_SCAN_WORK:
        raise ArchcalcError(f"the scan would try {count:,} sizes on {_layers(model):,} layers; "
                            f"at most {MAX_SCAN_WORK:,} layer evaluations (narrow the range)")
    c = model.input_shape.channels
    if widths is None:
        pairs = [(s, s) for s in range(heights[0], heights[1] + 1)]
    else:
        pairs = [(h, w) for h in range(heights[0], heights[1] + 1)
                 for w in range(widths[0], widths[1] + 1)]
    valid, exact, inexact, invalid = [], [], [], []
    limit = None
    pins = declared_features(model)
    for h, w in pairs:
        if on_size is not None:
            on_size(1, len(pairs))
        rows, error = propagate_partial(model, Shape.of(c, h, w), pins)
        if error is None:
            valid.append((h, w))
        else:
            invalid.append(((h, w), error.render()))
        drop = first_drop(rows)
        if drop is not None:
            inexact.append(Drop((h, w), drop[0], drop[1], error is None))
        elif error is None:
            exact.append((h, w))
    if widths is None:
        # sizes below the range first; the scan itself answers inside it
        below = heights[0] - 1
        smallest = smallest_valid_square(model, below) if below else None
        if smallest is None and search_limit(model, below) < below:
            # sizes between the search's limit and the range went untried: no claim
            limit = search_limit(model, below)
        elif smallest is None and valid:
            smallest = valid[0][0]
        elif smallest is None:
            top = max(model.input_shape.spatial)
            reach = min(top, heights[1] + search_limit(model, max(1, top - heights[1])),
                        MAX_SCAN_SIZE)
            smallest = next((s for s in range(heights[1] + 1, reach + 1)
                             if is_valid(model, s, s)), None)
            if smallest is None and top > reach:
                limit = reach
        smallest = (smallest, smallest) if smallest else None
    else:
        smallest = valid[0] if valid else None
    return SizeScan(model.name, tuple(heights), tuple(widths or heights), tuple(valid),
                    tuple(exact), tuple(inexact), tuple(invalid), smallest, limit,
                    square=widths is None)


__all__ = ["Drop", "SizeScan", "window_drops", "first_drop", "is_valid", "scan",
           "smallest_valid_axis", "smallest_valid_square"]
