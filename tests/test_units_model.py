"""Exact unit tests of the model's wiring: the clock, the horizon, the views, and what each process is handed."""

from __future__ import annotations

import numpy as np

from sim.config import AdaptConfig, FirmConfig, MarketConfig, RunConfig, SimConfig, WomConfig, validate
from sim.model import EmpathyMarket


def tiny(steps: int = 3, burn_in: int = 2, **market) -> SimConfig:
    return validate(SimConfig(
        seed=3, run=RunConfig(steps=steps, burn_in=burn_in, progress=False),
        market=MarketConfig(customers=60, **market), firm=FirmConfig(name="Solo", staff=2), competitors={},
        wom=WomConfig(enabled=False), adapt=AdaptConfig(enabled=False)))


def test_the_clock_counts_the_warm_up_and_stops_at_the_horizon():
    m = EmpathyMarket(tiny(steps=3, burn_in=2))
    assert (m.week, m.calendar_week, m.running) == (0, -2, True)
    for week in range(1, 5):
        m.step()
        assert (m.week, m.calendar_week, m.running) == (week, week - 2, True)
    m.step()
    assert (m.week, m.calendar_week, m.running) == (5, 3, False)
    assert sorted({s for s, _ in m.recorder.rows}) == [0, 1, 2]  # only the recorded weeks, numbered from 0
