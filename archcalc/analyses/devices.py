"""Splitting a model into pipeline stages over several devices.

The layers, in the graph's order, are cut into ``devices`` contiguous stages so that the
largest stage is as small as it can be (the linear-partition problem, solved exactly: a
binary search on the largest stage's cost, each candidate checked greedily), by memory
(each layer's weights, gradients and optimizer state plus what it keeps for backward) or
by compute (its training FLOPs).  A device holds its stages' tensors and a copy of every
tensor it reads from another device; ``sends_bytes`` is what it sends forward across
cuts (the gradients come back the same size).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..core.dtypes import DTYPE_BYTES
from ..errors import ArchcalcError
from .memory import HALF, Optimizer
from .training import Training, sweep

#: most devices a split may ask for
MAX_DEVICES = 1024


@dataclass(frozen=True)
class Device:
    index: int
    layers: tuple          # paths of its layers, in order
    params_bytes: int      # weights, master copy, gradients and optimizer state
    peak_bytes: int        # those plus its activation memory at its peak
    sends_bytes: int       # activations it sends to later devices, per step


def layer_static_bytes(t: Training, opt: Optimizer, params: int, trained: bool) -> int:
    size = DTYPE_BYTES[t.dtype]
    if not trained:
        return params * size
    state = 4 if t.dtype in HALF else size
    return params * (size + (4 if t.dtype in HALF else 0) + size + opt.slots * state)


def partition(costs: list, parts: int) -> list:
    """Start index of each of ``parts`` contiguous groups minimising the largest sum."""
    def groups_needed(limit: int) -> int:
        count, total = 1, 0
        for c in costs:
            if total + c > limit:
                count, total = count + 1, 0
            total += c
        return count

    lo, hi = max(costs), max(sum(costs), 1)
    while lo < hi:
        mid = (lo + hi) // 2
        if groups_needed(mid) <= parts:
            hi = mid
        else:
            lo = mid + 1
    starts, total = [0], 0
    for i, c in enumerate(costs):
        # cut when the limit is reached, or when the remaining layers are just enough
        # to give every remaining group one
        if i and (total + c > lo or len(costs) - i == parts - len(starts)):
            if len(starts) < parts:
                starts.append(i)
                total = 0
        total += c
    return starts


def split(t: Training, params: tuple, opt: Optimizer, devices: int, by: str = "memory") -> tuple:
    """The pipeline stages of the model analysed in ``t`` (``params``: each node's params)."""
    rows = t.rows
    n = len(rows)
    if not 1 <= devices <= min(n, MAX_DEVICES):
        raise ArchcalcError(f"--devices must be 1 to {min(n, MAX_DEVICES):,} (one layer at least "
                            f"per device; {t.model} has {n:,} layers), got {devices}")
    static = [layer_static_bytes(t, opt, p, r.needs.weights) for p, r in zip(params, rows)]
    if by == "memory":
        costs = [s + r.saved_bytes for s, r in zip(static, rows)]
    elif by == "compute":
        costs = [r.forward_flops + r.backward_flops for r in rows]
    else:
        raise ArchcalcError(f"--balance must be memory or compute, got '{by}'")
    starts = partition(costs, devices) + [n]
    where = {}
    for d in range(devices):
        for i in range(starts[d], starts[d + 1]):
            where[i] = d
    where[-1] = 0  # the model input arrives on the first device
    spans = {d: [] for d in range(devices)}
    sends = [0] * devices
    for s in t.spans:
        home = where[s.node]
        spans[home].append(s)
        others = sorted({where[r] for r in s.readers if r < n} - {home})
        for d in others:
            # a received copy (forward) or a gradient made there and sent back
            spans[d].append(s if s.kind == "tensor" else replace(s, end=s.start))
        if s.kind == "tensor":
            sends[home] += len(others) * s.per_sample * t.batch
    out = []
    for d in range(devices):
        idx = range(starts[d], starts[d + 1])
        held = sum(static[i] for i in idx)
        moments = sweep(spans[d], 2 * n, lambda time: ("", ""))
        peak = max((m.at(t.batch) for m in moments), default=0)
        out.append(Device(d, tuple(rows[i].name for i in idx), held, held + peak, sends[d]))
    return tuple(out)


def reads_across(layer, devices: int) -> bool:
    """Whether a layer split by output channels over ``devices`` towers needs every
    tower's part of its input: a convolution unless its groups keep each tower's maps
    apart (AlexNet's groups=2), a dense or RBF layer, a softmax over all classes."""
    kind = layer.type_name
    if kind == "conv":
        return layer.connection_table is not None or layer.groups % devices != 0
    return kind in ("dense", "rbf", "softmax")


def towers(t: Training, model, rows: tuple, opt: Optimizer, devices: int) -> tuple:
    """Krizhevsky's split (AlexNet, 2012, section 3.2): every layer's filters, units and
    maps divided evenly over ``devices`` towers, the input image on each; a layer that
    reads across towers (``reads_across``) receives the other towers' part of its input
    (kept as long as the input is) and, in its backward, makes the whole input's gradient
    and sends the other parts back.  ``rows``: the engine's rows of the model."""
    n = len(t.rows)
    if not 1 <= devices <= MAX_DEVICES:
        raise ArchcalcError(f"--devices must be 1 to {MAX_DEVICES:,}, got {devices}")
    static = [layer_static_bytes(t, opt, r.counts.params, tr.needs.weights)
              for r, tr in zip(rows, t.rows)]
    for node, row in zip(model.nodes, rows):
        if row.counts.params % devices or row.counts.out_shape.dims[0] % devices:
            raise ArchcalcError(f"does not split evenly into {devices} towers: "
                                f"{row.counts.out_shape.dims[0]:,} maps or units, "
                                f"{row.counts.params:,} weights", file=model.file,
                                line=node.line, layer=node.path)
    spans, sends, others = [], 0, devices - 1
    for s in t.spans:
        if s.node == -1 and s.kind == "tensor":
            spans.append(s)  # the image: on every tower
            continue
        share = replace(s, per_sample=s.per_sample // devices, per_batch=s.per_batch // devices)
        spans.append(share)
        crossing = any(r < n and reads_across(model.nodes[r].layer, devices) for r in s.readers)
        if s.node == -1 or not crossing:
            continue
        if s.kind == "tensor":  # the other towers' parts, received and kept as the input is
            spans.append(replace(share, per_sample=share.per_sample * others, per_batch=0))
            sends += share.per_sample * others * t.batch
        elif s.kind == "gradient":  # the whole input's gradient, made then sent back
            spans.append(replace(share, per_sample=share.per_sample * others, per_batch=0,
                                 end=share.start))
    moments = sweep(spans, 2 * n, lambda time: ("", ""))
    peak = max(m.at(t.batch) for m in moments)
    held = sum(static) // devices
    layers = tuple(r.name for r in t.rows)
    return tuple(Device(d, layers, held, held + peak, sends) for d in range(devices))
