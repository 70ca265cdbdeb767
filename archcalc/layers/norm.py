"""Normalisation: AlexNet's local response normalisation, (inference) batch norm, and the
normalisations whose statistics come from the data at inference: layer, group and
instance norm."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ShapeError, SpecError
from ..spec.fields import attr, boolean, number, positive_int
from ..core.shapes import Shape, is_known
from ..core.windows import Whole
from ..core.backward import NOTHING, Backward, Extra, Needs, Saved
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

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        """Caffe's CrossChannelBackward: r = g·y / scale (a product, a divide), r summed
        over each window (a tap each), g·scale^(−β) (a power, a product) less
        2αβ/n · x · Σr (two products, a subtract)."""
        if not needs.input:
            return Backward()
        n = y.numel
        return Backward(work=Work(additions=self._taps(x) + n, multiplications=4 * n,
                                  divisions=n, exponentials=n))

    def saved(self, x: Shape, y: Shape, needs: Needs) -> Saved:
        """Its input, its output and the scale (k + α/n Σ x²), as Caffe keeps them."""
        if not needs.input:
            return NOTHING
        return Saved(inputs=(0,), output=True, extras=(Extra("scale", y.numel),))

    def workspace(self, x: Shape, batch: int = 1) -> int:
        """The squares, zero-padded along channels: (C + size − 1)·H·W per sample."""
        return batch * (x.channels + self.size - 1) * x.numel // x.channels

    def forward(self, x, weights, ops):
        """x / S^β, S the window sums of squares over channel-padded zeros (:meth:`_scale`)."""
        import numpy as np

        scale = self._scale(x)
        scale **= x.dtype.type(self.beta)
        return np.divide(x, scale, out=scale)

    def _scale(self, x):
        """S = k + α/n · Σ_window x², the channel-padded squares summed by a sliding view."""
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
        return scale

    def train_workspace(self, x, batch, itemsize) -> int:
        """The squares (as the forward), gone before the output is made: beyond the output
        and the scale, what they exceed the output by."""
        return itemsize * max(0, self.workspace(x, batch) - batch * x.numel)

    def train_forward(self, x, weights, ops):
        """y = x · S^(−β), keeping the scale S (as Caffe's LRN layer keeps it)."""
        scale = self._scale(x)
        y = scale ** x.dtype.type(-self.beta)
        y *= x
        return y, {"scale": scale}

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """Caffe's CrossChannelBackward: with r = g·y / S summed over each window (the
        window is symmetric, so over the maps whose windows hold c),
        dx = g·S^(−β) − 2αβ/n · x · Σ r."""
        import numpy as np
        from numpy.lib.stride_tricks import sliding_window_view

        if not needs.input:
            return None, {}
        x, y, scale = tape.x, tape.y, tape.cache["scale"]
        n, c = x.shape[:2]
        half = self.size // 2
        t = x.dtype.type
        padded = np.zeros((n, c + self.size - 1) + x.shape[2:], dtype=x.dtype)
        r = padded[:, half:half + c]
        np.multiply(grad, y, out=r)
        r /= scale
        sums = sliding_window_view(padded, self.size, axis=1).sum(axis=-1)
        del padded, r
        sums *= x
        sums *= t(2 * self.alpha * self.beta / self.size)
        dx = scale ** t(-self.beta)
        dx *= grad
        dx -= sums
        return dx, {}

    def backward_workspace(self, x, y, needs, batch, itemsize) -> int:
        """The channel-padded r = g·y/S, then its window sums (while the padded array is
        alive), then those sums while dx is made."""
        if not needs.input:
            return 0
        return itemsize * batch * (x.channels + self.size - 1 + x.channels) * x.numel // x.channels


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

    def train_work(self, x: Shape, y: Shape) -> Work:
        """Training normalises by the batch's own statistics: per element, the mean's add,
        the variance's subtract, square and add, the normalising product, γ and β
        (:func:`normalisation_work`); the per-channel steps (divisions and a square root per
        channel, once per batch) do not grow with the batch and are left out."""
        return normalisation_work(y.numel, 0, True)

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        return Backward(work=normalisation_backward(y.numel, 0, True, needs))

    def saved(self, x: Shape, y: Shape, needs: Needs) -> Saved:
        """native_batch_norm: its input and the batch's mean and 1/std per channel."""
        if not needs.any:
            return NOTHING
        return Saved(inputs=(0,), extras=(Extra("batch mean and 1/std", 2 * x.channels, per_batch=True),))

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

    @staticmethod
    def _sets(ndim: int) -> tuple:
        """The axes one channel's statistics span in training: the batch and every position."""
        return (0,) + tuple(range(2, ndim))

    def train_forward(self, x, weights, ops):
        """Training batch norm: y = γ·(x − μ_B)/√(σ²_B + ε) + β with the batch's own mean
        and biased variance per channel, kept for the backward (native_batch_norm's
        save_mean and save_invstd).  The running statistics are not updated: they do not
        enter the step's gradients."""
        import numpy as np

        y = np.empty(x.shape, dtype=x.dtype)
        mean, rstd = standardise(x, y, self._sets(x.ndim), self.eps, keep=True)
        shape = (1, -1) + (1,) * (x.ndim - 2)
        y *= weights["gamma"].reshape(shape)
        y += weights["beta"].reshape(shape)
        return y, {"batch mean and 1/std": (mean, rstd)}

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """native_batch_norm_backward with the batch statistics (npgrad.normalise_backward
        over each channel's set: the batch and every position)."""
        from .npgrad import normalise_backward

        mean, rstd = tape.cache["batch mean and 1/std"]
        return normalise_backward(tape.x, grad, mean, rstd, weights["gamma"], lambda a: a,
                                  self._sets(grad.ndim), needs.input, needs.weights)

    def backward_workspace(self, x, y, needs, batch, itemsize) -> int:
        """x̂ made again (input-sized)."""
        return itemsize * batch * x.numel


# --- normalisations computed from the data at inference ------------------------------------

def normalisation_work(elements, sets, affine: bool) -> Work:
    """Work of normalising ``elements`` values in ``sets`` sets of equal size s, each by
    its own mean and (biased) variance, at inference (docs/conventions.md):

        mean        s − 1 additions and 1 division per set
        variance    s subtractions (x − μ, kept for the output), s squares, s − 1
                    additions and 1 division per set
        normalise   + ε (1 addition), √ (1 exponential), 1 / √ (1 division) per set, then
                    1 multiplication per element
        affine      γ · x̂ + β: 1 multiplication and 1 addition per element

    additions 3m − k (+ m), multiplications 2m (+ m), divisions 3k, exponentials k, for m
    elements in k sets: 5m + 3k FLOPs, 7m + 3k with the affine scale and shift."""
    m, k = elements, sets
    work = Work(additions=3 * m - k, multiplications=2 * m, divisions=3 * k, exponentials=k)
    if affine:
        work = work + Work(additions=m, multiplications=m)
    return work


def normalisation_backward(elements, sets, affine: bool, needs) -> Work:
    """Backward of a normalisation over ``elements`` values in ``sets`` sets (per sample;
    0 for batch norm, whose sets span the batch): with x̂ = (x − μ)·rstd recomputed (an
    add, a product) and h = g·γ (a product when affine),

        input     rstd · (h − mean(h) − x̂ · mean(h·x̂)): the product h·x̂, two sums, two
                  subtractions, two products per element, and the two means' divisions
                  per set
        weights   dγ = Σ g·x̂ (a product, an add), dβ = Σ g (an add) per element
    """
    m, k = elements, sets
    work = Work()
    if needs.input:
        work = Work(additions=4 * m, multiplications=4 * m + (m if affine else 0), divisions=2 * k)
    if affine and needs.weights:
        recompute = Work() if needs.input else Work(additions=m, multiplications=m)
        work = work + recompute + Work(multiplications=m, additions=2 * m)
    return work


class Normalisation(Layer):
    """y = (x − μ) / √(σ² + ε) · γ + β, μ and σ² (biased, as PyTorch) computed from the
    sample at inference over each normalisation set; γ, β per channel when affine."""

    def out_shape(self, x: Shape) -> Shape:
        self.sets(x)
        return x

    def sets(self, x: Shape):
        """(number of normalisation sets, elements in each) of one sample."""
        raise NotImplementedError

    def params(self, x: Shape):
        return 2 * x.channels if self.affine else 0

    def connections(self, x: Shape, y: Shape):
        """Every output reads every input of its set, plus its bias β when affine."""
        k, s = self.sets(x)
        return y.numel * s + (y.numel if self.affine else 0)

    def work(self, x: Shape, y: Shape) -> Work:
        k, s = self.sets(x)
        return normalisation_work(y.numel, k, self.affine)

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        k, s = self.sets(x)
        return Backward(work=normalisation_backward(y.numel, k, self.affine, needs))

    def saved(self, x: Shape, y: Shape, needs: Needs) -> Saved:
        """native_layer_norm / native_group_norm: the input, and a mean and 1/std per set."""
        if not needs.any:
            return NOTHING
        k, s = self.sets(x)
        return Saved(inputs=(0,), extras=(Extra("mean and 1/std", 2 * k),))

    def init_weights(self, x: Shape, rng, dtype) -> dict:
        """gamma, beta (C,) when affine (PyTorch's weight and bias), drawn around 1 and 0."""
        if not self.affine:
            return {}
        from .npkit import normal

        c = x.channels
        gamma = normal(rng, (c,), dtype, 0.1)
        gamma += gamma.dtype.type(1)
        return {"gamma": gamma, "beta": normal(rng, (c,), dtype, 0.1)}

    def workspace(self, x: Shape, batch: int = 1):
        """The means, then the variances (turned into 1/√(σ² + ε) in place): one value per
        set and sample."""
        k, s = self.sets(x)
        return batch * k

    def grouped(self, x):
        """The array (N, C, …) viewed so that each set is the cells of ``reduced_axes``."""
        raise NotImplementedError

    def reduced_axes(self, ndim: int) -> tuple:
        """The axes of :meth:`grouped`'s view that one set spans (``ndim``: the array's)."""
        raise NotImplementedError

    def forward(self, x, weights, ops):
        """μ over the set's axes, y = x − μ (the output buffer), σ² = Σ y² / s by an einsum
        (no squared copy), y ·= 1/√(σ² + ε), then y · γ + β per channel (axis 1)."""
        return self._normalise(x, weights, keep=False)[0]

    def _normalise(self, x, weights, keep: bool):
        """(y, μ, 1/√(σ² + ε)), the statistics with the view's reduced axes kept (None
        unless ``keep``)."""
        import numpy as np

        y = np.empty(x.shape, dtype=x.dtype)
        mean, rstd = standardise(self.grouped(x), self.grouped(y), self.reduced_axes(x.ndim),
                                 self.eps, keep)
        if self.affine:
            shape = (1, -1) + (1,) * (x.ndim - 2)
            y *= weights["gamma"].reshape(shape)
            y += weights["beta"].reshape(shape)
        return y, mean, rstd

    def train_workspace(self, x, batch, itemsize) -> int:
        return 0  # the means and variances are the statistics kept (the timeline's extras)

    def train_forward(self, x, weights, ops):
        """The forward, keeping each set's mean and 1/std (native_layer_norm's return)."""
        y, mean, rstd = self._normalise(x, weights, keep=True)
        return y, {"mean and 1/std": (mean, rstd)}

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """native_layer_norm_backward / native_group_norm_backward over each set
        (npgrad.normalise_backward), from the saved input and statistics."""
        from .npgrad import normalise_backward

        gamma = weights["gamma"] if self.affine else None
        mean, rstd = tape.cache["mean and 1/std"]
        return normalise_backward(tape.x, grad, mean, rstd, gamma,
                                  self.grouped, self.reduced_axes(grad.ndim), needs.input,
                                  needs.weights)

    def backward_workspace(self, x, y, needs, batch, itemsize) -> int:
        """x̂ made again (input-sized), and for the input's gradient two values per set
        for the means."""
        k, s = self.sets(x)
        return itemsize * (batch * x.numel + (2 * batch * k if needs.input else 0))


def standardise(v, yv, axes: tuple, eps: float, keep: bool):
    """yv = (v − μ) / √(σ² + ε), μ and the biased σ² over ``axes`` of the view ``v``: y − μ
    into the output buffer, σ² = Σ y² / s by an einsum (no squared copy), then the scaling
    in place.  Returns (μ, 1/√(σ² + ε)) with the reduced axes kept, when ``keep`` (else
    (None, None): the mean is dropped before the variance is made)."""
    import numpy as np

    mean = v.mean(axis=axes, keepdims=True)
    np.subtract(v, mean, out=yv)
    if not keep:
        mean = None
    letters = "abcdefghij"[:yv.ndim]
    kept = "".join(c for i, c in enumerate(letters) if i not in axes)
    var = np.einsum(f"{letters},{letters}->{kept}", yv, yv)
    count = 1
    for a in axes:
        count *= yv.shape[a]
    t = yv.dtype.type
    var /= t(count)
    var += t(eps)
    np.sqrt(var, out=var)
    np.reciprocal(var, out=var)
    rstd = np.expand_dims(var, axes)
    yv *= rstd
    return (mean, rstd) if keep else (None, None)


def _affine(default: bool):
    return attr(boolean, default, "a trainable scale γ and shift β per channel")


@register
@dataclass(frozen=True)
class LayerNorm(Normalisation):
    """Layer norm over the channels at each position (ConvNeXt's LayerNorm2d, or
    nn.LayerNorm on a channels-last map), or over the features of a vector (nn.LayerNorm):
    one set per position of C values.  params = 2·C when affine (the default)."""
    type_name = "layernorm"
    eps: float = attr(number, 1e-5, "ε added to the variance (ConvNeXt: 1e-6)")
    affine: bool = _affine(True)

    def sets(self, x: Shape):
        return x.numel // x.channels, x.channels

    def grouped(self, x):
        return x

    def reduced_axes(self, ndim: int) -> tuple:
        return (1,)


@register
@dataclass(frozen=True)
class GroupNorm(Normalisation):
    """Group norm (Wu & He 2018; PyTorch's GroupNorm): the C channels split into
    ``groups`` groups of C / groups, each normalised over its channels and every position
    (on a vector, over its features).  params = 2·C when affine (the default)."""
    type_name = "groupnorm"
    groups: int = attr(positive_int, doc="number of channel groups (C must divide by it)")
    eps: float = attr(number, 1e-5, "ε added to the variance")
    affine: bool = _affine(True)

    def field_rule(self, x: Shape):
        """Each output depends on every position through its set's statistics."""
        return Whole()

    def sets(self, x: Shape):
        c = x.channels
        if is_known(c) and c % self.groups:
            raise ShapeError(f"channels {c} are not divisible by groups {self.groups}")
        return self.groups, x.numel // self.groups

    def grouped(self, x):
        n, c = x.shape[:2]
        return x.reshape((n, self.groups, c // self.groups) + x.shape[2:])  # a split: a view

    def reduced_axes(self, ndim: int) -> tuple:
        return tuple(range(2, ndim + 1))


@register
@dataclass(frozen=True)
class InstanceNorm(Normalisation):
    """Instance norm (Ulyanov et al. 2016; PyTorch's InstanceNorm1d/2d/3d at inference
    with its default track_running_stats=False): each channel normalised over its own
    positions.  Needs a map.  affine defaults to false, as in PyTorch; params = 2·C when
    set."""
    type_name = "instancenorm"
    eps: float = attr(number, 1e-5, "ε added to the variance")
    affine: bool = _affine(False)

    def field_rule(self, x: Shape):
        """Each output depends on every position through its set's statistics."""
        return Whole()

    def sets(self, x: Shape):
        if x.rank < 2:
            raise ShapeError(f"instancenorm needs a map (channels and positions), got {x}")
        return x.channels, x.numel // x.channels

    def grouped(self, x):
        return x

    def reduced_axes(self, ndim: int) -> tuple:
        return tuple(range(2, ndim))
