"""Shapes as immutable values, and window arithmetic written once, in integers.

Every size here may be a Python int or a sympy expression: the rules use ``//`` and
:func:`ceildiv`, never floats, so one code path serves exact and symbolic sizes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Size = Any  # int, or a sympy expression in symbolic mode


def is_known(*sizes: Size) -> bool:
    """True when every size is a concrete int (checks that compare sizes need this)."""
    return all(isinstance(s, int) for s in sizes)


def ceildiv(a: Size, b: Size) -> Size:
    """Integer ceiling division, exact for ints and sympy alike."""
    return -(-a // b)


def same_size(a: Size, b: Size) -> bool:
    """Whether two sizes are equal; on symbols, whether they are equal for every input."""
    if is_known(a, b):
        return a == b
    import sympy  # symbolic path only

    return sympy.simplify(a - b) == 0


def size_max(a: Size, b: Size) -> Size:
    if is_known(a, b):
        return max(a, b)
    import sympy  # symbolic path only

    return sympy.Max(a, b)


def product(sizes) -> Size:
    """Π sizes (1 for none): kernel taps, output positions, elements."""
    n = 1
    for d in sizes:
        n = n * d
    return n


@dataclass(frozen=True)
class Shape:
    """The shape of one sample (no batch axis): (C, L), (C, H, W) or (C, D, H, W) for
    maps, (F,) for features."""

    dims: tuple

    @classmethod
    def of(cls, *dims: Size) -> "Shape":
        return cls(tuple(dims))

    @property
    def rank(self) -> int:
        return len(self.dims)

    @property
    def is_map(self) -> bool:
        """Channels and at least one spatial axis (1-D, 2-D or 3-D)."""
        return self.rank >= 2

    @property
    def channels(self) -> Size:
        return self.dims[0]

    @property
    def spatial(self) -> tuple:
        return self.dims[1:]

    @property
    def numel(self) -> Size:
        return product(self.dims)

    def same_as(self, other: "Shape") -> bool:
        return self.rank == other.rank and all(same_size(a, b) for a, b in zip(self.dims, other.dims))

    def with_channels(self, channels: Size) -> "Shape":
        return Shape((channels,) + self.dims[1:])

    def __str__(self) -> str:
        return "×".join(str(d) for d in self.dims)


def per_axis(value, rank: int, name: str) -> tuple:
    """A layer's per-axis attribute for an input with ``rank`` spatial axes: an int applies
    to every axis; a list must give one value per axis."""
    if isinstance(value, int):
        return (value,) * rank
    if len(value) != rank:
        from ..errors import ShapeError

        raise ShapeError(f"{name} {list(value)} gives {len(value)} value"
                         f"{'s' if len(value) > 1 else ''} for a {rank}-D input "
                         f"(one per spatial axis, or one integer for all)")
    return tuple(value)


def pads_per_axis(padding, rank: int) -> str | tuple:
    """A declared padding ('same', p, [p, …] or [[before, after], …]) as 'same' or explicit
    ((before, after), …) for ``rank`` spatial axes."""
    if padding == "same":
        return padding
    pads = per_axis(padding, rank, "padding")
    return tuple(p if isinstance(p, tuple) else (p, p) for p in pads)


def effective_kernel(kernel: Size, dilation: Size) -> Size:
    return dilation * (kernel - 1) + 1


def window_out(size: Size, kernel: Size, stride: Size, pad_before: Size = 0, pad_after: Size = 0,
               dilation: Size = 1, ceil_mode: bool = False) -> Size:
    """Number of window positions along one axis; one rule for every conv and pool.

    floor mode (PyTorch default, TensorFlow, conv everywhere):
        out = (size + pad_before + pad_after - d·(k-1) - 1) // stride + 1
    ceil mode (Caffe pooling, PyTorch ``ceil_mode=True``): the same with ceiling division,
    then, as PyTorch and Caffe both do, a last window that would start beyond the input
    and its leading padding is dropped.
    The caller checks that the padded input holds at least one window.
    """
    span = size + pad_before + pad_after - effective_kernel(kernel, dilation)
    if not ceil_mode:
        return span // stride + 1
    out = ceildiv(span, stride) + 1
    extent = effective_kernel(kernel, dilation)
    if is_known(stride, pad_after, extent) and stride + pad_after <= extent:
        # (out − 1)·stride ≤ span + stride − 1 < size + pad_before: no window to drop (every
        # usual pool, k ≥ s; the symbolic formula then needs no Piecewise)
        return out
    if is_known(out, size, pad_before, stride):
        if (out - 1) * stride >= size + pad_before:
            out -= 1
        return out
    import sympy  # symbolic path only

    last_start = (out - 1) * stride
    return sympy.Piecewise((out - 1, sympy.Ge(last_start, size + pad_before)), (out, True))


def same_padding(size: Size, kernel: Size, stride: Size, dilation: Size = 1) -> tuple:
    """TensorFlow 'SAME': out = ceil(size / stride), padding split with the extra cell after.

    Returns (out, pad_before, pad_after).
    """
    out = ceildiv(size, stride)
    extent = effective_kernel(kernel, dilation)
    total = (out - 1) * stride + extent - size
    # (out − 1)·stride ≥ size − stride, so the total is ≥ 0 whenever extent ≥ stride: the
    # max is needed only for windows narrower than their stride (and keeps formulas short)
    if not (is_known(extent, stride) and extent >= stride):
        total = size_max(total, 0)
    before = total // 2
    return out, before, total - before
