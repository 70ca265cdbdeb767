"""Upsampling (and resampling) by interpolation, in 1-D, 2-D and 3-D: PyTorch's
``nn.Upsample`` / ``F.interpolate`` with modes nearest, linear, bilinear and trilinear."""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from ..core.shapes import Shape, ceildiv, is_known, per_axis, product
from ..core.windows import Refine
from ..core.backward import NOTHING, Backward, Needs, Saved
from ..core.work import Work
from ..errors import ShapeError, SpecError
from ..spec.fields import attr, axes, boolean, choice, optional
from .base import Layer, register, require_map

#: the spatial rank each interpolating mode works on (PyTorch: linear 3-D tensors,
#: bilinear 4-D, trilinear 5-D)
LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}

#: Most strided copies a nearest resampling makes straight into its output (the product
#: over the resized axes of their periods m/gcd(n, m)); past it, one pass per axis.
NEAREST_COPIES = 4096


@register
@dataclass(frozen=True)
class Upsample(Layer):
    """C×n₁×… → C×m₁×…: each output reads its source cells along every axis, PyTorch's
    index rules (aten/src/ATen/native/UpSample.h), exact in rationals here:

    nearest (PyTorch's legacy 'nearest', not 'nearest-exact'): y[j] = x[⌊j·n/m⌋];
    linear modes: source coordinate σ(j) = (j + ½)·n/m − ½, clamped at 0
    (align_corners false), or j·(n − 1)/(m − 1) (align_corners true); y[j] =
    (1 − λ)·x[⌊σ⌋] + λ·x[min(⌊σ⌋ + 1, n − 1)], λ = σ − ⌊σ⌋, separably along each axis.

    m = s·n for ``scale: s`` (integers: a PyTorch float factor only rounds the size and
    skews the source coordinate), or ``size: m``.  An axis whose size is kept is a copy.
    No params, no MACs.  Work: nearest copies (none); the linear modes run one pass per
    resized axis, first axis first, each element it writes (P_a = C·m₁…m_a·n_{a+1}…) the
    lerp x₀ + λ·(x₁ − x₀): one subtraction, one multiply, one add.  Connections: the
    distinct cells each output reads (nearest 1; linear 2 per resized axis, 1 where both
    neighbours are the last cell).
    """
    type_name = "upsample"
    scale: object = attr(optional(axes), None,
                         "integer factor, s or one per spatial axis ([s], [sh, sw], [sd, sh, sw])")
    size: object = attr(optional(axes), None, "output size instead of a scale, m or one per axis")
    mode: str = attr(choice("nearest", *LINEAR_MODES), "nearest",
                     "nearest, or linear (1-D), bilinear (2-D), trilinear (3-D)")
    align_corners: object = attr(optional(boolean), None,
                                 "linear modes: corner cells map to corner cells "
                                 "(PyTorch's flag, default false)")

    def __post_init__(self):
        if self.scale is not None and self.size is not None:
            raise SpecError("give 'scale' or 'size', not both", key="size")
        if self.scale is None and self.size is None:
            raise SpecError("missing 'scale' (an integer factor) or 'size' (the output size)")
        if self.align_corners is not None and self.mode == "nearest":
            raise SpecError("align_corners applies to the linear modes only (PyTorch refuses it "
                            "with mode 'nearest')", key="align_corners")

    @property
    def aligned(self) -> bool:
        return bool(self.align_corners)

    def resized(self, x: Shape) -> tuple:
        """(n, m) per spatial axis: the input size and the output size."""
        require_map(self, x)
        rank = len(x.spatial)
        want = LINEAR_MODES.get(self.mode)
        if want is not None and want != rank:
            fits = next(m for m, r in LINEAR_MODES.items() if r == rank)
            raise ShapeError(f"mode {self.mode} interpolates a {want}-D map; the input "
                             f"{x} is {rank}-D (use mode {fits})")
        if self.scale is not None:
            return tuple((n, n * s) for n, s in zip(x.spatial, per_axis(self.scale, rank, "scale")))
        return tuple(zip(x.spatial, per_axis(self.size, rank, "size")))

    def _kept(self, n, m):
        """Whether an axis keeps its size: True, False, or (symbolic sizes under ``size``)
        the sympy condition n = m."""
        if self.scale is not None:  # m = s·n: kept exactly when s = 1
            return _same_symbolically(n, m)
        if is_known(n, m):
            return n == m
        import sympy  # symbolic path only

        return sympy.Eq(n, m)

    def out_shape(self, x: Shape) -> Shape:
        return Shape.of(x.channels, *(m for _, m in self.resized(x)))

    def connections(self, x: Shape, y: Shape):
        if self.mode == "nearest":
            return y.numel
        total = x.channels
        scales = self._scales(x)
        for (n, m), s in zip(self.resized(x), scales):
            total = total * _choose(self._kept(n, m), m, _edges(n, m, self.aligned, s))
        return total

    def _scales(self, x: Shape) -> tuple:
        """The integer factor of each axis, or None per axis under ``size``."""
        rank = len(x.spatial)
        return per_axis(self.scale, rank, "scale") if self.scale is not None else (None,) * rank

    def passes(self, x: Shape) -> list:
        """Elements each pass of the separable linear forward writes (per sample), first
        axis first, with whether that axis is resized (a sympy condition on symbols)."""
        sizes = [n for n, _ in self.resized(x)]
        out = []
        for a, (n, m) in enumerate(self.resized(x)):
            sizes[a] = m
            count = x.channels
            for s in sizes:
                count = count * s
            out.append((self._kept(n, m), count))
        return out

    def work(self, x: Shape, y: Shape) -> Work:
        """Nearest: copies only.  Linear modes: per element written by each pass over a
        resized axis, the lerp's subtraction and add and its multiply (the class doc)."""
        if self.mode == "nearest":
            return Work()
        elements = 0
        for kept, count in self.passes(x):
            elements = elements + _choose(kept, 0, count)
        return Work(additions=2 * elements, multiplications=elements)

    def backward(self, x: Shape, y: Shape, needs: Needs) -> Backward:
        """Nearest (upsample_nearest_backward): each input cell sums the gradients of the
        outputs that copy it, an add per output but the first into each cell read:
        output − C·Π min(n, m) (shrinking reads m of the n cells).  Linear modes, each pass
        in reverse: every element's gradient times (1 − λ) and times λ, both added into
        the gradient of the cells it read (2 multiplies and 2 adds per element written by
        the forward's pass; upsample_*_backward zeroes the input's gradient and adds)."""
        if not needs.input:
            return Backward()
        if self.mode == "nearest":
            read = x.channels * product(_smaller(n, m) for n, m in self.resized(x))
            return Backward(work=Work(additions=y.numel - read))
        elements = 0
        for kept, count in self.passes(x):
            elements = elements + _choose(kept, 0, count)
        return Backward(work=Work(additions=2 * elements, multiplications=2 * elements))

    def saved(self, x: Shape, y: Shape, needs: Needs) -> Saved:
        return NOTHING  # the backward reads the sizes only (autograd keeps no tensor)

    def field_rule(self, x: Shape):
        """Per axis (docs/receptive-fields.md, "Upsampling"): nearest to m cells from n,
        q = n/m = a/b in lowest terms: pitch q, shift −(b − 1)/(2b) (the grid through the
        mean centre of the units copying one source), no growth.  Linear: pitch q (or
        (n − 1)/(m − 1) with align_corners), shift σ(0) unclamped, growth one input jump
        when some unit interpolates between two distinct cells.  A kept axis: identity."""
        pitch, shift, grow = [], [], []
        for n, m in self.resized(x):
            p, s, g = _axis_rule(n, m, self.mode, self.aligned)
            pitch.append(p)
            shift.append(s)
            grow.append(g)
        return Refine(tuple(pitch), tuple(shift), tuple(grow))

    # --- numeric core -------------------------------------------------------------------

    def separable(self, x: Shape) -> bool:
        """Whether the forward runs one pass per resized axis: always for the linear
        modes; for nearest when the sizes are not integer multiples and the strided
        copies straight into the output would number more than NEAREST_COPIES."""
        if self.mode != "nearest":
            return True
        pairs = self.resized(x)
        if all(m % n == 0 for n, m in pairs):
            return False
        copies = 1
        for n, m in pairs:
            copies *= m // math.gcd(n, m)
        return copies > NEAREST_COPIES

    def workspace(self, x: Shape, batch: int = 1) -> int:
        """A single pass writes the output alone (no index arrays: strided views).  One
        pass per resized axis allocates a new array per pass, the last one the output, and
        frees the previous pass's array after the pass: while pass a runs, the previous
        array and its own are held, so the peak besides the output (which exists only in
        the last pass) is max(max over earlier passes of P_{a−1} + P_a − P_out, P_{last−1})."""
        if not self.separable(x):
            return 0
        active = [count for kept, count in self.passes(x) if not kept]
        if not active:
            return 0
        output = active[-1]
        peak = max((active[i - 1] if i else 0) + count for i, count in enumerate(active))
        return batch * (peak - output)

    def forward(self, x, weights, ops):
        """Nearest: one broadcast copy (integer scales) or strided copies of residue
        classes.  Linear: per resized axis, the lerp x₀ + λ·(x₁ − x₀) on strided views
        (npresample.interpolate_linear).  Interpolation weights are fixed, not trainable:
        no MACs."""
        from .npresample import interpolate_linear, interpolate_nearest

        shape = Shape.of(*x.shape[1:])
        pairs = self.resized(shape)
        if self.mode == "nearest":
            return interpolate_nearest(x, pairs, self.separable(shape))
        return interpolate_linear(x, pairs, self.aligned)

    def backward_numpy(self, tape, grad, weights, needs, ops):
        """upsample_*_backward: the forward's passes in reverse, each output's gradient
        added into the cells it read, times its weight (npgrad.upsample_backward)."""
        from .npgrad import upsample_backward

        if not needs.input:
            return None, {}
        return upsample_backward(grad, self.resized(tape.in_shape), self.mode, self.aligned), {}

    def backward_workspace(self, x, y, needs, batch, itemsize) -> int:
        from .npgrad import upsample_workspace

        if not needs.input:
            return 0
        return upsample_workspace(x, self.resized(x), self.mode, batch, itemsize)


def _same_symbolically(n, m) -> bool:
    if is_known(n, m):
        return n == m
    import sympy  # symbolic path only

    return sympy.simplify(n - m) == 0


def _smaller(n, m):
    """min(n, m) for ints, or sympy's Min on symbols."""
    if is_known(n, m):
        return min(n, m)
    import sympy  # symbolic path only

    return sympy.Min(n, m)


def _choose(kept, if_kept, if_resized):
    """``if_kept`` when the axis keeps its size, else ``if_resized`` (a Piecewise when the
    answer depends on a symbolic size)."""
    if kept is True:
        return if_kept
    if kept is False:
        return if_resized
    import sympy  # symbolic path only

    return sympy.Piecewise((if_kept, kept), (if_resized, True))


def _edges(n, m, aligned: bool, scale=None):
    """Σ over the m outputs of a resized axis of the distinct cells each reads: 2, but 1
    for the outputs whose two neighbours are both the last cell (⌊σ⌋ = n − 1), and 1 for
    every output when n = 1.

    align_corners false: σ(j) ≥ n − 1 ⟺ j ≥ b = ⌈(2mn − m − n)/(2n)⌉, so the total is
    2b + (m − b) = m + b; for m = s·n, b = s·n − ⌊(s + 1)/2⌋ (the last ⌊(s + 1)/2⌋ outputs
    read the last cell only).  align_corners true: only the last output (m ≥ 2: 2m − 1);
    a single output reads cells 0 and 1 (weight 0 on the second), 2."""
    if aligned:
        resized = 2 * m - 1 if not is_known(m) or m >= 2 else 2
    elif scale is not None:
        resized = 2 * m - (scale + 1) // 2
    else:
        resized = m + ceildiv(2 * m * n - m - n, 2 * n)
    if is_known(n):
        return m if n == 1 else resized
    import sympy  # symbolic path only

    return sympy.Piecewise((m, sympy.Eq(n, 1)), (resized, True))


def source(n: int, m: int, j: int, aligned: bool) -> Fraction:
    """The (clamped) source coordinate σ(j) of output j of a linear mode, exact."""
    if aligned:
        return Fraction(j * (n - 1), m - 1) if m > 1 else Fraction(0)
    return max(Fraction((2 * j + 1) * n - m, 2 * m), Fraction(0))


def interpolates(n: int, m: int, aligned: bool) -> bool:
    """Whether some output of a linear mode mixes two distinct cells with weights
    strictly between 0 and 1 (0 < λ and ⌊σ⌋ < n − 1).  The unclamped σ is an arithmetic
    progression, so looking at the first two outputs strictly inside (0, n − 1) suffices:
    if both are integers its step is, and so is every later one."""
    if n == 1 or n == m:
        return False
    if aligned:
        inside = range(1, m - 1)                  # σ(j) ∈ (0, n − 1) ⟺ 0 < j < m − 1
    else:
        first = (m - n) // (2 * n) + 1            # σ > 0 ⟺ (2j + 1)·n > m
        last = ceildiv(2 * m * n - m - n, 2 * n) - 1  # σ < n − 1
        inside = range(max(first, 0), min(last, m - 1) + 1)
    return any(source(n, m, j, aligned).denominator != 1 for j in inside[:2])


def _axis_rule(n: int, m: int, mode: str, aligned: bool) -> tuple:
    """(pitch, shift, grow) of one axis, in input jumps (see Upsample.field_rule)."""
    if n == m:
        return Fraction(1), Fraction(0), Fraction(0)
    q = Fraction(n, m)
    if mode == "nearest":
        return q, -Fraction(q.denominator - 1, 2 * q.denominator), Fraction(0)
    grow = Fraction(1 if interpolates(n, m, aligned) else 0)
    if aligned:
        return (Fraction(n - 1, m - 1) if m > 1 else q), Fraction(0), grow
    return q, (q - 1) / 2, grow


__all__ = ["LINEAR_MODES", "Upsample", "interpolates", "source"]
