"""Every figure of every bundled model, as the CLI prints it, is pinned by digest.

A change of any table, convention, receptive field, size scan, formula or check verdict
fails here; tests/golden_outputs.py says how to see the difference and how to update the
digests when the change is intended.
"""
import json

import pytest

from tests.golden_outputs import DIGESTS, digest, outputs

EXPECTED = json.loads(DIGESTS.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def current():
    return outputs()


def test_every_pinned_output_is_still_produced(current):
    """The set of pinned outputs neither shrinks nor grows silently."""
    assert sorted(current) == sorted(EXPECTED)


def test_outputs_are_byte_identical(current):
    """Each output's SHA-256 equals the pinned one."""
    changed = sorted(k for k in EXPECTED if k in current and digest(current[k]) != EXPECTED[k])
    assert not changed, (f"{len(changed)} outputs changed, e.g. {changed[:5]}; see them with "
                         f"`python -m tests.golden_outputs --write DIR`")


def test_second_wave_scans_centre_on_each_declared_input():
    """The narrower size scans of tests/golden_outputs.py name bundled models at their
    declared input (a renamed spec or a changed input would otherwise drift silently)."""
    from archcalc.spec.catalog import bundled_names, load
    from tests.golden_outputs import SECOND_WAVE

    assert set(SECOND_WAVE) <= set(bundled_names())
    for name, size in SECOND_WAVE.items():
        assert load(name).input_shape.spatial == (size, size), name
