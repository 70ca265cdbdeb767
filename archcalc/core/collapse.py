"""Rows for block instances: a report collapsed to a depth of the path hierarchy.

A node's path is its place in the spec, ``/``-joined: a block use adds a level
(``layer1``), a repeated block one more per repetition (``layer1/0``), a side branch one
(``aux1``); the layers of a list, a branch or a residual body sit at the level of the
item that holds them (``layer1/0/conv1`` beside ``layer1/0/add``).  The *depth* of a
path is its number of parts (``layer1/0/conv1``: 3).  At depth N every node is counted in
the row of its path cut to its first N parts: a node no deeper than N keeps its own row,
and each deeper one joins the row of the block instance (the prefix) that holds it.  At
depth 1, ResNet-50 is conv1, bn1, relu, maxpool (the stem), layer1…layer4 (the stages),
avgpool and fc (the head).

A block row is the exact sum of the rows it holds: params, connections, MACs, FLOPs,
activations and their bytes, and the operation split; its input is its first node's and
its output the last node's (in execution order).  Rows keep the order of the first node
each one holds, so totals are unchanged: they are sums of rows.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..errors import ArchcalcError
from .report import COUNT_FIELDS, LayerReport, Report

#: The type shown for a row that sums a block instance.
BLOCK_TYPE = "block"


@dataclass(frozen=True)
class BlockReport(LayerReport):
    """A row of a collapsed report: one node (``nodes`` = 1) or the sum of a block
    instance's nodes (``type`` "block", ``layer`` None)."""

    #: how many nodes (layers, merges) the row sums
    nodes: int = 1


def path_depth(path: str) -> int:
    """Parts of a ``/``-joined path: ``layer1/0/conv1`` → 3."""
    return path.count("/") + 1


def max_depth(report: Report) -> int:
    """The deepest path of the report (1 for a model without blocks)."""
    return max((path_depth(r.name) for r in report.layers), default=1)


def groups(names, depth: int) -> list[tuple[str, bool, list[int]]]:
    """(row name, is a block, indices of the rows it holds) per row at ``depth``, in the
    order of each group's first row.  A layer named like a block instance (``x`` beside
    ``x/conv``) keeps a row of its own."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ArchcalcError(f"depth must be a positive integer (1: top-level items), got {depth!r}")
    found: dict[tuple[str, bool], list[int]] = {}
    for i, name in enumerate(names):
        parts = name.split("/")
        block = len(parts) > depth
        found.setdefault(("/".join(parts[:depth]), block), []).append(i)
    return [(name, block, rows) for (name, block), rows in found.items()]


def collapse(report: Report, depth: int) -> Report:
    """``report`` with one :class:`BlockReport` per path prefix of ``depth`` parts."""
    from .work import Work, report_work

    work = report_work(report)
    rows, works = [], []
    for name, block, members in groups([r.name for r in report.layers], depth):
        held = [report.layers[i] for i in members]
        first, last = held[0], held[-1]
        if not block:  # one node: its own row, unchanged (a layer named like a block
            row = held[0]  # instance keeps its row even with the block's beside it)
            rows.append(BlockReport(**{f: getattr(row, f) for f in _FIELDS}, nodes=1))
            works.append(work[members[0]])
            continue
        sums = {f: sum(getattr(r, f) for r in held) for f in COUNT_FIELDS}
        rows.append(BlockReport(name=name, type=BLOCK_TYPE, in_shape=first.in_shape,
                                out_shape=last.out_shape, **sums, layer=None,
                                in_shapes=(first.in_shape,), nodes=len(held)))
        total = Work()
        for i in members:
            total = total + work[i]
        works.append(total)
    training = getattr(report, "training", None)
    if training is not None:  # table --train: the step's rows summed the same way
        training = tuple(_sum_rows([training[i] for i in members], name if block else None)
                         for name, block, members in groups([r.name for r in report.layers], depth))
    return replace(report, layers=tuple(rows), work=tuple(works), training=training)


def _sum_rows(held: list, block: str | None):
    """One row of a per-layer dataclass (the training step's) for the rows ``held``: its
    integer fields summed, the others the first row's; named ``block`` when it sums one."""
    from dataclasses import fields

    first = held[0]
    if block is None:
        return first
    sums = {}
    for f in fields(first):
        values = [getattr(r, f.name) for r in held]
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            sums[f.name] = sum(values)
    extra = {k: v for k, v in (("name", block), ("type", BLOCK_TYPE))
             if k in {f.name for f in fields(first)}}
    return replace(first, **sums, **extra)


_FIELDS = ("name", "type", "in_shape", "out_shape", *COUNT_FIELDS, "layer", "in_shapes")
