"""Exact unit tests of the model's wiring: the clock, the horizon, the views, and what each process is handed."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest

from sim import employees as em
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


def test_a_new_model_starts_with_nothing_bought_no_notes_and_one_agent_per_firm():
    cfg = tiny()
    cfg.competitors = {"rival": FirmConfig(name="Rival", staff=1)}
    m = EmpathyMarket(validate(cfg))
    assert m.purchases.tolist() == [0] * 60 and m.purchases.dtype == np.int64
    assert m.notes == [] and [a.index for a in m.firm_agents] == [0, 1]
    served = np.bincount(m.customers.firm[m.customers.firm >= 0], minlength=2)
    assert m.start_customers.tolist() == served.tolist() and served.sum() > 0
    assert m.customers_at_review.tolist() == served.tolist()


def test_staff_to_demand_is_sized_to_the_expected_human_contacts():
    cfg = tiny(visit_rate=0.6, contacts_per_visit=0.5, emotional_share=0.2, failure_rate=0.1)
    cfg.firm = FirmConfig(name="Solo", staff=None, automation=0.5, bot_handover=0.5, capacity=2.0)
    cfg.behaviour.target_utilisation = 0.5
    m = EmpathyMarket(validate(cfg))
    human_share = 1 - 0.5 * (1 - 0.3 * 0.5)
    served = np.array([100.0])
    assert m._staff_for(served).tolist() == [int(np.ceil(100 * 0.6 * 0.5 * human_share / (2.0 * 0.5)))]  # 18
    assert m.workforce.headcount(1).tolist() == [int(np.ceil(np.count_nonzero(m.customers.firm == 0) * 0.6 * 0.5
                                                             * human_share / 1.0))]


def test_an_incident_is_dated_in_calendar_weeks():
    cfg = tiny(steps=2, burn_in=2, failure_rate=0.0, emotional_share=0.0)
    cfg.firm = FirmConfig(name="Solo", staff=2, incident_week=0, incident_weeks=1, incident_failure_rate=1.0)
    m = EmpathyMarket(validate(cfg))
    m.run()
    rows = dict(m.recorder.rows)
    # everything goes wrong in calendar week 0 only (every encounter emotional), nothing otherwise
    assert rows[0]["encounters"][0] > 0 and rows[0]["emotional_contacts"][0] == rows[0]["encounters"][0]
    assert rows[1]["encounters"][0] > 0 and rows[1]["emotional_contacts"][0] == 0


def test_human_contacts_add_up_between_headcount_reviews():
    cfg = tiny(steps=3, burn_in=0)
    cfg.behaviour.restaff_every = 10
    m = EmpathyMarket(validate(cfg))
    m.run(2)
    rows = dict(m.recorder.rows)
    assert m.recent_human_contacts[0] == rows[0]["human_contacts"][0] + rows[1]["human_contacts"][0] > rows[1][
        "human_contacts"][0] > 0


def test_word_of_mouth_reaches_adoption_and_the_accounts_and_profit_adds_up_until_a_review():
    cfg = tiny(steps=2, burn_in=0, initial_adoption=0.5)
    cfg.wom = WomConfig(enabled=True, talk_rate=1.0, referral_strength=10.0)
    cfg.behaviour.promoter_threshold = cfg.behaviour.detractor_threshold = 0.0  # every customer praises
    m = EmpathyMarket(validate(cfg))
    m.run(2)
    rows = dict(m.recorder.rows)
    assert rows[0]["referrals_sent"][0] > 0 and rows[0]["acquisitions_referral"][0] > 0
    assert m.firms.profit_since_review[0] == pytest.approx(rows[0]["profit"][0] + rows[1]["profit"][0])
    assert rows[1]["profit"][0] != 0


def test_firms_that_staff_to_demand_resize_at_each_headcount_review_and_no_other_does():
    cfg = tiny(steps=3, burn_in=0)
    cfg.firm = FirmConfig(name="Solo", staff=None, capacity=100.0)
    cfg.competitors = {"rival": FirmConfig(name="Rival", staff=3, capacity=100.0),
                       "gone": FirmConfig(name="Gone", staff=2, initial_share=0.0)}
    cfg.behaviour.restaff_every = 2
    m = EmpathyMarket(validate(cfg))
    before = m.workforce.headcount(3)[0]
    for i in (0, 1):  # a hundred times the work per contact
        m.firms.configs[i] = dataclasses.replace(m.firms.configs[i], capacity=1.0)
    w = m.workforce
    w.status[w.firm == 2] = em.CLOSED  # a firm that has left the market
    m.firms.active[2] = False
    vacant = np.flatnonzero(w.firm == 1)[0]
    w.status[vacant], w.refill_at[vacant] = em.VACANT, 1000  # a vacancy at the rival, not filled soon
    m.run(2)
    rows = dict(m.recorder.rows)
    contacts = (rows[0]["human_contacts"][0] + rows[1]["human_contacts"][0]) / 2  # per week since the last review
    needed = em.staff_needed(np.array([contacts]), np.array([1.0]), cfg.behaviour.target_utilisation)[0]
    slots = np.bincount(m.workforce.firm[m.workforce.status != em.CLOSED], minlength=3)
    assert needed > before and slots.tolist() == [needed, 3, 0]  # the rival has a fixed headcount
    assert m.recent_human_contacts.tolist() == [0, 0, 0]  # counted afresh until the next review


def test_reviews_come_every_few_weeks_and_losses_count_only_after_the_warm_up():
    cfg = tiny(steps=6, burn_in=2)
    cfg.competitors = {"rival": FirmConfig(name="Rival", price=1.5, price_floor=0.5, staff=2, fixed_cost=1e6,
                                           adapts=True)}
    cfg.adapt = AdaptConfig(enabled=True, every=2, loss_reviews=1, loss_response="exit", price_matching=False,
                            imitation=False)
    m = EmpathyMarket(validate(cfg))
    m.run(4)
    assert m.notes == ["week 2: Rival cut its advertising by 50% and staffs to demand, after 1 loss-making reviews "
                       "running"]  # the review of calendar week 0 (end of the warm-up) ignored the losses
    assert m.customers_at_review.tolist() == np.bincount(m.customers.firm[m.customers.firm >= 0],
                                                          minlength=2).tolist()
    m.run(4)
    assert m.notes[1:] == ["week 4: Rival moved its price from 1.50 to 1.25, towards Solo's, after 1 loss-making "
                           "reviews running",
                           "week 6: Rival left the market after 1 loss-making reviews running: its customers "
                           "become prospects"]
    w = m.workforce
    assert (w.status[w.firm == 1] == em.CLOSED).all() and (w.status[w.firm == 0] != em.CLOSED).any()


def test_the_first_review_after_the_warm_up_counts_losses():
    cfg = tiny(steps=2, burn_in=3)
    cfg.competitors = {"rival": FirmConfig(name="Rival", staff=2, fixed_cost=1e6, adapts=True)}
    cfg.adapt = AdaptConfig(enabled=True, every=2, loss_reviews=1, loss_response="cut", imitation=False)
    m = EmpathyMarket(validate(cfg))
    m.run(4)  # reviews at calendar weeks -1 and 1; the rival already charges the cheapest price (1.0)
    assert [note[:20] for note in m.notes] == ["week 1: Rival cut it"]
