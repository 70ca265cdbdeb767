"""Normalisation: AlexNet's local response normalisation and (inference) batch norm."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import SpecError
from ..spec.fields import attr, number, positive_int
from ..core.shapes import Shape
from ..core.work import Work
from .base import Layer, register


def _triangle(n: int) -> int:
    """1 + 2 + … + n, 0 for n ≤ 0."""
    return n * (n + 1) // 2 if n > 0 else 0


def lrn_window_total(channels: int, size: int) -> int:
    """Σ over channels c of the LRN window length, the window [c − h, c + h]
    (h = ⌊size/2⌋, size odd) clipped to the maps 0..C−1; in closed form

        C·(2h + 1) − 2·(T(h) − T(h − C)),   T(n) = n(n + 1)/2 (0 for n ≤ 0)

    (the full windows, less what the clipping cuts at each end: h, h − 1, … maps for the
    first min(C, h) channels, and as many at the other end)."""
    half = size // 2
    c = channels
    return c * (2 * half + 1) - 2 * (_triangle(half) - _triangle(half - c))


@register
@dataclass(frozen=True)
class LRN(Layer):
    """Across-channel LRN (AlexNet §3.3, Caffe/PyTorch form):
    y_c = x_c / (k + α/n · Σ_{c' ∈ window(c)} x_{c'}²)^β, window of ``size`` maps clipped at the ends.

    FLOPs per output: one square and one add per tap, then scale, offset, power, divide:
    2·taps + 3 (taps counted exactly at the clipped ends).  Connections: taps.
    """
    type_name = "lrn"
    size: int = attr(positive_int, 5, "maps in the window (AlexNet: 5)")
    alpha: float = attr(number, 1e-4, "α (AlexNet: 1e-4; divided by size as in Caffe and PyTorch)")
    beta: float = attr(number, 0.75, "β (AlexNet: 0.75)")
    k: float = attr(number, 1.0, "k (AlexNet paper: 2; Caffe's bvlc_alexnet: 1)")

    def __post_init__(self):
        if self.size % 2 == 0:
            raise SpecError(f"size must be odd so the window centres on a map, got {self.size}",
                            key="size")

    def out_shape(self, x: Shape) -> Shape:
        return x

    def _taps(self, x: Shape):
        return lrn_window_total(x.channels, self.size) * x.numel // x.channels

    def connections(self, x: Shape, y: Shape):
        return self._taps(x)

    def work(self, x: Shape, y: Shape) -> Work:
        """Per output: a square per tap, (taps − 1) adds for the sum + 1 for the offset k,
        the α/n scale, the power β and the divide: 2·taps + 3 in all."""
        taps = self._taps(x)
        return Work(multiplications=taps + y.numel, additions=taps, divisions=y.numel,
                    exponentials=y.numel)

    def workspace(self, x: Shape, batch: int = 1) -> int:
        """The squares, zero-padded along channels: (C + size − 1)·H·W per sample."""
        return batch * (x.channels + self.size - 1) * x.numel // x.channels

    def forward(self, x, weights, ops):
        """Window sums of squares over channel-padded zeros (a sliding view, no loop)."""
        import numpy as np
        from numpy.lib.stride_tricks import sliding_window_view

        n, c = x.shape[:2]
        half = self.size // 2
        squares = np.zeros((n, c + self.size - 1) + x.shape[2:], dtype=x.dtype)
        np.square(x, out=squares[:, half:half + c])
        scale = sliding_window_view(squares, self.size, axis=1).sum(axis=-1)
        del squares
        t = x.dtype.type
        scale *= t(self.alpha / self.size)
        scale += t(self.k)
        scale **= t(self.beta)
        return np.divide(x, scale, out=scale)


@register
@dataclass(frozen=True)
class BatchNorm(Layer):
    """Inference batch norm: y = γ (x − μ) / √(σ² + ε) + β, folded to one scale and shift.

    params = 2·C (γ, β); the running μ and σ² are buffers, not trainable parameters.
    FLOPs: 2 per element (scale, shift).  Connections: 1 edge + 1 bias per element.
    """
    type_name = "batchnorm"
    eps: float = attr(number, 1e-5, "ε added to the variance")

    def out_shape(self, x: Shape) -> Shape:
        return x

    def params(self, x: Shape):
        return 2 * x.channels

    def connections(self, x: Shape, y: Shape):
        return 2 * y.numel

    def work(self, x: Shape, y: Shape) -> Work:
        return Work(multiplications=y.numel, additions=y.numel)  # folded scale and shift

    def init_weights(self, x: Shape, rng, dtype) -> dict:
        """gamma, beta (trainable, (C,)); running_mean, running_var (buffers, (C,))."""
        import numpy as np

        from .npkit import normal

        c = x.channels
        var = normal(rng, (c,), dtype, 0.1)
        np.abs(var, out=var)
        var += var.dtype.type(0.5)
        gamma = normal(rng, (c,), dtype, 0.1)
        gamma += gamma.dtype.type(1)
        return {"gamma": gamma, "beta": normal(rng, (c,), dtype, 0.1),
                "running_mean": normal(rng, (c,), dtype, 0.1), "running_var": var}

    def forward(self, x, weights, ops):
        """y = x·s + (β − μ·s) with s = γ / √(σ² + ε), per channel (axis 1)."""
        import numpy as np

        axes = (1, -1) + (1,) * (x.ndim - 2)
        s = weights["gamma"] / np.sqrt(weights["running_var"] + x.dtype.type(self.eps))
        y = x * s.reshape(axes)
        y += (weights["beta"] - weights["running_mean"] * s).reshape(axes)
        return y
