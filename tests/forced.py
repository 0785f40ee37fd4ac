"""Forced randomness and hand-built contexts for exact unit tests: draws and states the test chooses."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import numpy as np

from sim import customers as cu
from sim.model import Week
from sim.rng import SHOCK_SCALE
from sim.wom import Talk

F32 = np.float32


def u32(*p: float) -> np.ndarray:
    """Shocks (32-bit integers) that `sim.rng.unit` maps to the given uniforms."""
    return np.array([int(x * SHOCK_SCALE) for x in p], dtype=np.uint32)


def rows(*shocks: list[float]) -> np.ndarray:
    """A process's customer shocks, one row per draw, from the uniforms they stand for (k, n)."""
    return np.array([u32(*row) for row in shocks], dtype=np.uint32)


class _Bits:
    def __init__(self, words: np.ndarray) -> None:
        self.words = words

    def random_raw(self, size: int) -> np.ndarray:
        assert size == len(self.words), (size, len(self.words))
        return self.words


class Forced:
    """A stand-in for `numpy.random.Generator`: `shocks` returns `rows`; random/normal/geometric return the queues.

    `rows` are the (k, n) customer shocks as uniforms in [0, 1); `random`, `normal`, `geometric` and
    `integers` hold the values the corresponding Generator methods return, in call order.
    """

    def __init__(self, rows: list[list[float]] | None = None, random: list[float] | None = None,
                 normal: list[float] | None = None, geometric: list[int] | None = None,
                 integers: list[int] | None = None) -> None:
        flat = u32(*np.ravel(rows)) if rows is not None else np.zeros(0, np.uint32)
        if len(flat) % 2:
            flat = np.append(flat, np.uint32(0))
        self.bit_generator = _Bits(flat.view(np.uint64))
        self._random, self._normal, self._geometric = list(random or []), list(normal or []), list(geometric or [])
        self._integers = list(integers or [])

    @staticmethod
    def _take(queue: list, n: int) -> np.ndarray:
        out = [queue.pop(0) for _ in range(n)]
        return np.array(out)

    def random(self, n: int) -> np.ndarray:
        return self._take(self._random, n).astype(float)

    def standard_normal(self, n: int) -> np.ndarray:
        return self._take(self._normal, n).astype(float)

    def geometric(self, p: float, n: int) -> np.ndarray:
        self.geometric_p = p
        return self._take(self._geometric, n).astype(np.int64)

    def integers(self, low: int, high: int, n: int) -> np.ndarray:
        self.integers_range = (low, high)
        return self._take(self._integers, n).astype(np.int64)


def customers(need: list[float], firm: list[int], firms: int = 1, **state: list[float]) -> cu.Customers:
    """A hand-built population: needs and firms given, perceptions 0.5 unless `state` says otherwise."""
    n = len(need)
    values = {"quality": [0.5] * n, "felt_empathy": [0.5] * n, "attachment": [0.0] * n, "response": [0.0] * n,
              "value": [0.0] * n, **state}
    return cu.Customers(
        segment=np.where(np.array(need) < 0.5, cu.PRICE_DRIVEN, cu.RELATIONSHIP_DRIVEN).astype(np.int8),
        need=np.array(need, dtype=F32), firm=np.array(firm, dtype=np.int8),
        quality=np.array(values["quality"], F32), felt_empathy=np.array(values["felt_empathy"], F32),
        attachment=np.array(values["attachment"], F32), since=np.zeros(n, np.int32),
        value=np.array(values["value"], F32), last_event=np.zeros(n, np.int8),
        buzz=np.zeros((firms, n), F32), response=np.array(values["response"], F32))


def market(shocks: np.ndarray | None = None, rng: object = None, **state: object) -> SimpleNamespace:
    """A process's context built by hand: the state and parameters given; `shocks` are the customer shocks
    any process draws, `rng` the generator any stream gives."""
    return SimpleNamespace(shocks=lambda process, t: shocks, streams=SimpleNamespace(step=lambda name, t: rng),
                           **state)


def run_process(process: Callable, shocks: np.ndarray | None = None, week: Week | None = None, rng: object = None,
                **state: object) -> Week:
    """Run one process of the schedule on a hand-built context (`market`); returns the week it filled in."""
    week = week if week is not None else Week(0)
    process(market(shocks, rng, **state), week)
    return week


def heard(praise: tuple[np.ndarray, np.ndarray], t: int = 0) -> Week:
    """Week t after word of mouth in which prospects heard `praise` (listener, firm talked about)."""
    return Week(t, talk=Talk(praise=praise, praised=np.zeros(0, np.int64), warned=np.zeros(0, np.int64)))
