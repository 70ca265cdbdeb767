"""``archcalc verify`` on every bundled model at its declared input size.

    python benchmarks/zoo_verify.py [--batch 1] [--models resnet50,vgg16] [--record]
                                    [--keep-blas-env]

The tests verify every model too (some at smaller inputs); this prints what they do not:
per model the verify seconds (weights, forward and checks), the forward seconds, the
GFLOP/s the forward reaches (2 × MACs / forward seconds), and the measured peak memory
over the predicted one; then the zoo's total seconds.  ``--record`` appends the totals,
with the commit and the machine, to benchmarks/history/zoo_verify.jsonl, so the figure
is tracked from change to change.  A benchmark, not a test: it asserts nothing, but exits
1 if any model disagrees with the engine.
"""
from __future__ import annotations

import _env

ENV_NOTE = _env.clean_blas_env()  # before NumPy is imported (may re-exec this process)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

from archcalc.spec.catalog import bundled_names, load  # noqa: E402
from archcalc.numeric.verify import verify  # noqa: E402

HISTORY = Path(__file__).resolve().parent / "history" / "zoo_verify.jsonl"


def record(entry: dict) -> None:
    HISTORY.parent.mkdir(exist_ok=True)
    with HISTORY.open("a", encoding="utf-8") as f:
        f.write(json.dumps(entry, ensure_ascii=False) + "\n")


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parent, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--models", help="comma-separated names (default: every bundled model)")
    parser.add_argument("--record", action="store_true", help=f"append the totals to {HISTORY.name}")
    parser.add_argument(_env.KEEP_FLAG, action="store_true",
                        help="keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE as set")
    args = parser.parse_args()
    names = args.models.split(",") if args.models else bundled_names()
    print(ENV_NOTE)
    print(_env.blas_kernel())
    print(f"{'model':<22} {'rows':>5} {'GMACs':>8} {'verify s':>8} {'forward s':>9} {'GFLOP/s':>8} "
          f"{'peak MiB':>9} {'meas/pred':>9}  verdict")
    failed, per_model = [], {}
    start_all = time.perf_counter()
    forward_total = 0.0
    for name in names:
        start = time.perf_counter()
        result = verify(load(name), batch=args.batch)
        wall = time.perf_counter() - start
        macs = sum(c.engine_macs for c in result.checks)
        seconds = result.forward_seconds
        forward_total += seconds
        per_model[name] = round(wall, 3)
        ratio = result.measured_peak / result.predicted_peak if result.predicted_peak else 0.0
        verdict = "ok" if result.ok else f"{len(result.disagreements())} disagree"
        if not result.ok:
            failed.append(name)
        print(f"{name:<22} {len(result.checks):>5} {macs / 1e9:>8.3f} {wall:>8.2f} {seconds:>9.3f} "
              f"{2 * macs / seconds / 1e9:>8.1f} {result.predicted_peak / 2**20:>9.1f} "
              f"{ratio:>9.3f}  {verdict}", flush=True)
    total = time.perf_counter() - start_all
    print(f"\nzoo total: {total:.1f} s for {len(names)} models at batch {args.batch} "
          f"(forwards alone {forward_total:.1f} s)")
    if failed:
        print(f"disagreements in: {', '.join(failed)}")
    if args.record:
        record({"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "commit": commit(),
                "machine": f"{platform.machine()} {os.cpu_count()} cpus {platform.python_version()}",
                "env": ENV_NOTE, "batch": args.batch, "models": len(names),
                "total_s": round(total, 2), "forward_s": round(forward_total, 2),
                "failed": failed, "per_model_s": per_model})
        print(f"recorded in {HISTORY}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
