"""NumPy forms of the activation functions that need temporaries (SiLU, hard swish, GELU,
ELU, leaky ReLU, Mish...), evaluated block by block.

Each function ``f(a, out, **attrs)`` writes f(a) into ``out`` (which may be ``a`` itself)
for one block of at most :data:`BLOCK` elements, with the block-sized temporaries its
entry in :data:`SCRATCH` states.  :func:`blockwise` walks any array (contiguous or a
strided view, such as a chunk of a conv's output rows) with a buffered ``np.nditer``, so
the temporaries never grow with the tensor: a layer's workspace is
``SCRATCH[name] · min(BLOCK, elements)`` (a strided view adds the iterator's own buffer,
as every buffered NumPy loop does).  Only layer methods that compute numbers import this
module, so ``archcalc table`` never loads NumPy.
"""
from __future__ import annotations

import math

import numpy as np

#: elements per block: NumPy's own buffer size (np.getbufsize()), so the temporaries of a
#: block are of the size of the buffers every ufunc on a strided view already allocates
BLOCK = 8192

_SQRT_HALF = math.sqrt(0.5)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_SQRT_TWO_OVER_PI = math.sqrt(2 / math.pi)


def silu(a, out):
    """x · σ(x) = x / (1 + e^−x)."""
    t = np.negative(a)
    np.exp(t, out=t)
    t += 1
    np.divide(a, t, out=out)


def hardsigmoid(a, out):
    """relu6(x + 3) / 6 (PyTorch's Hardsigmoid)."""
    np.add(a, 3, out=out)
    np.clip(out, 0, 6, out=out)
    out /= 6


def hardswish(a, out):
    """x · relu6(x + 3) / 6 (MobileNetV3; PyTorch's Hardswish)."""
    t = np.add(a, 3)
    np.clip(t, 0, 6, out=t)
    np.multiply(a, t, out=out)
    out /= 6


def leaky_relu(a, out, slope=0.01):
    """x for x ≥ 0, slope · x below: x + (slope − 1) · min(x, 0)."""
    t = np.minimum(a, 0)
    t *= slope - 1
    np.add(a, t, out=out)


def elu(a, out, alpha=1.0):
    """x for x > 0, α (e^x − 1) at and below 0 (PyTorch's ELU)."""
    t = np.minimum(a, 0)
    np.expm1(t, out=t)
    t *= alpha
    np.maximum(a, 0, out=out)
    out += t


def mish(a, out):
    """x · tanh(softplus(x)), softplus(x) = ln(1 + e^x) (computed without overflow)."""
    t = np.logaddexp(a, 0)
    np.tanh(t, out=t)
    np.multiply(a, t, out=out)


def gelu(a, out, approximate="none"):
    """PyTorch's GELU: x · Φ(x) = ½ x (1 + erf(x / √2)), or with ``approximate='tanh'``
    ½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))."""
    if approximate == "tanh":
        t = np.multiply(a, a)
        t *= a
        t *= 0.044715
        t += a
        t *= _SQRT_TWO_OVER_PI
        np.tanh(t, out=t)
    else:
        t = erf_abs(a, _SQRT_HALF)
        np.copysign(t, a, out=t)
    t += 1
    np.multiply(a, t, out=out)
    out *= 0.5


def erf_abs(a, scale=1.0):
    """erf(|a|·scale), a new array, to within a few units in the last place: the series
    erf(z) = 2/√π · z · e^(−z²) · Σₙ (2z²)ⁿ / (1·3·…·(2n + 1)), whose terms are all positive
    (no cancellation), summed until every term is below the dtype's precision (relative to a sum ≥ 1); z is
    capped at 6, where erf is 1 to double precision.  NumPy has no erf, and this needs
    neither SciPy nor a Python loop over elements.  Temporaries: three block-sized arrays
    besides the result."""
    z = np.abs(a)
    z *= scale
    np.minimum(z, 6, out=z)
    two_z2 = np.multiply(z, z)
    two_z2 *= 2
    term = np.ones_like(z)
    total = np.ones_like(z)
    eps = np.finfo(z.dtype).eps / 4
    n = 0
    while True:
        n += 1
        term *= two_z2
        term /= 2 * n + 1
        total += term
        if n % 4 == 0 and term.max(initial=0) <= eps:  # total ≥ 1: relative to it, smaller
            break
    two_z2 *= -0.5
    np.exp(two_z2, out=two_z2)   # e^(−z²)
    total *= two_z2
    total *= z
    total *= _TWO_OVER_SQRT_PI
    return total


FUNCTIONS = {"silu": silu, "hardsigmoid": hardsigmoid, "hardswish": hardswish,
             "leaky_relu": leaky_relu, "elu": elu, "mish": mish, "gelu": gelu}

#: block-sized temporaries each function holds at its peak (gelu: the erf series' four)
SCRATCH = {"silu": 1, "hardsigmoid": 0, "hardswish": 1, "leaky_relu": 1, "elu": 1, "mish": 1,
           "gelu": 4}


def blockwise(name, x, out, **attrs):
    """out = f(x) for the function ``name``, block by block (``out`` may be ``x``)."""
    f = FUNCTIONS[name]
    if out is x:
        with np.nditer(x, flags=["external_loop", "buffered", "zerosize_ok"],
                       op_flags=[["readwrite"]], buffersize=BLOCK, order="K") as it:
            for a in it:
                f(a, a, **attrs)
        return out
    with np.nditer([x, out], flags=["external_loop", "buffered", "zerosize_ok"],
                   op_flags=[["readonly"], ["writeonly"]], buffersize=BLOCK, order="K") as it:
        for a, b in it:
            f(a, b, **attrs)
    return out


def scratch(name, elements) -> int:
    """Elements :func:`blockwise` holds for ``name`` over ``elements`` elements."""
    return SCRATCH[name] * min(BLOCK, elements)
