"""What a model needs in memory: for inference, and for a training step with an optimizer.

A training step holds, besides the activation memory over time
(:mod:`archcalc.analyses.training`), the weights, their gradients and the optimizer's
state (docs/conventions.md, "Memory of a training step"):

    weights      every parameter in the model's dtype
    master       16-bit training (float16, bfloat16): a float32 copy of each trained
                 weight, which the optimizer updates (as mixed-precision trainers keep it)
    gradients    one per trained weight, in the model's dtype
    optimizer    state slots per trained weight (Adam: 2), float32 under 16-bit
                 training, else the model's dtype

Every figure is an exact integer; memory is a + b·batch at each time of the step, so the
largest batch that fits a budget is solved for, not searched.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..core.dtypes import DTYPE_BYTES
from ..errors import ArchcalcError
from ..core.optimizers import OPTIMIZERS, Optimizer
from .training import Moment, Training


#: dtypes trained in mixed precision: float32 master weights and optimizer state
HALF = ("float16", "bfloat16")


def optimizer(name: str) -> Optimizer:
    try:
        return OPTIMIZERS[name]
    except KeyError:
        raise ArchcalcError(f"unknown optimizer '{name}'; choose from {', '.join(OPTIMIZERS)}") from None


@dataclass(frozen=True)
class Plan:
    """Memory of one model at one batch, inference and training."""

    model: str
    batch: int
    dtype: str
    optimizer: str
    params_bytes: int
    master_bytes: int
    gradients_bytes: int
    optimizer_bytes: int
    optimizer_flops: int
    saved_activation_bytes: int
    peak_inference_bytes: int
    peak_inference_layer: str
    peak_training_bytes: int
    peak_layer: str
    peak_phase: str

    @property
    def static_training_bytes(self) -> int:
        return self.params_bytes + self.master_bytes + self.gradients_bytes + self.optimizer_bytes


def static_bytes(t: Training, opt: Optimizer, params: int) -> dict:
    """Weights, master copy, gradients and optimizer state in bytes."""
    size = DTYPE_BYTES[t.dtype]
    state = 4 if t.dtype in HALF else size
    return {"params_bytes": params * size,
            "master_bytes": t.trainable_params * 4 if t.dtype in HALF else 0,
            "gradients_bytes": t.trainable_params * size,
            "optimizer_bytes": t.trainable_params * opt.slots * state}


def plan(t: Training, optimizer_name: str = "sgd") -> Plan:
    opt = optimizer(optimizer_name)
    params = t.trainable_params + t.frozen_params
    static = static_bytes(t, opt, params)
    peak, inference = t.peak(), t.peak(t.inference)
    training_static = sum(static.values())
    return Plan(t.model, t.batch, t.dtype, opt.name, **static,
                optimizer_flops=t.trainable_params * opt.update_flops,
                saved_activation_bytes=t.saved_bytes,
                peak_inference_bytes=static["params_bytes"] + inference.at(t.batch),
                peak_inference_layer=inference.layer,
                peak_training_bytes=training_static + peak.at(t.batch),
                peak_layer=peak.layer, peak_phase=peak.phase)


def largest_batch(moments: tuple, static: int, budget: int) -> int:
    """The largest batch b with static + max over times (a + s·b) ≤ budget (0 if none):
    every time bounds b by ⌊(budget − static − a) / s⌋, the answer is the least bound."""
    room = budget - static
    bound = None
    for m in moments:
        if m.per_sample == 0:
            if m.per_batch > room:
                return 0
            continue
        limit = (room - m.per_batch) // m.per_sample
        bound = limit if bound is None else min(bound, limit)
    return max(0, bound) if bound is not None else 0


def max_batch(t: Training, p: Plan, budget: int) -> dict:
    """Largest inference and training batch under ``budget`` bytes."""
    return {"inference": largest_batch(t.inference, p.params_bytes, budget),
            "training": largest_batch(t.moments, p.static_training_bytes, budget)}


UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
         "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_size(text: str) -> int:
    """'24GiB', '16 GB', '3000000000' → bytes (binary and decimal units)."""
    import re

    match = re.fullmatch(r"\s*(\d{1,18}(?:\.\d{1,6})?)\s*([a-zA-Z]*)\s*", text)
    unit = match and UNITS.get(match.group(2).lower() or "b")
    if not match or unit is None:
        raise ArchcalcError(f"--budget must be a size such as 24GiB, 16GB or 3000000000 "
                            f"(units: {', '.join(sorted(UNITS, key=UNITS.get))}), got '{text}'")
    from fractions import Fraction

    value = int(Fraction(match.group(1)) * unit)
    if value < 1:
        raise ArchcalcError(f"--budget must be at least one byte, got '{text}'")
    return value


__all__ = ["OPTIMIZERS", "Optimizer", "Plan", "Moment", "largest_batch", "max_batch",
           "optimizer", "parse_size", "plan"]
