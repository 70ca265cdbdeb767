"""``archcalc verify`` on every bundled model at its full input size.

    python benchmarks/zoo_verify.py [--batch 1] [--models resnet50,vgg16]

The tests verify every model too; this prints what they do not: per model the forward
seconds, the GFLOP/s the whole forward reaches (2 × MACs / seconds), and the measured peak
memory over the predicted one.  A benchmark, not a test: it asserts nothing, but exits 1
if any model disagrees with the engine.
"""
from __future__ import annotations

import argparse
import sys

from archcalc.spec.catalog import bundled_names, load
from archcalc.numeric.verify import verify


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--models", help="comma-separated names (default: every bundled model)")
    args = parser.parse_args()
    names = args.models.split(",") if args.models else bundled_names()
    print(f"{'model':<22} {'rows':>5} {'GMACs':>8} {'seconds':>8} {'GFLOP/s':>8} "
          f"{'peak MiB':>9} {'meas/pred':>9}  verdict")
    failed = []
    for name in names:
        result = verify(load(name), batch=args.batch)
        macs = sum(c.engine_macs for c in result.checks)
        seconds = result.forward_seconds
        ratio = result.measured_peak / result.predicted_peak if result.predicted_peak else 0.0
        verdict = "ok" if result.ok else f"{len(result.disagreements())} disagree"
        if not result.ok:
            failed.append(name)
        print(f"{name:<22} {len(result.checks):>5} {macs / 1e9:>8.3f} {seconds:>8.3f} "
              f"{2 * macs / seconds / 1e9:>8.1f} {result.predicted_peak / 2**20:>9.1f} "
              f"{ratio:>9.3f}  {verdict}", flush=True)
    if failed:
        print(f"disagreements in: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
