"""Rewrites of an :class:`~archcalc.io.opgraph.OpGraph` that recognise layers exporters
write as several operators, before the lowering maps one op at a time:

=========================================  ==============================================
operators                                  become
=========================================  ==============================================
Mul(x, Sigmoid(x))                         Silu (PyTorch's SiLU, EfficientNet's swish)
Mul(x, HardSigmoid(x; α = 1/6, β = ½))     HardSwish
Mul(x, Tanh(Softplus(x)))                  Mish
x · ½ · (1 + Erf(x / √2)), any order       Gelu (erf form; PyTorch before opset 20)
MatMul(x, W) [+ b], W and b constants      Linear (nn.Linear on any rank)
=========================================  ==============================================

A match needs every inner value to have exactly one reader, so nothing that another op
still reads is folded away.
"""
from __future__ import annotations

import math
from dataclasses import replace

from .opgraph import Op, OpGraph


class _Index:
    def __init__(self, graph: OpGraph):
        self.graph = graph
        self.producer = {out: op for op in graph.ops for out in op.outputs if out}
        self.readers: dict[str, list] = {}
        for op in graph.ops:
            for name in op.inputs:
                if name:
                    self.readers.setdefault(name, []).append(op)
        for name in graph.outputs:
            self.readers.setdefault(name, []).append(None)

    def made_by(self, name: str, kind: str) -> Op | None:
        op = self.producer.get(name)
        return op if op is not None and op.op == kind else None

    def only_reader(self, name: str, op: Op) -> bool:
        readers = self.readers.get(name, [])
        return len(readers) == 1 and readers[0] is op

    def const(self, name: str):
        """The scalar value of a small constant input, or None."""
        c = self.graph.consts.get(name)
        if c is None or c.value is None or c.value.size != 1:
            return None
        return float(c.value.reshape(()))


def _rewrite(graph: OpGraph, matcher) -> OpGraph:
    """Run ``matcher(index, op)`` on every op; a match returns (ops it replaces, new op),
    the new op taking the place of the op that made the matched output."""
    index = _Index(graph)
    gone, placed = set(), {}
    for op in graph.ops:
        if id(op) in gone:
            continue
        found = matcher(index, op)
        if found is None:
            continue
        matched, new = found
        if any(id(m) in gone for m in matched):
            continue
        gone.update(id(m) for m in matched)
        placed[id(op)] = replace(new, row=any(m.row for m in matched),
                                      folded=any(m.folded for m in matched))
    if not placed:
        return graph
    ops = [placed.get(id(op), op) for op in graph.ops if id(op) not in gone or id(op) in placed]
    return replace(graph, ops=ops)


def _other(op: Op, name: str) -> str | None:
    """The other input of a binary op one of whose inputs is ``name``."""
    a, b = (op.inputs + ("", ""))[:2]
    return b if a == name else a if b == name else None


def _gate(kind: str, test=lambda op: True):
    """Mul(x, KIND(x)) → the fused activation (on the Mul)."""
    def match(index: _Index, op: Op):
        if op.op != "Mul" or len(op.inputs) != 2:
            return None
        for gate_value in op.inputs:
            gate = index.producer.get(gate_value)
            if gate is None or not test(gate) or not gate.inputs:
                continue
            x = gate.inputs[0]
            if _other(op, gate_value) == x and index.only_reader(gate_value, op):
                return [gate, op], Op(kind, op.name, (x,), op.outputs)
        return None
    return match


def _sigmoid(op: Op) -> bool:
    return op.op == "Sigmoid"


def _hardsigmoid(op: Op) -> bool:
    return (op.op == "HardSigmoid" and math.isclose(op.attrs.get("alpha", 0.2), 1 / 6, rel_tol=1e-5)
            and math.isclose(op.attrs.get("beta", 0.5), 0.5, rel_tol=1e-6))


def _mish(index: _Index, op: Op):
    """Mul(x, Tanh(Softplus(x)))."""
    if op.op != "Mul" or len(op.inputs) != 2:
        return None
    for t_value in op.inputs:
        tanh = index.made_by(t_value, "Tanh")
        if tanh is None or not index.only_reader(t_value, op):
            continue
        soft = index.made_by(tanh.inputs[0], "Softplus")
        if soft is None or not index.only_reader(tanh.inputs[0], tanh):
            continue
        if _other(op, t_value) == soft.inputs[0]:
            return [soft, tanh, op], Op("Mish", op.name, (soft.inputs[0],), op.outputs)
    return None


def _gelu(index: _Index, op: Op):
    """½ · x · (1 + erf(x / √2)) as PyTorch exports GELU before opset 20: Div(x, √2) (or
    Mul(x, 1/√2)) → Erf → Add 1 → then Muls by x and by ½ in any order (the ½ possibly
    applied to x first).  Matched on the Erf; the new op replaces the last Mul."""
    if op.op not in ("Div", "Mul") or len(op.inputs) != 2:
        return None
    x, c = op.inputs
    scale = index.const(c)
    if scale is None:
        return None
    if not math.isclose(scale, math.sqrt(2) if op.op == "Div" else math.sqrt(0.5), rel_tol=1e-4):
        return None
    erf = _single(index, op.outputs[0], "Erf")
    add = erf and _single(index, erf.outputs[0], "Add")
    if add is None or index.const(_other(add, erf.outputs[0]) or "") != 1.0:
        return None
    matched, value = [op, erf, add], add.outputs[0]
    need_x, need_half = True, True
    while need_x or need_half:
        mul = _single(index, value, "Mul")
        if mul is None:
            return None
        other = _other(mul, value)
        if need_x and other == x:
            need_x = False
        elif need_half and index.const(other) == 0.5:
            need_half = False
        else:
            # x · ½ computed first: Mul(x, 0.5) read only by this Mul
            half = index.made_by(other, "Mul")
            if not (need_x and need_half and half is not None and index.only_reader(other, mul)
                    and _other(half, x) is not None and index.const(_other(half, x)) == 0.5):
                return None
            matched.append(half)
            need_x = need_half = False
        matched.append(mul)
        value = mul.outputs[0]
    return matched, Op("Gelu", matched[-1].name, (x,), (value,), {"approximate": "none"})


def _single(index: _Index, value: str, kind: str) -> Op | None:
    """The one op reading ``value``, when it is a ``kind``."""
    readers = index.readers.get(value, [])
    if len(readers) == 1 and readers[0] is not None and readers[0].op == kind:
        return readers[0]
    return None


def _gelu_rewrite(graph: OpGraph) -> OpGraph:
    """The Gelu match starts at the Div, but the new op must sit at the last Mul."""
    index = _Index(graph)
    gone, placed = set(), {}
    for op in graph.ops:
        if id(op) in gone:
            continue
        found = _gelu(index, op)
        if found is None:
            continue
        matched, new = found
        gone.update(id(m) for m in matched)
        placed[id(matched[-1])] = replace(new, row=any(m.row for m in matched),
                                      folded=any(m.folded for m in matched))
    if not placed:
        return graph
    ops = [placed.get(id(op), op) for op in graph.ops if id(op) not in gone or id(op) in placed]
    return replace(graph, ops=ops)


def _linear(index: _Index, op: Op):
    """MatMul(x, W) with W a constant (in, out), and an Add of a constant bias (out,)
    when that is the MatMul's one reader: PyTorch's nn.Linear on a tensor of rank > 2."""
    if op.op != "MatMul" or len(op.inputs) != 2 or op.inputs[1] not in index.graph.consts:
        return None
    if op.inputs[0] in index.graph.consts:
        return None
    add = _single(index, op.outputs[0], "Add")
    if add is not None:
        bias = _other(add, op.outputs[0])
        c = index.graph.consts.get(bias)
        w = index.graph.consts[op.inputs[1]]
        if c is not None and len(w.shape) == 2 and tuple(c.shape) in ((w.shape[1],), (1, w.shape[1])):
            return None  # matched from the Add, below
    return [op], Op("Linear", op.name, op.inputs, op.outputs, {"transposed": False})


def _linear_bias(index: _Index, op: Op):
    if op.op != "Add" or len(op.inputs) != 2:
        return None
    for value in op.inputs:
        mm = index.made_by(value, "MatMul")
        bias = _other(op, value)
        if mm is None or not index.only_reader(value, op) or bias not in index.graph.consts:
            continue
        w = index.graph.consts.get(mm.inputs[1])
        if w is None or mm.inputs[0] in index.graph.consts or len(w.shape) != 2:
            continue
        if tuple(index.graph.consts[bias].shape) in ((w.shape[1],), (1, w.shape[1])):
            return [mm, op], Op("Linear", mm.name, (mm.inputs[0], mm.inputs[1], bias),
                                op.outputs, {"transposed": False})
    return None


def recognise(graph: OpGraph) -> OpGraph:
    """Every rewrite above, in an order where none hides another's match."""
    graph = _gelu_rewrite(graph)
    for matcher in (_gate("Silu", _sigmoid), _gate("HardSwish", _hardsigmoid), _mish,
                    _linear_bias, _linear):
        graph = _rewrite(graph, matcher)
    return graph


__all__ = ["recognise"]
