"""Elementwise work split by kind of operation (Netscope-style).

archcalc's FLOPs (docs/conventions.md) are 2 × MACs + elementwise work.  Each layer type
says what its elementwise work consists of in its ``work()`` method (archcalc/layers), and
its FLOPs are derived from that one definition:

    flops = 2·macs + comparisons + additions + multiplications + divisions + exponentials

``multiplications`` are the products outside MACs (batch-norm's scale, LRN's squares and
scale, a merge's products).  An elementwise function evaluation (tanh, sigmoid, softmax's
exp, LRN's power) is one ``exponentials``.  Subtractions count as additions.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

WORK_FIELDS = ("comparisons", "additions", "multiplications", "divisions", "exponentials")


@dataclass(frozen=True)
class Work:
    """Counts of elementwise operations, per sample or per batch (ints or sympy sizes)."""

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


def row_work(row) -> Work:
    """Per-sample split of one engine row or per-sample report row."""
    return row.layer.work(row.layer.take(row.in_shapes), row.out_shape)


def report_work(report) -> tuple:
    """One per-batch :class:`Work` per row of ``report`` (a convention may supply its own)."""
    own = getattr(report, "work", None)
    if own is not None:
        return own
    return tuple(row_work(r) * report.batch for r in report.layers)
