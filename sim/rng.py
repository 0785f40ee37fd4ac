"""Named random streams for common random numbers.

Every process draws from its own stream, re-seeded each step from (seed, process, step).
Customer-level shocks are drawn for the whole population whatever the strategy, so the
same seed gives the same customers, graph and shocks under every strategy: strategies are
compared pair by pair (common random numbers), and one process's draws never shift another's.
"""

from __future__ import annotations

import numpy as np

STREAMS = ("population", "graph", "workforce", "service", "wom", "choice", "acquisition")


class Streams:
    """Factory of independent generators keyed by process name and step."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)

    def setup(self, name: str) -> np.random.Generator:
        """Generator for the set-up of one process (population, graph, workforce)."""
        return self.step(name, -1)

    def step(self, name: str, step: int) -> np.random.Generator:
        """Generator for one process at one step; independent of every other pair."""
        key = [self.seed, STREAMS.index(name), step + 1]
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(key)))
