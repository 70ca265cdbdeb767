"""Counting the multiply-accumulates that NumPy actually performs.

Layer forwards call :meth:`Ops.matmul` and :meth:`Ops.einsum` instead of NumPy's, so the
MACs that ``archcalc verify`` reports come from the operand shapes of the real calls, not
from the engine's formulas.  Elementwise work (bias adds, activations, pooling) is not a
MAC (docs/conventions.md) and goes straight to NumPy.
"""
from __future__ import annotations

import numpy as np


class Ops:
    """Runs NumPy products and tallies their MACs (exact Python ints).

    ``training`` switches dropout to its masking mode; ``rng`` feeds its masks.
    """

    def __init__(self, training: bool = False, rng=None):
        self.macs = 0
        self.training = training
        self.rng = rng if rng is not None else np.random.default_rng(0)

    def matmul(self, a, b, out=None):
        """``a @ b`` of matrices or stacks of them, broadcast over leading axes;
        MACs = (stack size) · m · k · n."""
        if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2]:
            raise ValueError(f"matmul operands {a.shape} and {b.shape} do not chain")
        stack = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        (m, k), n = a.shape[-2:], b.shape[-1]
        result = np.matmul(a, b, out=out)
        self.macs += _prod(stack) * m * k * n
        return result

    def einsum(self, subscripts: str, *operands, **kwargs):
        """``np.einsum`` of two operands; MACs = the product of every index's size
        (each combination of free and contracted indices is one multiply-accumulate)."""
        if len(operands) != 2 or "->" not in subscripts:
            raise ValueError("Ops.einsum takes two operands and an explicit '->' output")
        inputs = subscripts.split("->")[0].split(",")
        sizes: dict[str, int] = {}
        for letters, array in zip(inputs, operands):
            if len(letters) != array.ndim:
                raise ValueError(f"einsum term '{letters}' does not match shape {array.shape}")
            for letter, size in zip(letters, array.shape):
                sizes[letter] = max(sizes.get(letter, 1), int(size))
        result = np.einsum(subscripts, *operands, **kwargs)
        self.macs += _prod(sizes.values())
        return result


def _prod(values) -> int:
    n = 1
    for v in values:
        n *= int(v)
    return n


class GradOps:
    """The tallies of one layer's backward, one per gradient it computes: ``input`` counts
    the products that make its inputs' gradient (the gradient times the weights), ``weights``
    those that make its weights' (the gradient times the saved input), each compared with
    the engine's ``Backward.input_macs`` and ``weight_macs``."""

    def __init__(self):
        self.input = Ops()
        self.weights = Ops()

    @property
    def macs(self) -> int:
        return self.input.macs + self.weights.macs
