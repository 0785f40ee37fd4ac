"""Customer-level shocks: integer uniforms compared with integer cutoffs."""

from __future__ import annotations

import numpy as np
import pytest

from sim.rng import SHOCK_SCALE, Streams, cutoff, shocks, unit


def test_shocks_are_independent_uniform_rows():
    u = shocks(Streams(1).step("service", 0), 3, 100_001)  # odd count: the raw words do not split evenly
    assert u.shape == (3, 100_001) and u.dtype == np.uint32
    x = unit(u)
    assert ((0 <= x) & (x < 1)).all()
    assert np.abs(x.mean(axis=1) - 0.5).max() < 0.005
    assert abs(np.corrcoef(x)[0, 1]) < 0.01


@pytest.mark.parametrize("p", [0.0, 1e-6, 0.002, 0.3, 0.999, 1.0])
def test_cutoff_gives_the_probability(p):
    u = shocks(Streams(2).step("choice", 5), 1, 400_000)[0]
    share = np.mean(u < cutoff(p))
    assert abs(share - p) <= 4 * np.sqrt(p * (1 - p) / len(u)) + 1 / SHOCK_SCALE
    assert cutoff(p) == round(p * SHOCK_SCALE)


def test_same_key_same_shocks_other_key_other_shocks():
    a, b = Streams(3).step("wom", 7), Streams(3).step("wom", 7)
    assert np.array_equal(shocks(a, 2, 1000), shocks(b, 2, 1000))
    assert not np.array_equal(shocks(Streams(3).step("wom", 8), 2, 1000), shocks(Streams(3).step("wom", 7), 2, 1000))
