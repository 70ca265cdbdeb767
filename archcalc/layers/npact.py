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

import functools
import math

import numpy as np

#: elements per block: NumPy's own buffer size (np.getbufsize()), so the temporaries of a
#: block are of the size of the buffers every ufunc on a strided view already allocates
BLOCK = 8192

_SQRT_HALF = math.sqrt(0.5)
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
        t += 1
        np.multiply(a, t, out=out)
        out *= 0.5
    else:
        np.multiply(a, normal_cdf(a), out=out)


# erfc(z) = e^(−z²) · g(z), where g = e^(z²)·erfc(z) is smooth and slowly varying: over
# z ∈ [0, 6], written in t = 1 / (1 + z/2) and t mapped onto u ∈ [−1, 1], it is a polynomial
# in u to within 1e-14 at degree 20 (1e-8 at 9), interpolated at Chebyshev nodes from
# math.erfc when first needed (no constants copied from elsewhere).  Beyond z = 6, where
# erfc < 2.2e-17, g(6) stands in: the absolute error stays below 1e-17.
_ERFC_ZMAX = 6.0
_ERFC_T_MIN = 1 / (1 + _ERFC_ZMAX / 2)
_ERFC_DEGREE = {4: 9, 8: 20}  # by element size: float32 and float64


@functools.lru_cache(maxsize=None)
def _erfc_polynomial(degree: int) -> tuple:
    """g's coefficients in powers of u, the constant first."""
    from numpy.polynomial import chebyshev

    def g(u):
        t = _ERFC_T_MIN + (u + 1) * (1 - _ERFC_T_MIN) / 2
        return np.array([math.erfc(z) * math.exp(z * z) for z in 2 * (1 - t) / t])

    return tuple(float(c) for c in chebyshev.cheb2poly(chebyshev.chebinterpolate(g, degree)))


def erfc_abs(a, scale=1.0):
    """erfc(|a|·scale), a new array in a's dtype, relatively accurate to about 20 units in
    the last place at z = 6 (the rounding of z² in e^(−z²)), better below.  NumPy has no
    erf; this needs neither SciPy nor a loop over elements.  Temporaries: two arrays
    besides the result."""
    t = a.dtype.type
    z = np.abs(a)
    z *= t(scale)
    e = np.multiply(z, z)
    np.negative(e, out=e)
    np.exp(e, out=e)                          # e^(−z²)
    np.minimum(z, t(_ERFC_ZMAX), out=z)
    z *= t(0.5)
    z += t(1)
    np.reciprocal(z, out=z)                   # t = 1 / (1 + z/2)
    z *= t(2 / (1 - _ERFC_T_MIN))
    z -= t(2 * _ERFC_T_MIN / (1 - _ERFC_T_MIN) + 1)   # u
    coefficients = _erfc_polynomial(_ERFC_DEGREE.get(a.dtype.itemsize, 20))
    g = np.full_like(z, coefficients[-1])
    for c in coefficients[-2::-1]:            # Horner
        g *= z
        g += t(c)
    g *= e
    return g


def normal_cdf(a):
    """Φ(a) = ½ erfc(−a/√2), a new array: ½ erfc(|a|/√2) below zero, one minus that from
    zero up, so the lower tail keeps its relative precision (no 1 + erf cancellation).
    Temporaries: three arrays and a boolean mask besides the result."""
    phi = erfc_abs(a, _SQRT_HALF)
    phi *= a.dtype.type(0.5)
    np.subtract(1, phi, out=phi, where=a >= 0)
    return phi


FUNCTIONS = {"silu": silu, "hardsigmoid": hardsigmoid, "hardswish": hardswish,
             "leaky_relu": leaky_relu, "elu": elu, "mish": mish, "gelu": gelu}

#: block-sized temporaries each function holds at its peak (gelu: erfc's three)
SCRATCH = {"silu": 1, "hardsigmoid": 0, "hardswish": 1, "leaky_relu": 1, "elu": 1, "mish": 1,
           "gelu": 3}


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
