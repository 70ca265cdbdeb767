"""Shared test set-up: hypothesis profiles (CI runs derandomized, so a red run replays)."""
import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", derandomize=True, max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


import pytest


@pytest.fixture(autouse=True)
def _no_terminal_width(monkeypatch):
    """Text tables fit $COLUMNS when it is set: tests see the width of a pipe (100)
    unless they set it themselves."""
    monkeypatch.delenv("COLUMNS", raising=False)
