"""Hostile and careless input never gives a traceback, a hang, a memory blow-up or a
multi-line error (issue #15).

The first part checks the closed forms that replaced per-element loops against those
loops.  The harness below mutates the bundled specs, writes hostile YAML and mutates
command lines, and runs each case in-process through ``archcalc.cli.main`` under a time
and a memory limit.  A case passes when the CLI exits 0 or 1 with output, or 2 with
exactly one stderr line starting ``archcalc: error:``.
"""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from archcalc.shapes import ceildiv

# --- closed forms of what were loops over a user-given size ------------------------------

spans = st.integers(1, 300)


@given(spans, spans)
def test_adaptive_window_total_is_the_sum_of_its_windows(size, out):
    """size + out − gcd(size, out) = Σᵢ ⌈(i+1)·size/out⌉ − ⌊i·size/out⌋ (PyTorch's bins)."""
    from archcalc.layers.pool import adaptive_window_total

    assert adaptive_window_total(size, out) == sum(
        ceildiv((i + 1) * size, out) - (i * size) // out for i in range(out))


@given(spans, spans)
def test_largest_adaptive_bin_is_the_max_of_its_windows(size, out):
    """The receptive field's largest adaptive bin equals the largest window, by brute force."""
    from archcalc.receptive import _largest_bin

    assert _largest_bin(size, out) == max(
        ceildiv((i + 1) * size, out) - (i * size) // out for i in range(out))


@given(spans, st.integers(0, 40).map(lambda n: 2 * n + 1))
def test_lrn_window_total_is_the_sum_of_clipped_windows(channels, size):
    """The closed form equals Σ_c of the window [c − h, c + h] clipped to 0..C−1."""
    from archcalc.layers.norm import lrn_window_total

    half = size // 2
    assert lrn_window_total(channels, size) == sum(
        min(channels - 1, c + half) - max(0, c - half) + 1 for c in range(channels))


def test_closed_forms_take_no_time_on_huge_sizes():
    """10⁹ channels or bins: answered at once (they were loops of 10⁹ steps)."""
    import time

    from archcalc.layers.norm import lrn_window_total
    from archcalc.layers.pool import adaptive_window_total
    from archcalc.receptive import _largest_bin

    started = time.perf_counter()
    assert adaptive_window_total(10**9, 10**9 - 1) == 2 * 10**9 - 2
    assert _largest_bin(10**9, 3) == ceildiv(10**9 + 2, 3)
    assert lrn_window_total(10**9, 5) == 5 * 10**9 - 6
    assert time.perf_counter() - started < 0.1
