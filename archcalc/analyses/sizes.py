"""Which input sizes a model accepts, and which of them its windows tile exactly.

A size is *valid* when the integer engine propagates the model on it without error
(every window fits its padded input, branches agree, dense layers see the features
their weights were made for).  A window layer *drops* the input rows past the end of
its last window (docs/conventions.md, "Dropped rows")::

    dropped = max(0, pad_before + in − ((out − 1)·stride + extent)),  extent = d·(k − 1) + 1

which in floor mode is the familiar ``(in + pads − extent) mod stride`` less any trailing
padding that is all the tail holds.  A size tiles *exactly* when no window layer drops
a row or a column.

A *square* scan tries inputs of one size along every spatial axis (lengths in 1-D,
squares in 2-D, cubes in 3-D); a scan of (H, W) pairs varies the last two axes of a 2-D or
3-D input (a 3-D input keeps its declared depth).

Scans are capped (docs/conventions.md, "Limits"): sizes up to :data:`MAX_SCAN_SIZE`, at
most :data:`MAX_SCAN_PAIRS` sizes per scan; the searches for the smallest valid
size outside the range stop at :data:`MAX_SEARCH_SIZE`, and say so when they stop.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..core.engine import declared_features, propagate, propagate_partial
from ..core.graph import Model
from ..core.shapes import Shape
from ..errors import ArchcalcError

#: Largest input size a scan's range may reach (a minute of 16 kHz audio is 960,000).
MAX_SCAN_SIZE = 1_000_000
#: Largest size a search for the smallest valid size tries (from 1 upwards).
MAX_SEARCH_SIZE = 10_000
#: Most (H, W) pairs one scan propagates (a square scan of 1..10,000 is 10,000 pairs).
MAX_SCAN_PAIRS = 10_000
#: Most layer evaluations (sizes tried × layers of the model) one scan or search spends:
#: some seconds; the bundled models' default scans need under 300,000.
MAX_SCAN_WORK = 2_000_000


def _layers(model: Model) -> int:
    return max(1, len(model.nodes))  # every node, merges included, is one evaluation


def search_limit(model: Model, limit: int) -> int:
    """``limit`` cut to what a search for the smallest valid size may try on ``model``."""
    return max(1, min(limit, MAX_SEARCH_SIZE, MAX_SCAN_WORK // _layers(model)))


@dataclass(frozen=True)
class Drop:
    """The first layer (in execution order) that drops input rows or columns."""

    size: tuple      # spatial size of the model input ((H, W) in 2-D)
    layer: str
    dropped: tuple   # cells dropped per spatial axis ((rows, columns) in 2-D)
    valid: bool


@dataclass(frozen=True)
class SizeScan:
    model: str
    heights: tuple   # (min, max)
    widths: tuple
    valid: tuple     # spatial sizes ((H, W) pairs in 2-D)
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
    #: spatial axes of the model input (1-D lengths, 2-D squares, 3-D cubes)
    axes: int = 2


def window_drops(layer, in_shape: Shape) -> tuple:
    """Cells of the input, per spatial axis, that no window of ``layer`` reaches (0 for
    layers without windows)."""
    g = layer.geometry(in_shape)
    return g.dropped if g is not None else (0,) * len(in_shape.spatial)


def first_drop(rows: tuple) -> tuple | None:
    """(layer, cells dropped per axis) of the first row whose window drops input, or None."""
    for row in rows:
        if row.layer.arity == 1:
            dropped = window_drops(row.layer, row.in_shape)
            if any(dropped):
                return row.name, dropped
    return None


def is_valid(model: Model, *sizes: int) -> bool:
    """Whether the model propagates on an input of these spatial sizes."""
    try:
        propagate(model, Shape.of(model.input_shape.channels, *sizes))
    except ArchcalcError:
        return False
    return True


def smallest_valid_axis(model: Model, axis: int, limit: int) -> int | None:
    """Smallest valid size along spatial axis ``axis`` (0: the first) up to ``limit`` (cut
    by :func:`search_limit`), the other axes at their declared sizes."""
    declared = list(model.input_shape.spatial)
    for s in range(1, search_limit(model, limit) + 1):
        if is_valid(model, *(declared[:axis] + [s] + declared[axis + 1:])):
            return s
    return None


def _square(model: Model, s: int) -> tuple:
    return (s,) * len(model.input_shape.spatial)


def smallest_valid_square(model: Model, limit: int | None = None) -> int | None:
    """Smallest valid size s of an input s along every axis (a square in 2-D), scanning
    1..limit (default: the declared size's largest side), cut by :func:`search_limit`."""
    for s in range(1, search_limit(model, limit or max(model.input_shape.spatial)) + 1):
        if is_valid(model, *_square(model, s)):
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
    lead = tuple(model.input_shape.spatial[:-2])  # a 3-D input's depth, kept in (H, W) scans
    if widths:
        _check_range("width range", *widths)
        if len(model.input_shape.spatial) < 2:
            raise ArchcalcError(f"--height and --width scan 2-D and 3-D inputs; {model.name}'s "
                                f"input {model.input_shape} has one spatial axis (use --min and --max)")
    count = (heights[1] - heights[0] + 1) * ((widths[1] - widths[0] + 1) if widths else 1)
    if count > MAX_SCAN_PAIRS:
        raise ArchcalcError(f"the scan covers {count:,} sizes; at most {MAX_SCAN_PAIRS:,} "
                            f"(narrow --height or --width)")
    if count * _layers(model) > MAX_SCAN_WORK:
        raise ArchcalcError(f"the scan would try {count:,} sizes on {_layers(model):,} layers; "
                            f"at most {MAX_SCAN_WORK:,} layer evaluations (narrow the range)")
    c = model.input_shape.channels
    if widths is None:
        sizes = [_square(model, s) for s in range(heights[0], heights[1] + 1)]
    else:
        sizes = [lead + (h, w) for h in range(heights[0], heights[1] + 1)
                 for w in range(widths[0], widths[1] + 1)]
    valid, exact, inexact, invalid = [], [], [], []
    limit = None
    pins = declared_features(model)
    for size in sizes:
        if on_size is not None:
            on_size(1, len(sizes))
        rows, error = propagate_partial(model, Shape.of(c, *size), pins)
        if error is None:
            valid.append(size)
        else:
            invalid.append((size, error.render()))
        drop = first_drop(rows)
        if drop is not None:
            inexact.append(Drop(size, drop[0], drop[1], error is None))
        elif error is None:
            exact.append(size)
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
                             if is_valid(model, *_square(model, s))), None)
            if smallest is None and top > reach:
                limit = reach
        smallest = _square(model, smallest) if smallest else None
    else:
        smallest = valid[0] if valid else None
    return SizeScan(model.name, tuple(heights), tuple(widths or heights), tuple(valid),
                    tuple(exact), tuple(inexact), tuple(invalid), smallest, limit,
                    square=widths is None, axes=len(model.input_shape.spatial))


__all__ = ["Drop", "SizeScan", "window_drops", "first_drop", "is_valid", "scan",
           "smallest_valid_axis", "smallest_valid_square"]
