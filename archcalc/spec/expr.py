"""Arguments in specs: ``$name`` substitutions and small integer expressions.

A string value that contains ``$`` is an expression over the block's arguments and the
model's options: ``$planes * 4``, ``$stride == 2``, ``[$k, $k]``.  Only integer
arithmetic (+ - * // %), comparisons and and/or/not are allowed: evaluation walks the
syntax tree itself and never calls ``eval``.

Caps (docs/conventions.md, "Limits"): an expression has at most
:data:`MAX_EXPRESSION_CHARS` characters and nests at most :data:`MAX_EXPRESSION_DEPTH`
deep, and no value it computes may pass ±:data:`MAX_EXPRESSION_VALUE`, so no spec can
make the parser recurse without bound or an integer grow past what a size can be.
"""
from __future__ import annotations

import ast
import operator
import re
from typing import Any, Mapping

from ..errors import SpecError, did_you_mean, quoted

#: Longest expression, in characters (the bundled specs' longest is under 40).
MAX_EXPRESSION_CHARS = 500
#: Deepest syntax tree of an expression (``$a + $b * 2`` is 3 deep).
MAX_EXPRESSION_DEPTH = 32
#: Largest magnitude of any value an expression computes on the way.
MAX_EXPRESSION_VALUE = 10**30

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
    if len(text) > MAX_EXPRESSION_CHARS:
        raise SpecError(f"expression of {len(text):,} characters: at most "
                        f"{MAX_EXPRESSION_CHARS} are read ('{quoted(text, 40)}')")
    source = _NAME.sub(r"\1", text)
    if "$" in source:
        raise SpecError(f"cannot read expression {_shown(text)}: '$' must precede an argument name")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):  # ValueError: NUL bytes
        raise SpecError(f"cannot read expression {_shown(text)}") from None
    _check_depth(tree.body, text)
    return _eval(tree.body, env, text)


def _shown(text: str) -> str:
    return f"'{quoted(text)}'"


def _check_depth(root: ast.AST, text: str) -> None:
    """Refuse trees deeper than MAX_EXPRESSION_DEPTH (walked without recursion)."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_EXPRESSION_DEPTH:
            raise SpecError(f"expression {_shown(text)} nests deeper than {MAX_EXPRESSION_DEPTH}")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bounded(value: Any, text: str) -> Any:
    if _is_int(value) and abs(value) > MAX_EXPRESSION_VALUE:
        raise SpecError(f"expression {_shown(text)} computes a value beyond ±10^30")
    return value


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
        return _bounded(node.value, text)
    if isinstance(node, ast.Name):
        return _lookup(node.id, env)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_eval(e, env, text) for e in node.elts]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left, env, text), _eval(node.right, env, text)
        if not all(_is_int(v) for v in (left, right)):
            raise SpecError(f"expression {_shown(text)} does arithmetic on a non-integer")
        if isinstance(node.op, (ast.FloorDiv, ast.Mod)) and right == 0:
            raise SpecError(f"expression {_shown(text)} divides by zero")
        return _bounded(_BINARY[type(node.op)](left, right), text)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _eval(node.operand, env, text)
        if not _is_int(value):
            raise SpecError(f"expression {_shown(text)} negates a non-integer")
        return -value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _eval(node.operand, env, text)
    if isinstance(node, ast.BoolOp):
        values = [_eval(v, env, text) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        left = _eval(node.left, env, text)
        for op, comparator in zip(node.ops, node.comparators):
            right = _eval(comparator, env, text)
            ordered = not isinstance(op, (ast.Eq, ast.NotEq))
            if ordered and not (all(_is_int(v) for v in (left, right))
                                or all(isinstance(v, str) for v in (left, right))):
                raise SpecError(f"expression {_shown(text)} orders values that are not both "
                                f"integers or both strings: {_kind(left)} and {_kind(right)}")
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    raise SpecError(f"expression {_shown(text)} uses something other than integers, arguments, "
                    f"+ - * // %, comparisons and and/or/not")


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if _is_int(value):
        return "an integer"
    return "a string" if isinstance(value, str) else f"a {type(value).__name__}"
