"""Arguments in specs: ``$name`` substitutions and small integer expressions.

A string value that contains ``$`` is an expression over the block's arguments and the
model's options: ``$planes * 4``, ``$stride == 2``, ``[$k, $k]``.  Only integer
arithmetic (+ - * // %), comparisons and and/or/not are allowed: evaluation walks the
syntax tree itself and never calls ``eval``.
"""
from __future__ import annotations

import ast
import operator
import re
from typing import Any, Mapping

from ..errors import SpecError, did_you_mean

_NAME = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod}
_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
            ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge}


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and "$" in value


def evaluate(text: str, env: Mapping[str, Any]) -> Any:
    """The value of one ``$`` expression in ``env``."""
    whole = _NAME.fullmatch(text.strip())
    if whole:
        return _lookup(whole.group(1), env)
    source = _NAME.sub(r"\1", text)
    if "$" in source:
        raise SpecError(f"cannot read expression {text!r}: '$' must precede an argument name")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError:
        raise SpecError(f"cannot read expression {text!r}") from None
    return _eval(tree.body, env, text)


def substitute(value: Any, env: Mapping[str, Any]) -> Any:
    """``value`` with every expression inside it (lists included) evaluated."""
    if is_expression(value):
        return evaluate(value, env)
    if isinstance(value, list):
        return [substitute(v, env) for v in value]
    return value


def _lookup(name: str, env: Mapping[str, Any]) -> Any:
    if name not in env:
        known = ", ".join(f"${k}" for k in sorted(env)) or "none"
        raise SpecError(f"unknown argument '${name}'{did_you_mean(name, env)}; known: {known}")
    return env[name]


def _eval(node: ast.AST, env: Mapping[str, Any], text: str) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, str)):
        return node.value
    if isinstance(node, ast.Name):
        return _lookup(node.id, env)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_eval(e, env, text) for e in node.elts]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left, env, text), _eval(node.right, env, text)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (left, right)):
            raise SpecError(f"expression {text!r} does arithmetic on a non-integer")
        if isinstance(node.op, (ast.FloorDiv, ast.Mod)) and right == 0:
            raise SpecError(f"expression {text!r} divides by zero")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_eval(node.operand, env, text)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _eval(node.operand, env, text)
    if isinstance(node, ast.BoolOp):
        values = [_eval(v, env, text) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        left = _eval(node.left, env, text)
        for op, comparator in zip(node.ops, node.comparators):
            right = _eval(comparator, env, text)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    raise SpecError(f"expression {text!r} uses something other than integers, arguments, "
                    f"+ - * // %, comparisons and and/or/not")
