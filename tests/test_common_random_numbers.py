"""Common random numbers: the same shocks whatever the strategy; one stream per process and week."""

from __future__ import annotations

import numpy as np

from sim import rng
from sim.config import FirmConfig, MarketConfig, RunConfig, SimConfig, validate
from sim.model import EmpathyMarket

PROCESSES = ("choice", "service", "wom", "acquisition")
REAL_STEP, REAL_SHOCKS = rng.Streams.step, rng.Streams.shocks


def config(**focal) -> SimConfig:
    return validate(SimConfig(seed=11, run=RunConfig(steps=6, burn_in=2, progress=False),
                              market=MarketConfig(customers=600), firm=FirmConfig(**focal),
                              competitors={"rival": FirmConfig(name="Rival", price=0.9, automation=0.5)}))


def record(monkeypatch, cfg: SimConfig) -> tuple[dict[str, list[np.ndarray]], list[tuple[str, int]]]:
    """Run 8 weeks; keep every customer-level shock each process drew, and every stream the model asked for."""
    drawn: dict[str, list[np.ndarray]] = {name: [] for name in PROCESSES}
    asked: list[tuple[str, int]] = []

    def shocks(self, name, t, k, n):
        u = REAL_SHOCKS(self, name, t, k, n)
        drawn[name].append(u.copy())
        return u

    def step(self, name, t):
        asked.append((name, t))
        return REAL_STEP(self, name, t)
    monkeypatch.setattr(rng.Streams, "shocks", shocks)
    monkeypatch.setattr(rng.Streams, "step", step)
    m = EmpathyMarket(cfg)
    m.run()
    return drawn, asked


def test_every_process_draws_the_same_shocks_under_two_strategies(monkeypatch):
    cold, asked_cold = record(monkeypatch, config(empathy=0.1, automation=0.0, price=1.3, advertising=0.0))
    warm, asked_warm = record(monkeypatch, config(empathy=0.9, automation=0.8, price=0.8, advertising=0.05))
    for name in PROCESSES:
        assert len(cold[name]) == len(warm[name]) == 8, name
        for week, (a, b) in enumerate(zip(cold[name], warm[name], strict=True)):
            assert np.array_equal(a, b), f"{name} week {week}"
    assert asked_cold == asked_warm


def test_one_stream_per_process_and_week(monkeypatch):
    drawn, asked = record(monkeypatch, config())
    weekly = [(name, t) for name, t in asked if t >= 0]
    assert sorted(weekly) == sorted((name, t) for t in range(8)
                                    for name in ("choice", "service", "workforce", "wom", "acquisition"))
    # different processes, and different weeks of one process, never share shocks
    first = {(name, t): drawn[name][t][0, :64].tobytes() for name in PROCESSES for t in range(8)}
    assert len(set(first.values())) == len(first)


def test_streams_are_keyed_by_seed_process_and_step():
    s = rng.Streams(5)
    a = s.step("service", 3).random(4)
    assert np.array_equal(a, rng.Streams(5).step("service", 3).random(4))
    others = [s.step("choice", 3), s.step("service", 4), rng.Streams(6).step("service", 3), s.setup("service")]
    assert all(not np.array_equal(a, g.random(4)) for g in others)
    assert np.array_equal(s.setup("graph").random(3), s.step("graph", -1).random(3))


def test_shocks_drawn_ahead_are_the_shocks_drawn_in_turn(monkeypatch):
    monkeypatch.setattr(rng, "AHEAD_MIN", 0)  # draw ahead at any size
    ahead, inline = rng.Streams(3), rng.Streams(3)
    ahead.draw_ahead(4, {"service": 6, "wom": 1}, 1000)
    assert set(ahead._ahead) == {("service", 4), ("wom", 4)}
    assert np.array_equal(ahead.shocks("service", 4, 6, 1000), inline.shocks("service", 4, 6, 1000))
    assert np.array_equal(ahead.shocks("wom", 4, 1, 1000), rng.shocks(inline.step("wom", 4), 1, 1000))
    assert not ahead._ahead  # each drawn-ahead week is handed over once


def test_a_large_market_runs_the_same_with_and_without_drawing_ahead(monkeypatch):
    cfg = config()
    monkeypatch.setattr(rng, "AHEAD_MIN", 10**9)
    alone = EmpathyMarket(cfg)
    alone.run()
    monkeypatch.setattr(rng, "AHEAD_MIN", 0)
    ahead = EmpathyMarket(cfg)
    ahead.run()
    assert ahead.recorder.table().equals(alone.recorder.table())


def test_one_background_worker_per_process():
    worker = rng._background()
    assert worker is rng._background() and worker._max_workers == 1  # kept, not made anew at each week


def test_the_model_draws_each_next_week_ahead_and_none_past_its_horizon(monkeypatch):
    monkeypatch.setattr(rng, "AHEAD_MIN", 0)
    m = EmpathyMarket(config())  # 2 weeks of warm-up and 6 recorded: weeks 0..7
    for week in range(8):
        m.step()
        ahead = {(name, week + 1) for name in m.shocks_per_week} if week + 1 < 8 else set()
        assert set(m.streams._ahead) == ahead, week
