"""Running a :class:`~archcalc.core.graph.Model` in NumPy, layer by layer.

Each layer's forward lives in its layer class; this module walks the model tree (layers,
concatenations with identity branches, residual additions with their folded activation,
side branches whose output is dropped), makes deterministic weights from a seed, and
records per layer the output array, the weights, the MACs its products performed
(:class:`archcalc.numeric.tally.Ops`), the seconds it took and, when ``tracemalloc`` is tracing,
the peak traced bytes while it ran.
"""
from __future__ import annotations

import time
import tracemalloc
import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..layers.npkit import activate, trainable_count
from ..core.graph import ConcatNode, LayerNode, Model, ResidualNode, SideNode
from ..core.shapes import Shape
from .tally import Ops

DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class LayerRun:
    """What one layer (or concatenation, or residual addition) actually did."""

    name: str
    type: str
    output: object       # np.ndarray, batch axis first
    weights: dict        # name -> np.ndarray, PyTorch/ONNX layout
    params: int          # trainable numbers held (masked entries and buffers excluded)
    macs: int            # multiply-accumulates of the real matmul/einsum calls
    seconds: float
    peak_bytes: int | None  # traced peak while the layer ran (weights made + forward)

    @property
    def out_shape(self) -> tuple:
        return tuple(self.output.shape[1:])


def layer_rng(seed: int, path: str):
    """A generator that depends only on the seed and the layer's path, so a layer's weights
    do not change when other layers are added or removed."""
    return np.random.default_rng([seed, zlib.crc32(path.encode())])


def make_input(shape: Shape, batch: int, seed: int, dtype: str):
    return np.random.default_rng([seed]).standard_normal((batch,) + tuple(shape.dims), dtype=dtype)


class Runner:
    """Walks the model; ``on_layer(run)`` is called after every recorded row."""

    def __init__(self, seed: int = 0, dtype: str = "float32", training: bool = False,
                 on_layer: Callable[[LayerRun], None] | None = None):
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
        self.seed = seed
        self.dtype = np.dtype(dtype)
        self.training = training
        self.on_layer = on_layer
        self.runs: list[LayerRun] = []
        #: weights by layer path, made on a layer's first run and reused on later runs
        self.weights: dict[str, dict] = {}

    def run(self, model: Model, x):
        return self.nodes(model.nodes, x)

    def nodes(self, nodes, x):
        for node in nodes:
            if isinstance(node, LayerNode):
                x = self.layer(node, x)
            elif isinstance(node, ConcatNode):
                x = self.concat(node, x)
            elif isinstance(node, SideNode):
                self.nodes(node.layers, x)  # its output feeds nothing; x flows on unchanged
            elif isinstance(node, ResidualNode):
                x = self.residual(node, x)
            else:
                raise TypeError(f"unknown node {node!r}")
        return x

    def record(self, run: LayerRun) -> None:
        self.runs.append(run)
        if self.on_layer is not None:
            self.on_layer(run)

    @staticmethod
    def _peak_start() -> None:
        if tracemalloc.is_tracing():
            tracemalloc.reset_peak()

    @staticmethod
    def _peak() -> int | None:
        return tracemalloc.get_traced_memory()[1] if tracemalloc.is_tracing() else None

    def layer(self, node: LayerNode, x):
        layer = node.layer
        self._peak_start()
        weights = self.weights.get(node.path)
        if weights is None:
            weights = layer.init_weights(Shape.of(*x.shape[1:]), layer_rng(self.seed, node.path),
                                         self.dtype)
            self.weights[node.path] = weights
        ops = Ops(training=self.training, rng=layer_rng(self.seed + 1, node.path))
        start = time.perf_counter()
        y = layer.forward(x, weights, ops)
        seconds = time.perf_counter() - start
        self.record(LayerRun(node.path, layer.label, y, weights, trainable_count(weights),
                             ops.macs, seconds, self._peak()))
        return y

    def concat(self, node: ConcatNode, x):
        outs = [self.nodes(branch, x) for branch in node.branches]  # [] → x itself
        self._peak_start()
        start = time.perf_counter()
        y = np.concatenate(outs, axis=1)
        self.record(LayerRun(node.path, "concat", y, {}, 0, 0, time.perf_counter() - start,
                             self._peak()))
        return y

    def residual(self, node, x):
        body = self.nodes(node.body, x)
        shortcut = self.nodes(node.shortcut, x)
        self._peak_start()
        start = time.perf_counter()
        y = activate(node.activation, body + shortcut)
        label = f"add+{node.activation}" if node.activation else "add"
        self.record(LayerRun(node.path, label, y, {}, 0, 0, time.perf_counter() - start,
                             self._peak()))
        return y


def forward(model: Model, input_shape: Shape | None = None, batch: int = 1, seed: int = 0,
            dtype: str = "float32", training: bool = False, on_layer=None):
    """(input array, [LayerRun, ...]) for one forward pass of ``model``."""
    runner = Runner(seed, dtype, training, on_layer)
    x = make_input(input_shape or model.input_shape, batch, seed, dtype)
    runner.run(model, x)
    return x, runner.runs
