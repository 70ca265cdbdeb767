"""Running a :class:`~archcalc.core.graph.Model` in NumPy, node by node.

Each layer's forward lives in its layer class; this module walks the model graph with
:func:`archcalc.core.graph.walk` (holding only live tensors: each is dropped after its last
reader), makes deterministic weights from a seed, and records per node the output array
(when asked to keep it), the weights, the MACs its products performed
(:class:`archcalc.numeric.tally.Ops`), the seconds it took and, when ``tracemalloc`` is
tracing, the peak traced bytes while it ran.
"""
from __future__ import annotations

import time
import tracemalloc
import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..core.dtypes import NUMERIC_DTYPES
from ..core.graph import Model, walk
from ..core.shapes import Shape
from ..layers.npkit import trainable_count
from .tally import Ops



@dataclass(frozen=True)
class LayerRun:
    """What one node actually did."""

    name: str
    type: str
    output: object       # np.ndarray, batch axis first; None unless outputs are kept
    out_shape: tuple     # per sample
    weights: dict        # name -> np.ndarray, PyTorch/ONNX layout
    params: int          # trainable numbers held (masked entries and buffers excluded)
    macs: int            # multiply-accumulates of the real matmul/einsum calls
    seconds: float
    peak_bytes: int | None  # traced peak while the node ran (weights made + forward)


def layer_rng(seed: int, path: str):
    """A generator that depends only on the seed and the layer's path, so a layer's weights
    do not change when other layers are added or removed."""
    return np.random.default_rng([seed, zlib.crc32(path.encode())])


def make_input(shape: Shape, batch: int, seed: int, dtype: str):
    return np.random.default_rng([seed]).standard_normal((batch,) + tuple(shape.dims), dtype=dtype)


class Runner:
    """Walks the model; ``on_layer(run)`` is called after every node.  With
    ``keep_outputs`` every output stays referenced by its record (for ``--save`` and for
    tests); otherwise a tensor lives only until its last reader, as in a real runtime."""

    def __init__(self, seed: int = 0, dtype: str = "float32", training: bool = False,
                 on_layer: Callable[[LayerRun], None] | None = None, keep_outputs: bool = True):
        if dtype not in NUMERIC_DTYPES:
            raise ValueError(f"dtype must be one of {NUMERIC_DTYPES}, got {dtype!r}")
        self.seed = seed
        self.dtype = np.dtype(dtype)
        self.training = training
        self.on_layer = on_layer
        self.keep_outputs = keep_outputs
        self.runs: list[LayerRun] = []
        #: weights by layer path, made on a layer's first run and reused on later runs
        self.weights: dict[str, dict] = {}

    def run(self, model: Model, x) -> dict:
        """The model's output arrays by name."""
        values = walk(model, x, self.node, free=True)
        return {name: values[name] for name in model.outputs}

    def node(self, node, arrays: tuple):
        layer = node.layer
        if tracemalloc.is_tracing():
            tracemalloc.reset_peak()
        weights = self.weights.get(node.path)
        if weights is None:
            shapes = layer.take(tuple(Shape.of(*a.shape[1:]) for a in arrays))
            weights = layer.init_weights(shapes, layer_rng(self.seed, node.path), self.dtype)
            self.weights[node.path] = weights
        ops = Ops(training=self.training, rng=layer_rng(self.seed + 1, node.path))
        start = time.perf_counter()
        y = layer.forward(layer.take(arrays), weights, ops)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] if tracemalloc.is_tracing() else None
        run = LayerRun(node.path, layer.label, y if self.keep_outputs else None,
                       tuple(y.shape[1:]), weights, trainable_count(weights), ops.macs,
                       seconds, peak)
        self.runs.append(run)
        if self.on_layer is not None:
            self.on_layer(run)
        return y


def forward(model: Model, input_shape: Shape | None = None, batch: int = 1, seed: int = 0,
            dtype: str = "float32", training: bool = False, on_layer=None,
            keep_outputs: bool = True):
    """(input array, [LayerRun, ...]) for one forward pass of ``model``."""
    runner = Runner(seed, dtype, training, on_layer, keep_outputs)
    x = make_input(input_shape or model.input_shape, batch, seed, dtype)
    runner.run(model, x)
    return x, runner.runs
