"""The optimizers a training step may use: the state each keeps per trained weight and
the FLOPs of its update (docs/conventions.md, "Training").  A table of values with no
imports beyond the standard library, so the CLI builds its choices from it at start-up."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Optimizer:
    """An optimizer as a training step counts it: its state per weight and its update."""

    name: str
    #: values kept per trained weight (momentum buffer, Adam's two moments, ...)
    slots: int
    #: floating-point operations of one update, per trained weight
    update_flops: int
    update: str  # the update, as the FLOPs count it


#: torch.optim's update rules, without weight decay unless the rule has it built in (AdamW)
OPTIMIZERS = {o.name: o for o in (
    Optimizer("sgd", 0, 2, "p −= lr·g"),
    Optimizer("momentum", 1, 4, "b = μ·b + g; p −= lr·b"),
    Optimizer("nesterov", 1, 6, "b = μ·b + g; p −= lr·(g + μ·b)"),
    Optimizer("adam", 2, 14, "m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²; "
                             "p −= lr·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)"),
    Optimizer("adamw", 2, 16, "Adam's update, then p −= lr·λ·p"),
    Optimizer("rmsprop", 1, 9, "v = αv + (1−α)g²; p −= lr·g / (√v + ε)"),
    Optimizer("adagrad", 1, 7, "s += g²; p −= lr·g / (√s + ε)"),
)}
