"""Wall time of `archcalc table vgg16` next to `python -c pass` (start-up cost).

Usage: python benchmarks/cli_latency.py [--runs N]
Prints the median of N runs of each and their ratio; also whether numpy or sympy got imported.
"""
import argparse
import statistics
import subprocess
import sys
import time


def median_seconds(argv, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    bare = median_seconds([sys.executable, "-c", "pass"], runs)
    table = median_seconds([sys.executable, "-m", "archcalc", "table", "vgg16"], runs)
    heavy = subprocess.run(
        [sys.executable, "-c", "import sys; from archcalc.cli import main; main(['table', 'vgg16']);"
         "print('heavy imports:', [m for m in ('numpy', 'sympy') if m in sys.modules])"],
        capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    print(f"python -c pass          {bare * 1000:8.1f} ms")
    print(f"archcalc table vgg16    {table * 1000:8.1f} ms")
    print(f"ratio                   {table / bare:8.1f} x")
    print(heavy)


if __name__ == "__main__":
    main()
