"""Seconds for sweeps of 10,000 configurations (``archcalc sweep``), and what they save.

Usage: python benchmarks/sweep.py [--quick]

Each case prints its wall time, the node evaluations the memoised walk made and what a
walk per input size would need.  Cases:

* resnet50, 10,000 (H, W) pairs 200..299 × 200..299;
* resnet50, 10,000 square sizes 32..10,031 (few shared states: the hardest for the memo);
* densenet121, 10,000 (H, W) pairs;
* googlenet, 2 option values × 50 sizes × 100 batch sizes (batch costs nothing);
* the baseline: the engine's own ``propagate`` per configuration, timed on 1,000 of the
  square sizes and scaled to 10,000 (``--quick`` skips it);
* the square sizes split over two processes, to see whether more cores would pay
  (``--quick`` skips it).
"""
from __future__ import annotations

import argparse
import sys
import time
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archcalc.analyses.sweep import Totaller, sweep  # noqa: E402
from archcalc.core.engine import propagate  # noqa: E402
from archcalc.core.shapes import Shape  # noqa: E402
from archcalc.spec.catalog import builder, load  # noqa: E402

PAIRS = [(3, h, w) for h in range(200, 300) for w in range(200, 300)]
SQUARES = [(3, s, s) for s in range(32, 10032)]


def timed(label: str, run) -> float:
    start = time.perf_counter()
    extra = run()
    seconds = time.perf_counter() - start
    print(f"{label:<58} {seconds:7.2f} s  {extra}")
    return seconds


def grid(name: str, inputs, options=None, batches=(1,)):
    def run():
        result = sweep(builder(name), options or {}, inputs, batches)
        valid = sum(p.valid for p in result.points)
        return f"{len(result.points):,} configurations, {valid:,} valid, front {len(result.pareto)}"
    return run


def memo_stats(name: str, inputs):
    def run():
        model = load(name)
        t = Totaller(model)
        for dims in inputs:
            t.totals(Shape(dims))
        naive = len(inputs) * len(model.nodes)
        return f"{t.evaluations:,} node evaluations of {naive:,} ({naive / t.evaluations:.0f}× fewer)"
    return run


def naive(name: str, inputs):
    def run():
        model = load(name)
        for dims in inputs:
            propagate(model, Shape(dims))
        return f"{len(inputs):,} walks"
    return run


def _half(args):
    name, inputs = args
    t = Totaller(load(name))
    return [t.totals(Shape(d)) for d in inputs]


def two_processes(name: str, inputs):
    def run():
        with get_context("spawn").Pool(2) as pool:
            pool.map(_half, [(name, inputs[0::2]), (name, inputs[1::2])])
        return "2 processes, interleaved halves (spawn start-up included)"
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the baseline and two processes")
    quick = parser.parse_args().quick
    print(f"python {sys.version.split()[0]}")
    timed("sweep resnet50, 100×100 (H, W) pairs", grid("resnet50", PAIRS))
    timed("  its memoised walk", memo_stats("resnet50", PAIRS))
    timed("sweep resnet50, 10,000 square sizes 32..10031", grid("resnet50", SQUARES))
    timed("  its memoised walk", memo_stats("resnet50", SQUARES))
    timed("sweep densenet121, 100×100 (H, W) pairs", grid("densenet121", PAIRS))
    timed("sweep googlenet, aux_logits × 50 sizes × 100 batches",
          grid("googlenet", [(3, s, s) for s in range(224, 274)], {"aux_logits": [True, False]},
               range(1, 101)))
    if not quick:
        seconds = timed("baseline: propagate per size, resnet50, 1,000 squares",
                        naive("resnet50", SQUARES[:1000]))
        print(f"{'  scaled to 10,000':<58} {10 * seconds:7.2f} s")
        timed("resnet50, 10,000 square sizes in 2 processes", two_processes("resnet50", SQUARES))


if __name__ == "__main__":
    main()
