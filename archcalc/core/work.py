"""The elementwise work of each layer type, split by kind of operation (Netscope-style).

archcalc's FLOPs (docs/conventions.md) are 2 × MACs + elementwise work; this module says,
in one table, what that elementwise work consists of, per output (or per weight):

    flops = 2·macs + comparisons + additions + multiplications + divisions + exponentials

so the split always adds up to the FLOPs column (tests/test_work.py checks every layer
type).  ``multiplications`` are the products outside MACs (batch-norm's scale, LRN's
squares and scale).  An elementwise function evaluation (tanh, sigmoid, softmax's exp,
LRN's power) is one ``exponentials``.  Subtractions count as additions.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from ..errors import ArchcalcError

WORK_FIELDS = ("comparisons", "additions", "multiplications", "divisions", "exponentials")


@dataclass(frozen=True)
class Work:
    """Counts of elementwise operations, per sample or per batch."""

    comparisons: int = 0
    additions: int = 0
    multiplications: int = 0
    divisions: int = 0
    exponentials: int = 0

    def __add__(self, other: "Work") -> "Work":
        return Work(*(getattr(self, f) + getattr(other, f) for f in WORK_FIELDS))

    def __mul__(self, n: int) -> "Work":
        return Work(*(getattr(self, f) * n for f in WORK_FIELDS))

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))


def activation_work(act: str | None, n) -> Work:
    """An activation function over ``n`` elements: relu compares once, relu6 twice (both
    ends), tanh and sigmoid evaluate one exponential, softmax an exp, an add and a divide."""
    if act is None:
        return Work()
    per = {"relu": Work(comparisons=1), "relu6": Work(comparisons=2),
           "tanh": Work(exponentials=1), "sigmoid": Work(exponentials=1),
           "softmax": Work(additions=1, divisions=1, exponentials=1)}[act]
    return per * n


def _bias(layer, n) -> Work:
    return Work(additions=n if getattr(layer, "bias", True) else 0)


def _conv(layer, x, y):
    return _bias(layer, y.numel) + activation_work(layer.activation, y.numel)


def _rbf(layer, x, y):
    return Work(additions=layer.params(x))  # (x_i − w_ij): one subtraction per weight


def _maxpool(layer, x, y):
    return Work(comparisons=(layer.taps - 1) * y.numel)


def _avgpool(layer, x, y):
    return Work(additions=(layer.taps - 1) * y.numel, divisions=y.numel)


def _gap(layer, x, y):
    return Work(additions=x.numel - x.channels, divisions=x.channels)


def _adaptive(layer, x, y):
    taps = layer.connections(x, y)  # the exact total of the window sizes
    return Work(additions=taps - y.numel, divisions=y.numel)


def _lrn(layer, x, y):
    # per output: a square per tap, (taps − 1) adds for the sum + 1 for the offset k,
    # the α/n scale, the power β and the divide: 2·taps + 3 in all
    taps = layer.connections(x, y)
    return Work(multiplications=taps + y.numel, additions=taps, divisions=y.numel,
                exponentials=y.numel)


def _batchnorm(layer, x, y):
    return Work(multiplications=y.numel, additions=y.numel)  # folded scale and shift


def _elementwise(layer, x, y):
    return activation_work(layer.type_name, y.numel)


def _nothing(layer, x, y):
    return Work()


#: layer type → its split, per sample (the one place that defines it)
SPLITS = {
    "conv": _conv, "dense": _conv, "subsample": _conv, "rbf": _rbf,
    "maxpool": _maxpool, "avgpool": _avgpool, "gap": _gap, "adaptive_avgpool": _adaptive,
    "lrn": _lrn, "batchnorm": _batchnorm,
    "relu": _elementwise, "relu6": _elementwise, "tanh": _elementwise,
    "sigmoid": _elementwise, "softmax": _elementwise,
    "dropout": _nothing, "flatten": _nothing,
}


def row_work(row) -> Work:
    """Per-sample split of one engine row or per-sample report row (layer, in_shape,
    out_shape, type).  Concat rows do no work; a residual add adds once per element,
    plus its folded activation."""
    layer = row.layer
    if layer is None:
        if row.type == "concat":
            return Work()
        act = row.type.partition("+")[2] or None
        return Work(additions=row.out_shape.numel) + activation_work(act, row.out_shape.numel)
    try:
        split = SPLITS[layer.type_name]
    except KeyError:
        raise ArchcalcError(f"layer '{row.name}': no operation split is defined for layer "
                            f"type '{layer.type_name}' (archcalc/work.py)") from None
    return split(layer, row.in_shape, row.out_shape)


def report_work(report) -> tuple:
    """One per-batch :class:`Work` per row of ``report`` (a convention may supply its own)."""
    own = getattr(report, "work", None)
    if own is not None:
        return own
    return tuple(row_work(r) * report.batch for r in report.layers)
