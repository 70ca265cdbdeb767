"""Forward-pass speed of archcalc's NumPy kernels, next to PyTorch CPU and a plain matmul.

    python benchmarks/forward.py [--repeat 3] [--batch 1,8] [--models vgg16,resnet50]
                                 [--threads N] [--keep-blas-env]

Prints the BLAS environment and kernel, then per model and batch: NumPy forward seconds
(best of --repeat, weights made beforehand), torch's seconds on the same model, input,
weights and thread count when torch is installed, their ratio, the largest output
difference relative to the largest output, and the GFLOP/s the conv layers reach (2 × MACs / seconds of the conv rows)
next to a large float32 matmul on this machine.  Default: every bundled model.  A
benchmark, not a test: it asserts nothing, but exits 1 if an output differs from torch's.
"""
from __future__ import annotations

import _env

ENV_NOTE = _env.clean_blas_env()  # before NumPy is imported (may re-exec this process)
THREADS = _env.threads_from_argv()

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from archcalc.core.graph import walk  # noqa: E402
from archcalc.core.report import analyse  # noqa: E402
from archcalc.core.shapes import Shape  # noqa: E402
from archcalc.numeric.runner import Runner, make_input  # noqa: E402
from archcalc.spec.catalog import bundled_names, load  # noqa: E402

#: float32 end to end, summation orders differ: the largest output difference, relative to
#: the largest output (deep random-weight nets grow their logits, so a per-element rtol
#: would judge cancellation noise), stays below this
TOLERANCE = 1e-3


def numpy_forward(model, x, repeat):
    """(best seconds, best seconds per row, the model's first output, weights by path)."""
    runner = Runner(seed=0)
    runner.run(model, x)  # makes the weights; also warms up
    best, layer_best, out = float("inf"), None, None
    for _ in range(repeat):
        runner.runs = []
        start = time.perf_counter()
        out = runner.run(model, x)[model.outputs[0]]
        best = min(best, time.perf_counter() - start)
        seconds = [run.seconds for run in runner.runs]
        layer_best = seconds if layer_best is None else list(map(min, layer_best, seconds))
    return best, layer_best, out, runner.weights


class TorchModel:
    """The same model in torch.nn.functional, walked like archcalc's runner (the one graph
    traversal, every node reading its named inputs), with the NumPy run's weights."""

    def __init__(self, model, weights):
        import torch

        self.torch, self.F = torch, torch.nn.functional
        self.model = model
        self.weights = {path: {k: torch.from_numpy(v) for k, v in w.items()} for path, w in weights.items()}
        self.act = {"relu": self.F.relu, "relu6": self.F.relu6, "tanh": torch.tanh,
                    "sigmoid": torch.sigmoid, "softmax": lambda v: self.F.softmax(v, dim=1)}

    def __call__(self, t):
        values = walk(self.model, t, self.node, free=True)
        return values[self.model.outputs[0]]

    def node(self, node, inputs):
        kind, F = node.layer.type_name, self.F
        if kind in ("add", "multiply", "concat", "crop"):
            if kind == "add":
                t = sum(inputs[1:], inputs[0])
            elif kind == "multiply":
                t = inputs[0]
                for other in inputs[1:]:
                    t = t * other.reshape(other.shape + (1,) * (t.ndim - other.ndim))
            elif kind == "concat":
                t = self.torch.cat(inputs, dim=1 + ("channels", "height", "width").index(node.layer.axis))
            else:
                (h, w), (oh, ow) = inputs[0].shape[2:], inputs[1].shape[2:]
                top, left = (h - oh) // 2, (w - ow) // 2
                t = inputs[0][:, :, top:top + oh, left:left + ow]
            act = getattr(node.layer, "activation", None)
            return self.act[act](t) if act else t
        if kind == "upsample":
            layer = node.layer
            sizes = [m for _, m in layer.resized(Shape.of(*inputs[0].shape[1:]))]
            extra = {} if layer.mode == "nearest" else {"align_corners": layer.aligned}
            return F.interpolate(inputs[0], size=sizes, mode=layer.mode, **extra)
        return self.layer(node, inputs[0])

    def _pads(self, layer, t, fill):
        """(t padded where the pads are asymmetric, symmetric (ph, pw) left for torch)."""
        shape = Shape.of(*t.shape[1:])
        pads = layer.geometry(shape).padding
        if all(before == after for before, after in pads):
            return t, (pads[0][0], pads[1][0])
        (top, bottom), (left, right) = pads
        return self.F.pad(t, (left, right, top, bottom), value=fill), (0, 0)

    def layer(self, node, t):
        layer, w, F = node.layer, self.weights.get(node.path, {}), self.F
        kind = layer.type_name
        if kind == "conv":
            t = self._conv(layer, w, t)
        elif kind == "maxpool":
            t, pads = self._pads(layer, t, -float("inf"))
            t = F.max_pool2d(t, layer.kernel, layer.stride, pads, layer.dilation, ceil_mode=layer.ceil_mode)
        elif kind == "avgpool":
            t = self._avgpool(layer, t)
        elif kind == "subsample":
            t, pads = self._pads(layer, t, 0.0)
            taps = layer.window_taps(Shape.of(*t.shape[1:]))
            t = F.avg_pool2d(t, layer.kernel, layer.stride, pads) * (taps * w["weight"])[:, None, None] \
                + w["bias"][:, None, None]
        elif kind == "batchnorm":
            t = F.batch_norm(t, w["running_mean"], w["running_var"], w["gamma"], w["beta"],
                             training=False, eps=layer.eps)
        elif kind == "lrn":
            t = F.local_response_norm(t, layer.size, layer.alpha, layer.beta, layer.k)
        elif kind == "gap":
            t = t.mean(dim=(2, 3), keepdim=True)
        elif kind == "adaptive_avgpool":
            t = F.adaptive_avg_pool2d(t, layer.output)
        elif kind == "dense":
            t = F.linear(t.flatten(1), w["weight"], w.get("bias"))
        elif kind == "rbf":
            t = ((t.flatten(1)[:, None, :] - w["weight"][None]) ** 2).sum(-1)
        elif kind in self.act:
            t = self.act[kind](t)
        elif kind == "flatten":
            t = t.flatten(1)
        elif kind == "conv_transpose":
            fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[t.dim() - 3]
            _, stride, dilation, pads, extra = layer.resolved(Shape.of(*t.shape[1:]))
            t = fn(t, w["weight"], w.get("bias"), stride, pads, extra, layer.groups, dilation)
        elif kind == "pad":
            pads = layer.pads(Shape.of(*t.shape[1:]))
            flat = [v for before, after in reversed(pads) for v in (before, after)]
            t = F.pad(t, flat, mode=layer.mode, **({"value": layer.fill} if layer.mode == "constant" else {}))
        elif kind != "dropout":
            raise SystemExit(f"benchmark: no torch translation for {kind}")
        act = getattr(layer, "activation", None)
        return self.act[act](t) if act else t

    def _conv(self, layer, w, t):
        if layer.connection_table is not None:  # a dense kernel, zero off the table
            weight, groups = w["weight"], 1
        else:
            weight, groups = w["weight"], layer.groups
        t, pads = self._pads(layer, t, 0.0)
        return self.F.conv2d(t, weight, w.get("bias"), layer.stride, pads, layer.dilation, groups)

    def _avgpool(self, layer, t):
        shape = Shape.of(*t.shape[1:])
        pads = layer.geometry(shape).padding
        if not all(before == after for before, after in pads) and not layer.count_include_pad:
            raise SystemExit("benchmark: no torch translation for asymmetric padding "
                             "without count_include_pad")
        t, sym = self._pads(layer, t, 0.0)
        return self.F.avg_pool2d(t, layer.kernel, layer.stride, sym, ceil_mode=layer.ceil_mode,
                                 count_include_pad=layer.count_include_pad)


def torch_forward(model, x, weights, repeat):
    import torch

    run = TorchModel(model, weights)
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
                rel = float(np.max(np.abs(out - expected)) / np.max(np.abs(expected)))
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
