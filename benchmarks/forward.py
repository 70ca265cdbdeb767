"""Forward-pass speed of archcalc's NumPy kernels, next to PyTorch CPU and a plain matmul.

    python benchmarks/forward.py [--repeat 3] [--batch 1,8] [--models vgg16,resnet50]
                                 [--threads N] [--keep-blas-env]

Prints the BLAS environment and kernel, then per model and batch: NumPy forward seconds
(best of --repeat, weights made beforehand), torch's seconds on the same model, input,
weights and thread count when torch is installed, their ratio, the largest output
difference relative to the largest output (the worst of the model's outputs), and the
GFLOP/s the conv layers reach (2 × MACs / seconds of the conv rows) next to a large
float32 matmul on this machine.  Default: every bundled model.  torch runs each layer
type through its inference form in tests/torch_forms.py (``INFERENCE_FORMS``: the torch
tests' forms with batch norm on its running statistics, dropout and stochastic depth the
identity), in ``torch.inference_mode()``.  A benchmark, not a test: it asserts nothing,
but exits 1 if an output differs from torch's.
"""
from __future__ import annotations

import _env

ENV_NOTE = _env.clean_blas_env()  # before NumPy is imported (may re-exec this process)
THREADS = _env.threads_from_argv()

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

# A script's sys.path starts at its own folder (benchmarks/); the project root goes next,
# ahead of site-packages, for tests/torch_forms.py (the one table of each layer type's
# torch form, shared with the torch tests; the installed package has no tests) and so
# that the archcalc measured is this checkout's.
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from archcalc.core.graph import walk  # noqa: E402
from archcalc.core.report import analyse  # noqa: E402
from archcalc.numeric.runner import Runner, make_input  # noqa: E402
from archcalc.spec.catalog import bundled_names, load  # noqa: E402

#: float32 end to end, summation orders differ: the largest output difference, relative to
#: the largest output (deep random-weight nets grow their logits, so a per-element rtol
#: would judge cancellation noise), stays below this
TOLERANCE = 1e-3


def numpy_forward(model, x, repeat):
    """(best seconds, best seconds per row, the model's outputs by name, weights by path).
    Each tensor lives until its last reader, as in a real runtime (keep_outputs=False)."""
    runner = Runner(seed=0, keep_outputs=False)
    runner.run(model, x)  # makes the weights; also warms up
    best, layer_best, out = float("inf"), None, None
    for _ in range(repeat):
        runner.runs = []
        start = time.perf_counter()
        out = runner.run(model, x)
        best = min(best, time.perf_counter() - start)
        seconds = [run.seconds for run in runner.runs]
        layer_best = seconds if layer_best is None else list(map(min, layer_best, seconds))
    return best, layer_best, out, runner.weights


def torch_forward(model, x, weights, repeat):
    """(best seconds, the model's outputs by name) in torch: the graph walked as the
    runner walks it (one traversal, values dropped after their last reader), each node
    through its inference form in tests/torch_forms.py with the NumPy run's weights."""
    import torch

    from tests.torch_forms import INFERENCE_FORMS

    tensors = {path: {k: torch.from_numpy(v) for k, v in w.items()} for path, w in weights.items()}

    def step(node, inputs):
        return INFERENCE_FORMS[node.layer.type_name](node.layer, tensors[node.path], list(inputs), None)

    tx = torch.from_numpy(x)
    with torch.inference_mode():
        walk(model, tx, step, free=True)  # warm-up
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            values = walk(model, tx, step, free=True)
            best = min(best, time.perf_counter() - start)
    return best, {name: values[name].numpy() for name in model.outputs}


def relative_difference(ours, theirs) -> float:
    """max |Δ| / max |y|: NaN (never within TOLERANCE) when the shapes differ."""
    if ours.shape != theirs.shape:
        return float("nan")
    return float(np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs)))


def matmul_gflops(n=4096, repeat=3):
    rng = np.random.default_rng(0)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeat))
    return 2 * n ** 3 / best / 1e9


def _timed(f):
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def conv_gflops(model, batch, layer_seconds):
    """2 × the conv rows' MACs over their summed best seconds."""
    report = analyse(model, batch=batch)
    conv = [(r, s) for r, s in zip(report.layers, layer_seconds) if r.type.startswith("conv")]
    seconds = sum(s for _, s in conv)
    return 2 * sum(r.macs for r, _ in conv) / seconds / 1e9 if seconds else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--batch", default="1,8", help="comma-separated batch sizes")
    ap.add_argument("--models", help="comma-separated names (default: every bundled model)")
    ap.add_argument("--threads", type=int, default=THREADS,
                    help="threads for NumPy's BLAS and torch (default: every CPU)")
    ap.add_argument(_env.KEEP_FLAG, action="store_true",
                    help="keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE as set")
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
    threads = THREADS
    if torch is not None:
        torch.set_num_threads(threads)
    print(ENV_NOTE)
    print(_env.blas_kernel())
    print(f"threads: {threads} (NumPy's BLAS and torch{'' if torch else ': not installed'}); float32")
    peak = matmul_gflops()
    print(f"large float32 matmul (4096³): {peak:.1f} GFLOP/s\n")
    print(f"{'model':22} {'batch':>5} {'numpy ms':>9} {'torch ms':>9} {'numpy/torch':>11} "
          f"{'rel |Δ|':>8} {'conv GFLOP/s':>13} {'of matmul':>9}", flush=True)
    differ = []
    for name in args.models.split(",") if args.models else bundled_names():
        model = load(name)
        for batch in map(int, args.batch.split(",")):
            x = make_input(model.input_shape, batch, 0, "float32")
            seconds, layer_seconds, out, weights = numpy_forward(model, x, args.repeat)
            gflops = conv_gflops(model, batch, layer_seconds)
            torch_ms, speed, delta = "-", "-", "-"
            if torch is not None:
                t, expected = torch_forward(model, x, weights, args.repeat)
                torch_ms, speed = f"{t * 1000:.1f}", f"{t / seconds:.2f}×"
                rel = max(relative_difference(out[k], expected[k]) for k in model.outputs)
                delta = f"{rel:.1e}"
                if not rel <= TOLERANCE:
                    differ.append(f"{name} batch {batch}")
            print(f"{name:22} {batch:>5} {seconds * 1000:9.1f} {torch_ms:>9} {speed:>11} {delta:>8} "
                  f"{gflops:13.1f} {gflops / peak:9.0%}", flush=True)
    print("\nnumpy/torch = torch seconds / NumPy seconds (1.0× = as fast as torch)")
    if differ:
        print(f"outputs differ from torch (max |Δ| / max |y| > {TOLERANCE:g}): {', '.join(differ)}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
