"""What a layer costs in training, as immutable values each layer type states.

A training step runs the forward, then the backward: every layer that some trainable
weight depends on (or that holds trainable weights itself) turns the gradient of its
output into the gradients of its inputs and of its weights.  Each layer type says

* :class:`Backward`: the MACs of its gradient products (with respect to the input, and
  with respect to the weights; FLOPs = 2·MACs + the elementwise work, as forward), and
* :class:`Saved`: what PyTorch's autograd keeps from the forward for that backward (the
  layer's input, its output, or small extras such as max pooling's int64 indices),

given which gradients are needed (:class:`Needs`).  docs/conventions.md, "Training",
defines each figure; archcalc.analyses.training adds them up over the graph.
"""
from __future__ import annotations

from dataclasses import dataclass

from .work import Work


@dataclass(frozen=True)
class Needs:
    """Which gradients one layer's backward computes."""

    #: the gradient with respect to its input(s): some trainable weight lies upstream
    input: bool
    #: the gradients of its own weights: it has weights and they are not frozen
    weights: bool

    @property
    def any(self) -> bool:
        return self.input or self.weights


@dataclass(frozen=True)
class Backward:
    """Per-sample backward cost of one layer."""

    input_macs: int = 0     # products of the gradient with the weights (transposed map)
    weight_macs: int = 0    # products of the gradient with the saved input
    work: Work = Work()     # elementwise: activation derivatives, routing, bias sums

    @property
    def macs(self) -> int:
        return self.input_macs + self.weight_macs

    @property
    def flops(self) -> int:
        return 2 * self.macs + self.work.total


@dataclass(frozen=True)
class Extra:
    """A tensor autograd saves besides the layer's inputs and outputs, per sample."""

    what: str        # e.g. "indices", "mask", "mean and inverse std"
    elements: int
    itemsize: int | None = None  # bytes per element; None: the model's dtype
    #: kept once per batch (batch norm's batch statistics), not once per sample
    per_batch: bool = False


@dataclass(frozen=True)
class Saved:
    """What autograd keeps for one layer's backward (per sample).

    ``inputs``: the positions of the inputs it keeps (0 for most layers); ``output``:
    whether it keeps its own output (relu, sigmoid, tanh, softmax keep their result);
    ``extras``: other tensors (indices, masks, statistics, a pre-activation).  A tensor
    kept by several layers (a relu's output, kept by the relu and as the next conv's input)
    is one tensor in memory: the analysis counts it once.
    """

    inputs: tuple = ()
    output: bool = False
    extras: tuple = ()

    def __add__(self, other: "Saved") -> "Saved":
        return Saved(tuple(sorted(set(self.inputs) | set(other.inputs))),
                     self.output or other.output, self.extras + other.extras)


NOTHING = Saved()
