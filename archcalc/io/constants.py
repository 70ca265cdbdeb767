"""Evaluating the constant parts of a graph: the shape arithmetic exporters write
(Shape → Gather → Unsqueeze → Concat → Reshape for ``x.view(x.size(0), -1)``), clip
bounds, scales.  Only small integer and float vectors are computed, in NumPy; a weight's
values are never read (an Identity or Transpose of a weight keeps only its shape).
"""
from __future__ import annotations

import math

from .opgraph import MAX_CONST_VALUES, Const, Op

_INT_OPS = {"Add": "add", "Sub": "subtract", "Mul": "multiply", "Max": "maximum",
            "Min": "minimum", "Equal": "equal"}


def evaluate(s, op: Op) -> list:
    import numpy as np

    ins = [s.values[name] if name else None for name in op.inputs]
    kind = op.op
    if kind in ("Identity", "Cast") and ins and ins[0] is not None and ins[0].value is None:
        return [ins[0]]
    if kind == "Transpose" and ins[0].value is None:
        perm = op.attrs.get("perm") or list(range(len(ins[0].shape)))[::-1]
        return [Const(tuple(ins[0].shape[p] for p in perm), None, ins[0].weight)]
    if kind == "Shape":
        dims = list(ins[0].shape)
        return [_const(np.array(dims[op.attrs.get("start", 0):op.attrs.get("end")], np.int64))]
    if kind == "Size":
        return [_const(np.array(math.prod(ins[0].shape), np.int64))]
    for c in ins:
        if c is not None and c.value is None:
            raise s.fail("computes with the values of a weight; archcalc reads weights for "
                         "their shapes only", op)
    v = [c.value if c is not None else None for c in ins]
    a = op.attrs
    if kind in ("Identity", "Cast"):
        out = v[0]
        if kind == "Cast":
            out = out.astype(_CAST.get(a.get("to", 1), np.float32))
    elif kind == "Gather":
        out = np.take(v[0], v[1].astype(np.int64), axis=a.get("axis", 0))
    elif kind == "Concat":
        out = np.concatenate([x.reshape(-1) if x.ndim == 0 else x for x in v],
                             axis=a.get("axis", 0))
    elif kind == "Unsqueeze":
        axes = a.get("axes") if "axes" in a else v[1].reshape(-1).tolist()
        out = v[0]
        rank = out.ndim + len(axes)
        for axis in sorted(int(x) % rank for x in axes):
            out = np.expand_dims(out, axis)
    elif kind == "Squeeze":
        axes = a.get("axes") if "axes" in a else (v[1].reshape(-1).tolist() if len(v) > 1 and v[1] is not None else None)
        out = np.squeeze(v[0], axis=tuple(int(x) for x in axes) if axes else None)
    elif kind == "Slice":
        out = _slice(v, a)
    elif kind in _INT_OPS:
        out = getattr(np, _INT_OPS[kind])(v[0], v[1])
    elif kind == "Div":
        if np.issubdtype(v[0].dtype, np.integer) and np.issubdtype(v[1].dtype, np.integer):
            if np.any(v[1] == 0):
                raise ZeroDivisionError("division by zero")
            out = np.trunc(v[0] / v[1]).astype(v[0].dtype)  # ONNX integer Div truncates
        else:
            out = np.divide(v[0], v[1])
    elif kind == "Reshape":
        target = [int(t) for t in v[1].reshape(-1)]
        target = [v[0].shape[i] if t == 0 and not a.get("allowzero") else t
                  for i, t in enumerate(target)]
        out = v[0].reshape(target)
    elif kind == "ConstantOfShape":
        dims = [int(d) for d in v[0].reshape(-1)]
        if math.prod(dims) > MAX_CONST_VALUES or any(d < 0 for d in dims):
            return [Const(tuple(dims), None, False)]
        fill = a.get("value")
        out = np.full(dims, fill.reshape(-1)[0] if fill is not None else 0.0,
                      dtype=fill.dtype if fill is not None else np.float32)
    elif kind == "Range":
        count = math.ceil((float(v[1]) - float(v[0])) / float(v[2])) if float(v[2]) else 0
        if count > MAX_CONST_VALUES:
            raise ArithmeticError(f"a range of {count:,} values")
        out = np.arange(v[0], v[1], v[2])
    elif kind == "Where":
        out = np.where(v[0], v[1], v[2])
    elif kind in ("Floor", "Ceil", "Neg", "Sqrt"):
        out = getattr(np, {"Neg": "negative"}.get(kind, kind.lower()))(v[0])
    elif kind == "ReduceProd":
        out = np.prod(v[0], keepdims=bool(a.get("keepdims", 1)))
    elif kind == "Expand":
        dims = [int(d) for d in v[1].reshape(-1)]
        out = np.broadcast_to(v[0], np.broadcast_shapes(v[0].shape, tuple(dims)))
        if out.size > MAX_CONST_VALUES:
            return [Const(out.shape, None, False)]
        out = np.array(out)
    else:
        raise s.fail("operator not supported in a constant computation", op)
    out = np.asarray(out)
    if out.size > MAX_CONST_VALUES:
        return [Const(out.shape, None, False)]
    return [Const(out.shape, out, False)]


def _const(array) -> Const:
    return Const(array.shape, array, False)


def _slice(v, a):
    import numpy as np

    data = v[0]
    if len(v) > 1:
        starts, ends = v[1].reshape(-1).tolist(), v[2].reshape(-1).tolist()
        axes = v[3].reshape(-1).tolist() if len(v) > 3 and v[3] is not None else list(range(len(starts)))
        steps = v[4].reshape(-1).tolist() if len(v) > 4 and v[4] is not None else [1] * len(starts)
    else:
        starts, ends = a.get("starts", []), a.get("ends", [])
        axes = a.get("axes", list(range(len(starts))))
        steps = [1] * len(starts)
    index = [slice(None)] * data.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps):
        if step == 0:
            raise ArithmeticError("a slice step of 0")
        index[int(axis) % data.ndim] = slice(int(max(min(start, 2**62), -2**62)),
                                             int(max(min(end, 2**62), -2**62)), int(step))
    return data[tuple(index)]


#: ONNX TensorProto element types → NumPy
_CAST = {1: "float32", 2: "uint8", 3: "int8", 5: "int16", 6: "int32", 7: "int64", 9: "bool",
         10: "float16", 11: "float64", 12: "uint32", 13: "uint64"}
