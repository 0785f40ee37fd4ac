"""Named random streams for common random numbers.

Every process draws from its own stream, re-seeded each step from (seed, process, step).
Customer-level shocks are drawn for the whole population whatever the strategy, so the
same seed gives the same customers, graph and shocks under every strategy: strategies are
compared pair by pair (common random numbers), and one process's draws never shift another's.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from sim.jit import rule

STREAMS = ("population", "graph", "workforce", "service", "wom", "choice", "acquisition")


AHEAD_MIN = 50_000  # customers from which next week's shocks are drawn ahead, on another core


class Streams:
    """Factory of independent generators keyed by process name and step, and of their customer shocks.

    Customer shocks depend on nothing but (seed, process, step, count), so a large market draws next
    week's while this week runs (`draw_ahead`): on a second core the draws cost no time, and the
    values are the same as drawn in turn.
    """

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._ahead: dict[tuple[str, int], Future] = {}

    def setup(self, name: str) -> np.random.Generator:
        """Generator for the set-up of one process (population, graph, workforce)."""
        return self.step(name, -1)

    def step(self, name: str, step: int) -> np.random.Generator:
        """Generator for one process at one step; independent of every other pair."""
        key = [self.seed, STREAMS.index(name), step + 1]
        return np.random.Generator(np.random.SFC64(np.random.SeedSequence(key)))  # fast, passes PractRand

    def shocks(self, name: str, step: int, k: int, n: int) -> np.ndarray:
        """The (k, n) customer shocks of one process at one step (`shocks` of its generator)."""
        ahead = self._ahead.pop((name, step), None)
        return ahead.result() if ahead is not None else shocks(self.step(name, step), k, n)

    def draw_ahead(self, step: int, wanted: dict[str, int], n: int) -> None:
        """Start drawing the shocks of step (k rows per process named in `wanted`) in the background."""
        if n < AHEAD_MIN:
            return  # a small market draws in less time than a hand-over between threads takes
        for name, k in wanted.items():
            self._ahead[(name, step)] = _background().submit(shocks, self.step(name, step), k, n)


_pool: tuple[int, ThreadPoolExecutor] | None = None


def _background() -> ThreadPoolExecutor:
    """One worker thread per process (created again in a forked child, which has no threads)."""
    global _pool
    if _pool is None or _pool[0] != os.getpid():
        _pool = (os.getpid(), ThreadPoolExecutor(1, thread_name_prefix="shocks"))
    return _pool[1]


SHOCK_BITS = 32  # customer-level shocks are 32-bit integers u: u / SHOCK_SCALE is uniform on [0, 1)
SHOCK_SCALE = 1 << SHOCK_BITS
UNIT = 1 / SHOCK_SCALE  # a shock times UNIT is its uniform on [0, 1)


def shocks(rng: np.random.Generator, k: int, n: int) -> np.ndarray:
    """Draw k independent uniform shocks for each of n customers, as 32-bit integers (k, n).

    Why integers: customers draw several shocks a week; halving the generator's raw 64-bit
    output gives them at a fraction of the cost of float draws, and compared with an integer
    cutoff they resolve a probability to 2^-32.
    """
    return rng.bit_generator.random_raw(-(-k * n // 2)).view(np.uint32)[: k * n].reshape(k, n)


def cutoff(p: float | np.ndarray) -> np.ndarray:
    """The integer a shock must fall below to happen with probability p (to within 2^-32).

    Exact at p = 0 (never) and p = 1 (always).
    """
    return np.rint(np.clip(p, 0, 1) * SHOCK_SCALE).astype(np.int64)


def poisson_cutoffs(mean: float) -> np.ndarray:
    """Cutoffs of a Poisson(mean) CDF at 0, 1, ..., up to where the tail is below 2^-33."""
    if mean <= 0:
        return np.array([SHOCK_SCALE], dtype=np.int64)  # always 0
    pmf, cdf, k = np.exp(-mean), [], 0
    total = pmf
    while total < 1 - 2.0**-33 and k < 10_000:
        cdf.append(total)
        k += 1
        pmf *= mean / k
        total += pmf
    cdf.append(1.0)
    return cutoff(np.array(cdf))  # a shock u gives the count #{k : u >= cutoff_k}


def binomial_cutoffs(trials: int, p: float) -> np.ndarray:
    """Cutoffs of Binomial(n, p) CDFs for n = 0..trials, as rows (n, k) padded so that count <= n."""
    from scipy import stats  # set-up only

    n = np.arange(trials + 1)[:, None]
    k = np.arange(max(trials, 1))[None, :]
    cdf = np.where(k < n, stats.binom.cdf(k, n, p), 1.0)
    return cutoff(cdf)


def count(u: int, cutoffs: np.ndarray) -> int:
    """The count a shock draws by inverse CDF: #{k : u >= cutoff_k}.

    Over one distribution's nondecreasing cutoffs (`poisson_cutoffs`, a row of `binomial_cutoffs`);
    cutoffs of 2^32 and above are never reached by a 32-bit shock.
    """
    k = 0
    while k < len(cutoffs) and u >= cutoffs[k]:
        k += 1
    return k


count = rule(count)
