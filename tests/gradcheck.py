"""Finite-difference checks of one layer's NumPy backward (float64).

:func:`layer_step` runs a layer's training forward, keeps a tape of exactly what its
``saved()`` names, and its backward on the gradient of the loss Σ ⟨y, R⟩ (R a fixed random
tensor); :func:`finite_differences` differentiates the same loss numerically, by central
differences, along random directions and at random coordinates of every input and
trained weight.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archcalc.core.backward import Needs
from archcalc.core.shapes import Shape
from archcalc.layers.npgrad import make_tape
from archcalc.numeric.backward import trainable
from archcalc.numeric.tally import GradOps, Ops

#: the central difference's step: its truncation error h²·f''' and its rounding error
#: ε·|L|/h balance near 1e-5 for losses of order 1..100 in float64
STEP = 1e-6

#: where an activation's derivative jumps: inputs closer than this are moved away, so a
#: finite difference never straddles a kink
KINKS = {"relu": (0,), "relu6": (0, 6), "hardsigmoid": (-3, 3), "hardswish": (-3, 3),
         "leaky_relu": (0,), "elu": (0,), "prelu": (0,)}


@dataclass
class LayerStep:
    layer: object
    inputs: tuple          # the input arrays (one per input)
    weights: dict
    target: object         # R
    dx: tuple              # the backward's input gradients (None where not computed)
    dw: dict
    ops: GradOps
    cache: dict
    y: object
    seed: int              # of the masks a training forward draws (dropout, stochastic depth)


def _away_from_kinks(x, points, gap=1e-3):
    for p in points:
        near = np.abs(x - p) < gap
        x[near] += np.sign(x[near] - p + 1e-12) * 2 * gap
    return x


def _forward(layer, inputs, weights, seed):
    ops = Ops(training=True, rng=np.random.default_rng(seed + 1))
    return layer.train_forward(layer.take(inputs), weights, ops)


def layer_step(layer, dims, batch: int, needs: Needs, seed: int = 0, scale: float = 2.0) -> LayerStep:
    """One layer's training forward and backward in float64 on random inputs (of
    ``dims``, a tuple of dims for a merge) with the tape ``saved()`` describes."""
    rng = np.random.default_rng(seed)
    many = layer.arity != 1
    all_dims = tuple(dims) if many else (tuple(dims),)
    inputs = tuple(_away_from_kinks(scale * rng.standard_normal((batch,) + d), KINKS.get(layer.type_name, ()))
                   for d in all_dims)
    shapes = layer.take(tuple(Shape(d) for d in all_dims))
    weights = layer.init_weights(shapes, rng, np.float64)
    y, cache = _forward(layer, inputs, weights, seed)
    out = layer.out_shape(shapes)
    assert y.shape == (batch,) + tuple(out.dims), "the training forward's shape differs from the engine's"
    target = rng.standard_normal(y.shape)
    tape = make_tape(layer, shapes, needs, inputs, y, cache, batch)
    target.flags.writeable = False
    ops = GradOps()
    dx, dw = layer.backward_numpy(tape, target, weights, needs, ops)
    return LayerStep(layer, inputs, weights, target, (dx,) if not many else tuple(dx), dw, ops, cache, y,
                     seed)


def loss(step: LayerStep, inputs=None, weights=None) -> float:
    y, _ = _forward(step.layer, inputs or step.inputs, weights or step.weights, step.seed)
    return float(np.vdot(y, step.target))


def finite_differences(step: LayerStep, directions: int = 2, coordinates: int = 6):
    """[(what, analytic, numeric)]: ⟨gradient, v⟩ against (L(t + hv) − L(t − hv)) / 2h for
    random directions v, and single coordinates, of each input and trained weight whose
    gradient the backward computed."""
    rng = np.random.default_rng([step.seed, 7])
    tensors = [(f"input {j}", g, lambda t, j=j: (step.inputs[:j] + (t,) + step.inputs[j + 1:], None),
                step.inputs[j]) for j, g in enumerate(step.dx) if g is not None]
    for name, g in step.dw.items():
        def swap(t, name=name):
            return None, {**step.weights, name: t}
        tensors.append((name, g, swap, step.weights[name]))
    out = []
    for what, grad, swap, base in tensors:
        assert grad.shape == base.shape, f"{what}: gradient {grad.shape} for a tensor {base.shape}"
        probes = [rng.standard_normal(base.shape) for _ in range(directions)]
        for _ in range(min(coordinates, base.size)):
            v = np.zeros(base.shape)
            v.flat[rng.integers(base.size)] = 1
            probes.append(v)
        for v in probes:
            plus, minus = base + STEP * v, base - STEP * v
            numeric = (loss(step, *swap(plus)) - loss(step, *swap(minus))) / (2 * STEP)
            out.append((what, float(np.vdot(grad, v)), numeric))
    return out


def extras_bytes(layer, dims, batch: int, needs: Needs) -> int:
    """The bytes the engine says the layer keeps besides its inputs and output."""
    many = layer.arity != 1
    shapes = layer.take(tuple(Shape(d) for d in (dims if many else (dims,))))
    saved = layer.saved(shapes, layer.out_shape(shapes), needs)
    return sum(e.elements * (e.itemsize or 8) * (1 if e.per_batch else batch) for e in saved.extras)


def cache_bytes(cache: dict) -> int:
    total = 0
    for value in cache.values():
        for a in value if isinstance(value, tuple) else (value,):
            total += a.nbytes
    return total


__all__ = ["LayerStep", "cache_bytes", "extras_bytes", "finite_differences", "layer_step",
           "loss", "trainable"]
