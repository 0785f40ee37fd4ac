"""Customer-level shocks: integer uniforms compared with integer cutoffs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.rng import (
    SHOCK_SCALE,
    STREAMS,
    UNIT,
    Streams,
    binomial_cutoffs,
    count,
    cutoff,
    poisson_cutoffs,
    shocks,
)


def test_shocks_are_independent_uniform_rows():
    u = shocks(Streams(1).step("service", 0), 3, 100_001)  # odd count: the raw words do not split evenly
    assert u.shape == (3, 100_001) and u.dtype == np.uint32
    x = u * UNIT
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


def test_a_stream_is_keyed_by_seed_process_and_step():
    """Reproducibility of recorded runs: stream (seed, process, step) is SeedSequence([seed, index, step + 1])."""
    def raw(key):
        return np.random.Generator(np.random.SFC64(np.random.SeedSequence(key))).integers(0, 2**63, 4)

    s = Streams(7)
    assert np.array_equal(s.step("wom", 3).integers(0, 2**63, 4), raw([7, STREAMS.index("wom"), 4]))
    assert np.array_equal(s.setup("graph").integers(0, 2**63, 4), raw([7, STREAMS.index("graph"), 0]))


def test_cutoff_is_an_integer_and_saturates_outside_zero_one():
    assert cutoff(np.array([0.25])).dtype == np.int64 and cutoff(0.25) == SHOCK_SCALE // 4
    assert cutoff(-0.2) == 0 and cutoff(1.7) == SHOCK_SCALE


@pytest.mark.parametrize("mean", [0.6, 1.0, 2.5, 30.0])
def test_poisson_cutoffs_are_the_cdf_up_to_a_tail_below_2_to_the_minus_33(mean):
    c = poisson_cutoffs(mean)
    k = np.arange(len(c) - 1)
    assert c[-1] == SHOCK_SCALE and (c[:-1] < SHOCK_SCALE).all()  # one unreachable cutoff closes the table
    assert np.abs(c[:-1] - np.rint(stats.poisson.cdf(k, mean) * SHOCK_SCALE)).max() <= 1
    assert stats.poisson.sf(len(c) - 1, mean) <= 2.0**-33 < stats.poisson.sf(len(c) - 2, mean)
    assert poisson_cutoffs(0.0).tolist() == [SHOCK_SCALE]  # no visits at all


def test_binomial_cutoffs_are_the_cdf_rows_padded_with_certainty():
    p, trials = 0.4, 3
    table = binomial_cutoffs(trials, p)
    assert table.shape == (trials + 1, trials)
    for n in range(trials + 1):
        for k in range(trials):
            cdf = sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k + 1)) if k < n else 1.0
            assert abs(int(table[n, k]) - round(cdf * SHOCK_SCALE)) <= 1, (n, k)
        assert (table[n, n:] == SHOCK_SCALE).all()  # a count never exceeds its trials
    assert binomial_cutoffs(1, p).shape == (2, 1) and binomial_cutoffs(0, p).shape == (1, 1)


@pytest.mark.parametrize("mean", [0.6, 30.0])  # few cutoffs and many
def test_count_on_shocks_at_and_below_each_cutoff(mean):
    c = poisson_cutoffs(mean)
    reachable = c[c < SHOCK_SCALE]
    u = np.concatenate([reachable, np.maximum(reachable - 1, 0), [0, SHOCK_SCALE - 1]]).astype(np.uint32)
    expected = [(int(x) >= c).sum() for x in u]
    assert [count(x, c) for x in u] == expected
    assert max(count(x, poisson_cutoffs(0.0)) for x in u) == 0  # a mean of 0 draws nothing
    assert count(np.uint32(SHOCK_SCALE - 1), np.array([SHOCK_SCALE, SHOCK_SCALE])) == 0  # 2^32: never reached
