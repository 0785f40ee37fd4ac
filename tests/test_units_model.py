"""Exact unit tests of the model's wiring: the clock, the horizon, the views, and what each process is handed."""

from __future__ import annotations

import random

import numpy as np

from sim import network
from sim.agents import CustomerAgent, EmployeeAgent
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


def test_agent_views_are_made_once_per_kind_and_index():
    m = EmpathyMarket(tiny())
    c3, e1 = m.customer(3), m.employee(1)
    assert isinstance(c3, CustomerAgent) and c3.index == 3 and m.customer(3) is c3
    assert isinstance(e1, EmployeeAgent) and e1.index == 1 and m.employee(1) is e1
    assert m.customer(1) is not e1 and m.customer(1).index == 1 and isinstance(m.employee(3), EmployeeAgent)


def test_the_model_is_seeded_and_built_from_its_config_and_a_given_graph():
    cfg = tiny()
    cfg.behaviour.initial_reputation_quality = 0.55
    given = network.from_edges(60, np.arange(59), np.arange(1, 60))  # a path through every customer
    m = EmpathyMarket(cfg, graph=given)
    assert m.random.random() == random.Random(cfg.seed).random()  # Mesa's own generators follow the seed
    assert m.firms.reputation_quality.tolist() == [0.55]
    assert m.graph is given


class Seen:
    """A progress meter that records what it is told."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def update(self, done: int, total: int) -> None:
        self.calls.append((done, total))


def test_run_steps_the_weeks_asked_for_and_reports_progress():
    m = EmpathyMarket(tiny(steps=3, burn_in=2))
    seen = Seen()
    m.run(2, progress=seen)
    assert m.week == 2 and seen.calls == [(1, 2), (2, 2)]
    m.run()  # the default: warm-up plus recorded weeks
    assert m.week == 7 and not m.running
