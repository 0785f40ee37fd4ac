"""Shared helpers: small, fast runs composed exactly as the command line would compose them."""

from __future__ import annotations

import functools

import pytest
from hypothesis import settings

from sim.app import load_config
from sim.results import RunResult, simulate

# Property tests are deterministic: the same examples every run, no example database (CI must be reproducible).
settings.register_profile("deterministic", derandomize=True, database=None)
settings.load_profile("deterministic")

SMALL = ["market.customers=3000", "run.progress=false"]


@functools.lru_cache(maxsize=256)
def _run(overrides: tuple[str, ...]) -> RunResult:
    return simulate(load_config(SMALL + list(overrides)))


def run(*overrides: str, seed: int = 0, steps: int = 52) -> RunResult:
    """Run the default scenario at 3,000 customers with these overrides (cached)."""
    return _run(tuple(overrides) + (f"seed={seed}", f"run.steps={steps}"))


@pytest.fixture
def sim_run():
    return run
