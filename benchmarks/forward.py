"""Forward-pass speed of archcalc's NumPy kernels, next to PyTorch CPU and a plain matmul.

    python benchmarks/forward.py [--repeat 3] [--models lenet5,alexnet,vgg16]

Prints, per model: NumPy forward seconds (best of --repeat, weights made beforehand), torch's
seconds on the same model, input, weights and thread count when torch is installed, and their
ratio; then the GFLOP/s the conv layers reach (2 × MACs / seconds) next to a large float32
matmul on this machine.  A benchmark, not a test: it asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

from archcalc.spec.catalog import load
from archcalc.numeric.runner import Runner, make_input
from archcalc.core.report import analyse


def numpy_forward(model, x, repeat):
    runner = Runner(seed=0)
    runner.run(model, x)  # makes the weights; also warms up
    best, layer_best, last = float("inf"), None, None
    for _ in range(repeat):
        runner.runs = []
        start = time.perf_counter()
        runner.run(model, x)
        best = min(best, time.perf_counter() - start)
        seconds = [run.seconds for run in runner.runs]
        layer_best = seconds if layer_best is None else list(map(min, layer_best, seconds))
        last = runner.runs
    return best, layer_best, last, runner.weights


def torch_forward(model, x, weights, repeat):
    """The same model in torch.nn.functional, with the NumPy run's weights."""
    import torch
    F = torch.nn.functional

    tw = {path: {k: torch.from_numpy(v) for k, v in w.items()} for path, w in weights.items()}

    def run(t):
        for node in model.layer_nodes():  # the bench models are plain chains
            layer, w = node.layer, tw[node.path]
            kind = layer.type_name
            if kind == "conv":
                pads = layer.padding
                if pads[0][0] != pads[0][1] or pads[1][0] != pads[1][1]:
                    t = F.pad(t, (pads[1][0], pads[1][1], pads[0][0], pads[0][1]))
                    pads = ((0, 0), (0, 0))
                t = F.conv2d(t, w["weight"], w.get("bias"), layer.stride,
                             (pads[0][0], pads[1][0]), layer.dilation, layer.groups)
            elif kind == "maxpool":
                t = F.max_pool2d(t, layer.kernel, layer.stride, tuple(p for p, _ in layer.padding),
                                 layer.dilation, ceil_mode=layer.ceil_mode)
            elif kind == "subsample":
                taps = layer.kernel[0] * layer.kernel[1]
                t = F.avg_pool2d(t, layer.kernel, layer.stride) * (taps * w["weight"])[:, None, None] \
                    + w["bias"][:, None, None]
            elif kind == "lrn":
                t = F.local_response_norm(t, layer.size, layer.alpha, layer.beta, layer.k)
            elif kind == "adaptive_avgpool":
                t = F.adaptive_avg_pool2d(t, layer.output)
            elif kind == "dense":
                t = F.linear(t.flatten(1), w["weight"], w.get("bias"))
            elif kind == "rbf":
                t = ((t.flatten(1)[:, None, :] - w["weight"][None]) ** 2).sum(-1)
            elif kind == "softmax":
                t = F.softmax(t, dim=1)
            elif kind in ("dropout",):
                pass
            elif kind == "flatten":
                t = t.flatten(1)
            else:
                raise SystemExit(f"benchmark: no torch translation for {kind}")
            act = getattr(layer, "activation", None)
            if act:
                t = {"relu": F.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
                     "relu6": F.relu6, "softmax": lambda v: F.softmax(v, dim=1)}[act](t)
        return t

    tx = torch.from_numpy(x)
    with torch.inference_mode():
        run(tx)
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            out = run(tx)
            best = min(best, time.perf_counter() - start)
    return best, out.numpy()


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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--models", default="lenet5,alexnet,vgg16")
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
    threads = os.cpu_count()
    if torch is not None:
        torch.set_num_threads(threads)
    print(f"threads: {threads} (NumPy's BLAS and torch); float32, batch 1")
    peak = matmul_gflops()
    print(f"large float32 matmul (4096³): {peak:.1f} GFLOP/s\n")
    print(f"{'model':10} {'numpy s':>9} {'torch s':>9} {'numpy/torch speed':>18} "
          f"{'conv GFLOP/s':>13} {'of matmul':>10}")
    for name in args.models.split(","):
        model = load(name)
        x = make_input(model.input_shape, 1, 0, "float32")
        seconds, layer_seconds, runs, weights = numpy_forward(model, x, args.repeat)
        report = analyse(model)
        conv = [(r, s) for r, s in zip(report.layers, layer_seconds) if r.type.startswith("conv")]
        conv_flops = 2 * sum(r.macs for r, _ in conv)
        conv_seconds = sum(s for _, s in conv)  # each layer's best of --repeat
        gflops = conv_flops / conv_seconds / 1e9 if conv_seconds else float("nan")
        torch_s, speed = "-", "-"
        if torch is not None:
            t, out = torch_forward(model, x, weights, args.repeat)
            np.testing.assert_allclose(out, runs[-1].output, rtol=1e-3, atol=1e-4)
            torch_s, speed = f"{t:.4f}", f"{t / seconds:.2f}×"
        print(f"{name:10} {seconds:9.4f} {torch_s:>9} {speed:>18} {gflops:13.1f} {gflops / peak:10.0%}")
    print("\nnumpy/torch speed = torch seconds / NumPy seconds (1.0× = as fast as torch)")


if __name__ == "__main__":
    main()
