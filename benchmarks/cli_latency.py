"""Wall time of `archcalc table vgg16` next to `python -c pass` (start-up cost).

Usage: python benchmarks/cli_latency.py [--runs N]
Prints the median of N runs of each, their ratio (target ≤ 2.5×), and which optional
heavy modules the table path imported.  Both commands run from this checkout, with
bytecode caching on: PYTHONDONTWRITEBYTECODE, if set, is dropped for the measured
processes (an installed tool has compiled bytecode; without it every start compiles
archcalc from source), and one unmeasured run of each writes the caches.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 2.5
#: modules the table path should not need (numeric core, symbolic mode, other renderers)
HEAVY = ("numpy", "sympy", "tabulate", "importlib.metadata", "json", "csv")


def child_env() -> tuple[dict, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if env.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
        return env, "bytecode caches: on (PYTHONDONTWRITEBYTECODE dropped for the measured processes)"
    return env, "bytecode caches: on"


def median_seconds(argv, runs, env):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env, cwd=ROOT)  # writes caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    env, note = child_env()
    bare = median_seconds([sys.executable, "-c", "pass"], runs, env)
    table = median_seconds([sys.executable, "-m", "archcalc", "table", "vgg16"], runs, env)
    probe = ("import sys, io, contextlib; from archcalc.cli import main\n"
             "with contextlib.redirect_stdout(io.StringIO()): main(['table', 'vgg16'])\n"
             f"print([m for m in {HEAVY!r} if m in sys.modules])")
    heavy = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                           env=env, cwd=ROOT).stdout.strip().splitlines()[-1]
    print(note)
    print(f"python -c pass          {bare * 1000:8.1f} ms   (median of {runs})")
    print(f"archcalc table vgg16    {table * 1000:8.1f} ms")
    print(f"ratio                   {table / bare:8.2f} ×   (target ≤ {TARGET:g} ×)")
    print(f"optional heavy imports on the table path: {heavy}")


if __name__ == "__main__":
    main()
