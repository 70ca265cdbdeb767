"""What the benchmarks share about their process: the BLAS environment and NumPy's kernel.

Old OpenBLAS builds needed ``OPENBLAS_CORETYPE=Haswell`` and ``OPENBLAS_L2_SIZE`` on some
machines; a current NumPy told so picks its Haswell kernels and loses about half its
matmul speed.  :func:`clean_blas_env` re-executes the benchmark without them (for its own
process only) before NumPy is imported, and says so; ``--keep-blas-env`` measures as-is.
Tests and CI never do this.
"""
from __future__ import annotations

import os
import sys

BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
KEEP_FLAG = "--keep-blas-env"
_MARKER = "ARCHCALC_BENCH_UNSET_BLAS"


def clean_blas_env() -> str:
    """Re-exec without BLAS_VARS unless ``--keep-blas-env`` is given; call before NumPy
    is imported.  Returns the line the benchmark prints about its environment."""
    if "numpy" in sys.modules:  # pragma: no cover - a programming error in a benchmark
        raise RuntimeError("clean_blas_env() must run before numpy is imported")
    if _MARKER in os.environ:
        return f"BLAS environment: unset for this process: {os.environ[_MARKER]}"
    found = {name: os.environ[name] for name in BLAS_VARS if name in os.environ}
    if not found:
        return f"BLAS environment: none of {', '.join(BLAS_VARS)} set"
    shown = ", ".join(f"{k}={v}" for k, v in found.items())
    if KEEP_FLAG in sys.argv:
        return f"BLAS environment: kept as set ({shown}; {KEEP_FLAG})"
    env = {k: v for k, v in os.environ.items() if k not in BLAS_VARS}
    env[_MARKER] = shown
    os.execve(sys.executable, [sys.executable] + sys.argv, env)
    raise AssertionError("unreachable")  # pragma: no cover


def threads_from_argv() -> int:
    """``--threads N`` (default: every CPU) for NumPy's BLAS and torch alike; BLAS reads its
    thread count when NumPy is imported, so this too runs before."""
    threads = os.cpu_count() or 1
    if "--threads" in sys.argv:
        threads = int(sys.argv[sys.argv.index("--threads") + 1])
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ[name] = str(threads)
    return threads


def blas_kernel() -> str:
    """Which BLAS library and kernel NumPy runs, and how that was found: from threadpoolctl
    when installed (an optional extra, never a dependency); else from the OpenBLAS NumPy
    bundles, asked for its core name directly."""
    import numpy  # noqa: F401  (threadpoolctl lists only the libraries already loaded)

    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return f"BLAS (threadpoolctl not installed): {_bundled_openblas_core()}"
    rows = [f"{i.get('internal_api')} {i.get('version')} ({os.path.basename(i.get('filepath', '?'))}) "
            f"kernel {i.get('architecture')}, {i.get('num_threads')} threads"
            for i in threadpool_info() if i.get("user_api") == "blas"]
    return "BLAS (threadpoolctl): " + ("; ".join(rows) or "no BLAS library loaded")


def _bundled_openblas_core() -> str:
    import ctypes
    import glob

    import numpy

    libs = glob.glob(os.path.join(os.path.dirname(numpy.__file__), os.pardir, "numpy.libs", "*openblas*"))
    for path in libs:
        lib = ctypes.CDLL(path)
        for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename"):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return f"NumPy's bundled {os.path.basename(path)} reports kernel {fn().decode()}"
    return f"kernel unknown: no bundled OpenBLAS to ask (NumPy built against {_built_blas(numpy)})"


def _built_blas(numpy) -> str:
    """The BLAS NumPy's build configuration names (NumPy ≥ 1.26), or 'an unknown BLAS'."""
    try:
        blas = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except (TypeError, KeyError):  # NumPy < 1.26 has no mode="dicts"
        return "an unknown BLAS"
    return f"{blas.get('name')} {blas.get('version')}"
