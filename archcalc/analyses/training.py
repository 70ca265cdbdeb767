"""A training step: backward MACs and FLOPs, what autograd keeps, and memory over time.

Which gradients a layer's backward computes follows autograd's ``requires_grad``: the
model input needs none; a tensor needs one when some trainable (not frozen) weight lies
upstream of it; a layer computes the gradient of its inputs when one of them needs it,
and of its weights when it has unfrozen ones.  A layer that needs neither runs no
backward and autograd keeps nothing for it (layers below the first trainable one, frozen
blocks at the bottom).  Each layer type states its backward and what it keeps
(archcalc.core.backward); this module adds them up over the graph:

* per row: the forward's FLOPs in training mode, the backward's MACs and FLOPs (plus the
  additions that sum a tensor's gradient where several layers read it), and the bytes it
  keeps for backward (a tensor kept by several layers counted once, at the first);
* over the step, a timeline of every tensor's lifetime (docs/conventions.md, "Memory of
  a training step"): forward step i is time i, the backward of node i time 2n − 1 − i.
  An output lives from its layer to its last reader, or to the backward of the first
  layer that keeps it; a kept extra (indices, a mask) to its layer's backward; the
  gradient of a tensor from the backward of its last reader to that of its producer, and
  each further gradient a reader sends it at that reader's backward (beside the running
  sum it is added into).  Each time's bytes are a + b·batch (a: what is kept once per batch), so the peak, and
  the largest batch under a budget, are exact for every batch.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from fnmatch import fnmatchcase

from ..core.backward import Needs
from ..core.dtypes import DTYPE_BYTES
from ..core.engine import propagate
from ..core.graph import INPUT, Model
from ..core.shapes import Shape
from ..errors import ArchcalcError


@dataclass(frozen=True)
class TrainingRow:
    """One layer in a training step, for the whole batch."""

    name: str
    type: str
    trainable_params: int
    needs: Needs
    forward_flops: int        # the forward in training mode (batch statistics, masks)
    backward_macs: int
    backward_flops: int
    saved_bytes: int          # kept for the backward, first keeper of a shared tensor

    @property
    def train_flops(self) -> int:
        """The step's FLOPs: the training forward and the backward."""
        return self.forward_flops + self.backward_flops


@dataclass(frozen=True)
class Moment:
    """Memory held at one time of the step: ``per_batch + per_sample · batch`` bytes."""

    time: int
    layer: str
    phase: str      # "forward" or "backward"
    per_batch: int
    per_sample: int

    def at(self, batch: int) -> int:
        return self.per_batch + self.per_sample * batch


@dataclass(frozen=True)
class Training:
    model: str
    input_shape: Shape
    batch: int
    dtype: str
    rows: tuple
    #: activation memory over the training step (forward then backward)
    moments: tuple
    #: the tensors behind ``moments``, for per-device splits
    spans: tuple
    #: activation memory over an inference forward (liveness: freed after the last reader)
    inference: tuple
    #: bytes kept for the backward at ``batch``: (per batch, per sample)
    saved: tuple
    trainable_params: int
    frozen_params: int

    def peak(self, moments: tuple | None = None, batch: int | None = None) -> Moment:
        moments = self.moments if moments is None else moments
        b = self.batch if batch is None else batch
        return max(moments, key=lambda m: m.at(b))

    @property
    def saved_bytes(self) -> int:
        return self.saved[0] + self.saved[1] * self.batch


def _frozen(path: str, patterns: tuple) -> bool:
    return any(fnmatchcase(path, p) for p in patterns)


@dataclass(frozen=True)
class Span:
    """One tensor's bytes over times [start, end] of the step, and the node that makes it
    (-1: the model input)."""

    start: int
    end: int
    per_sample: int = 0
    per_batch: int = 0
    node: int = -1
    #: the nodes that read it (a copy lives wherever they run: archcalc.analyses.devices)
    readers: tuple = ()
    #: a forward "tensor", an "extra" kept for backward, a "gradient", or a "summand": a
    #: further gradient of a tensor, alive at the step that makes it until added in
    kind: str = "tensor"


def sweep(spans, times: int, label) -> tuple:
    """The :class:`Moment` of each time 0 … times − 1 holding every span alive then."""
    per_batch, per_sample = [0] * (times + 1), [0] * (times + 1)
    for s in spans:
        per_sample[s.start] += s.per_sample
        per_sample[s.end + 1] -= s.per_sample
        per_batch[s.start] += s.per_batch
        per_batch[s.end + 1] -= s.per_batch
    out, a, b = [], 0, 0
    for t in range(times):
        a += per_batch[t]
        b += per_sample[t]
        out.append(Moment(t, *label(t), per_batch=a, per_sample=b))
    return tuple(out)


def gradient_sources(node) -> tuple:
    """The tensors ``node``'s backward sends a gradient to: every input, but for the ones
    a layer reads for their size only (crop's ``like``: :attr:`Layer.gradient_inputs`)."""
    flows = node.layer.gradient_inputs
    if flows is None:
        return node.inputs
    return tuple(node.inputs[j] for j in flows)


def gradient_needs(model: Model, rows: tuple, freeze: tuple = (), input_grad: bool = False) -> tuple:
    """(the :class:`Needs` of each node, requires_grad of each tensor by name), in forward
    order, as autograd decides them: the model input needs no gradient (unless
    ``input_grad``); a node computes its inputs' gradient when one of the tensors its
    gradient reaches needs one, and its weights' when it has weights not matched by a
    ``freeze`` pattern; its output needs a gradient when it computes either.  A node whose
    output no gradient reaches — read only for its size (crop's ``like``) on every path to
    the model's outputs — runs no backward."""
    reached = set(model.outputs)
    for node in reversed(model.nodes):
        if node.path in reached:
            reached.update(gradient_sources(node))
    grad = {INPUT: input_grad}
    needs = []
    for node, row in zip(model.nodes, rows):
        trainable = row.counts.params > 0 and not _frozen(node.path, freeze)
        need = Needs(input=any(grad[t] for t in gradient_sources(node)), weights=trainable)
        if node.path not in reached:
            need = Needs(input=False, weights=False)
        grad[node.path] = need.any
        needs.append(need)
    return tuple(needs), grad


@dataclass(frozen=True)
class _Step:
    """What the pieces of :func:`analyse_training` share: the graph, its rows, each node's
    gradients, the storage each tensor lives in, and the element size."""

    model: Model
    rows: tuple
    needs: tuple
    grad: dict
    owner: dict      # tensor name → the storage it lives in (a view shares its input's)
    elements: dict   # storage → elements per sample
    size: int

    @property
    def n(self) -> int:
        return len(self.model.nodes)

    def backward_time(self, i: int) -> int:
        return 2 * self.n - 1 - i

    def numel(self, i: int) -> int:
        return self.rows[i].counts.out_shape.numel


def _storages(model: Model, rows: tuple, input_shape: Shape | None) -> tuple:
    """(tensor → storage, storage → elements): a view (flatten, identity, crop; dropout
    only at inference) shares its input's storage."""
    owner = {INPUT: INPUT}
    elements = {INPUT: (input_shape or model.input_shape).numel}
    for node, row in zip(model.nodes, rows):
        view = node.layer.train_is_view
        view = node.layer.is_view if view is None else view
        owner[node.path] = owner[node.inputs[0]] if view else node.path
        elements.setdefault(owner[node.path], row.counts.out_shape.numel)
    return owner, elements


def _kept(step: _Step) -> tuple:
    """(storage → the backward time of its last keeper, storage → its first keeper,
    the extras: (node, per-sample elements, itemsize, once per batch))."""
    keep_until, first_keeper, extras = {}, {}, []
    for i, (node, row, need) in enumerate(zip(step.model.nodes, step.rows, step.needs)):
        if not need.any:
            continue
        layer = node.layer
        saved = layer.saved(layer.take(row.in_shapes), row.counts.out_shape, need)
        kept = [node.inputs[j] for j in saved.inputs] + ([node.path] if saved.output else [])
        for name in kept:
            storage = step.owner[name]
            keep_until[storage] = max(keep_until.get(storage, -1), step.backward_time(i))
            first_keeper.setdefault(storage, i)
        for extra in saved.extras:
            extras.append((i, extra.elements, extra.itemsize or step.size, extra.per_batch))
    return keep_until, first_keeper, extras


def _tensor_spans(step: _Step, keep_until: dict) -> tuple:
    """(inference spans, training spans) of every storage: made by its first node, alive
    to its last reader (outputs to the end of the forward, the loss reads them; the input
    throughout, its caller holds it), in training to its last keeper's backward."""
    model, n = step.model, step.n
    keep_until = dict(keep_until, **{INPUT: 2 * n - 1})
    made = {INPUT: 0}
    for i, node in enumerate(model.nodes):
        made.setdefault(step.owner[node.path], i)
    ends, reading = {}, {}
    for name, use in model.last_use.items():
        storage = step.owner[name]
        ends[storage] = max(ends.get(storage, -1), min(use, n - 1))
    for i, node in enumerate(model.nodes):
        for name in node.inputs:
            reading.setdefault(step.owner[name], set()).add(i)
    inference, steps = [], []
    for storage, start in made.items():
        per = step.elements[storage] * step.size
        maker = model.index.get(storage, -1)
        end = n - 1 if storage == INPUT else ends.get(storage, start)
        inference.append(Span(start, end, per_sample=per, node=maker))
        steps.append(Span(start, max(end, keep_until.get(storage, -1)), per_sample=per, node=maker,
                          readers=tuple(sorted(reading.get(storage, ())))))
    return inference, steps


def _gradient_spans(step: _Step) -> tuple:
    """(the spans of every tensor's gradient, the additions summing each node's output
    gradient).

    A gradient lives from the backward of its tensor's last reader that needs it to the
    backward of its producer; a tensor read by k such layers sums k gradients.  A view's
    gradient is its input's (the same storage), which then starts at the view's readers,
    unless the view narrows (slice, crop: ``gradient_is_view`` False): its backward makes
    its input's gradient anew, and its own output has a gradient of its own.
    A layer that hands one gradient to all its inputs (an add) makes them share it: a
    tensor whose first gradient is such a shared one has none of its own until a second
    is summed into it (into that second one, the first being shared: autograd's
    InputBuffer::accumulate), else until its producer's backward consumes it."""
    model, nodes, n, size = step.model, step.model.nodes, step.n, step.size
    readers: dict = {}
    for i, (node, need) in enumerate(zip(nodes, step.needs)):
        if need.input:
            for name in set(gradient_sources(node)):
                if step.grad[name]:
                    readers.setdefault(name, []).append(i)
    is_view = {node.path: step.owner[node.path] != node.path and node.layer.gradient_is_view
               for node in nodes}
    start = {name: n for name in model.outputs if step.grad.get(name)}  # the loss's gradient
    spans, fan_in_sums = [], [0] * n
    own_span: dict = {}   # node → the index in ``spans`` of its output gradient's own span
    shared_until: dict = {}  # a node sharing one gradient over its inputs → its last use
    for p in reversed(range(n)):
        name = nodes[p].path
        who = readers.get(name, [])
        times = [start[nodes[r].path] if is_view[nodes[r].path] else step.backward_time(r)
                 for r in who]
        if name in start:
            times.append(start[name])
        if not times:
            continue
        start[name] = min(times)
        per = step.numel(p) * size
        fan_in_sums[p] += (len(times) - 1) * step.numel(p)
        # the readers' gradients in the order they arrive (the loss's, made for an output,
        # counted as its producer's)
        arrivals = sorted(zip(times, who + [p] * (len(times) - len(who))))
        first = arrivals[0][1]
        shared = first != p and nodes[first].layer.shares_gradient and not is_view[name]
        if shared:
            own = arrivals[1][0] if len(arrivals) > 1 else None
            shared_until[first] = max(shared_until.get(first, -1),
                                      step.backward_time(p) if own is None else own)
            if own is not None:
                spans.append(Span(own, step.backward_time(p), per_sample=per, node=p,
                                  readers=tuple(sorted(set(who))), kind="gradient"))
        elif not is_view[name]:
            own_span[p] = len(spans)
            spans.append(Span(start[name], step.backward_time(p), per_sample=per, node=p,
                              readers=tuple(sorted(set(who))), kind="gradient"))
        # every gradient after the first exists beside the running sum at the step of the
        # reader that makes it, until it is added in (autograd's InputBuffer::add); the
        # first summed into a shared gradient becomes the tensor's own (counted above)
        for when, maker in arrivals[2 if shared else 1:]:
            spans.append(Span(when, when, per_sample=per, node=maker, kind="summand"))
    # the one gradient a sharing node hands its inputs: its output's own (continued) when
    # it passes that on, else the new tensor it makes (a folded activation's derivative)
    for r, until in shared_until.items():
        passes_on = getattr(nodes[r].layer, "activation", None) is None and r in own_span
        if passes_on and spans[own_span[r]].end < until:
            spans[own_span[r]] = replace(spans[own_span[r]], end=until)
        elif not passes_on:
            spans.append(Span(step.backward_time(r), until, node=r, kind="gradient",
                              per_sample=step.numel(r) * size))
    return spans, fan_in_sums


def analyse_training(model: Model, input_shape: Shape | None = None, batch: int = 1,
                     dtype: str | None = None, freeze: tuple = ()) -> Training:
    """The training step of ``model`` at ``batch`` (``freeze``: fnmatch patterns of layer
    paths whose weights are not trained)."""
    dtype = dtype or model.dtype
    if dtype not in DTYPE_BYTES:
        raise ArchcalcError(f"unknown dtype '{dtype}'; choose from {', '.join(DTYPE_BYTES)}")
    rows = propagate(model, input_shape)
    nodes, n = model.nodes, len(model.nodes)
    unmatched = [p for p in freeze if not any(fnmatchcase(node.path, p) for node in nodes)]
    if unmatched:
        raise ArchcalcError(f"--freeze '{unmatched[0]}' matches no layer of {model.name}",
                            file=model.file)
    needs, grad = gradient_needs(model, rows, freeze)
    owner, elements = _storages(model, rows, input_shape)
    step = _Step(model, rows, needs, grad, owner, elements, DTYPE_BYTES[dtype])

    keep_until, first_keeper, extras = _kept(step)
    inference, steps = _tensor_spans(step, keep_until)
    saved_rows = [0] * n
    saved_sample = saved_batch = 0
    for storage, i in first_keeper.items():
        saved_rows[i] += elements[storage] * step.size * batch
        saved_sample += elements[storage] * step.size
    for i, count, itemsize, once in extras:
        amount = {"per_batch": count * itemsize} if once else {"per_sample": count * itemsize}
        steps.append(Span(i, step.backward_time(i), node=i, kind="extra", **amount))
        saved_rows[i] += count * itemsize * (1 if once else batch)
        if once:
            saved_batch += count * itemsize
        else:
            saved_sample += count * itemsize
    gradients, fan_in_sums = _gradient_spans(step)
    steps += gradients

    out_rows = []
    for i, (node, row, need) in enumerate(zip(nodes, rows, needs)):
        layer = node.layer
        x, y = layer.take(row.in_shapes), row.counts.out_shape
        bw = layer.backward(x, y, need) if need.any else None
        macs = bw.macs if bw else 0
        flops = (bw.flops if bw else 0) + fan_in_sums[i]
        forward = 2 * row.counts.macs + layer.train_work(x, y).total
        out_rows.append(TrainingRow(node.path, row.type,
                                    row.counts.params if need.weights else 0, need,
                                    batch * forward, batch * macs, batch * flops, saved_rows[i]))

    def label(t: int) -> tuple:
        return (nodes[t].path, "forward") if t < n else (nodes[2 * n - 1 - t].path, "backward")

    trainable = sum(r.trainable_params for r in out_rows)
    total = sum(r.counts.params for r in rows)
    return Training(model.name, input_shape or model.input_shape, batch, dtype, tuple(out_rows),
                    sweep(steps, 2 * n, label), tuple(steps),
                    sweep(inference, n, lambda t: (nodes[t].path, "forward")),
                    (saved_batch, saved_sample), trainable, total - trainable)


def with_training(report, training: Training, optimizer_name: str):
    """``report`` carrying the training step's rows (``table --train``)."""
    from dataclasses import replace

    from .memory import optimizer

    opt = optimizer(optimizer_name)
    return replace(report, training=training.rows, optimizer=opt.name,
                   optimizer_flops=training.trainable_params * opt.update_flops)
