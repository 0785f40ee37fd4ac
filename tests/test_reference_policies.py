"""The per-agent reference's own firm policies give exactly what sim's do, step by step.

benchmarks/reference.py writes pricing (ODD 7.1), staffing (7.10), adaptation and the response to
losses (7.11) and incidents (7.12) again, per firm agent, from the ODD. These tests drive both
versions through the same deterministic inputs and require identical results, float for float;
the agreement test then checks the whole market statistically.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.reference import Employee, Firm, ReferenceMarket
from sim import employees as em
from sim import firms as fi
from sim.app import load_config
from sim.config import all_firms
from sim.model import EmpathyMarket, Week
from tests.forced import market

SMALL = ["market.customers=200", "run.burn_in=0", "run.progress=false", "seed=3"]
POLICIES = {  # the shipped competitors: BigBox runs promotions, OnlineStore matches the cheapest rival
    "shipped": [],
    "everyone adapts, short promotions, a matching focal firm": [
        "firm.adapts=true", "firm.pricing=match_cheapest", "firm.price_floor=0.7", "firm.staff=6",
        "competitors.big_box.promo_every=3", "competitors.big_box.promo_weeks=1", "competitors.big_box.promo_depth=0.3",
        "competitors.online.price_floor=0.5", "adapt.loss_reviews=1", "adapt.imitation_rate=0.3"],
    "reprice at most, no price matching": [
        "competitors.big_box.staff=4", "adapt.loss_response=reprice", "adapt.price_matching=false",
        "adapt.loss_reviews=1", "adapt.cost_cut=0.25"],
}


def firm_state(firms: list[Firm]) -> list[tuple]:
    return [(f.price, f.base_price, f.automation, f.active, f.loss_stage, f.config.advertising, f.config.staff,
             f.config.staff_to_demand, f.config.fixed_cost) for f in firms]


def sim_state(firms: fi.Firms) -> list[tuple]:
    return [(float(firms.price[i]), float(firms.base_price[i]), float(firms.automation[i]), bool(firms.active[i]),
             int(firms.loss_stage[i]), c.advertising, c.staff, c.staff_to_demand, c.fixed_cost)
            for i, c in enumerate(firms.configs)]


@pytest.mark.parametrize("case", POLICIES)
def test_price_and_adaptation_paths_equal_sims(case):
    """60 weeks of prices, with a review every 5 weeks on the same (made-up) profits and customer counts."""
    cfg = load_config(SMALL + POLICIES[case])
    model, firms = ReferenceMarket(cfg), fi.create(all_firms(cfg), cfg.behaviour.initial_reputation_quality)
    draws = np.random.default_rng(11)
    before = np.array([f.customers_at_review for f in model.firm_list])
    prices_moved = 0
    for week in range(60):
        fi.set_prices(market(firms=firms), Week(week))
        model.week = week
        model.set_prices()
        assert firm_state(model.firm_list) == sim_state(firms), f"{case}: week {week}, prices"
        if week % 5 == 4:
            profit, now = draws.normal(-40, 100, firms.n), draws.integers(0, 100, firms.n)
            firms.profit_since_review[:] = profit
            fi.review_strategies(firms, now, before, cfg.adapt)
            for f, p, n in zip(model.firm_list, profit.tolist(), now.tolist(), strict=True):
                f.profit_since_review, f.customers = p, n
            model.week = week + 1
            model.review()
            assert firm_state(model.firm_list) == sim_state(firms), f"{case}: review after week {week}"
            before = now
        prices_moved += len(set(firms.price)) > 1
    exits = int((~firms.active).sum())
    assert prices_moved and (firms.base_price != firms.per_firm("price")).any()  # the policies did act
    assert exits or cfg.adapt.loss_response != "exit"


@pytest.mark.parametrize("utilisation", [0.8, 0.65, 1.3])
def test_staff_needed_equals_sims(utilisation):
    cfg = load_config(SMALL + [f"behaviour.target_utilisation={utilisation}"])
    firm = ReferenceMarket(cfg).firm_list[0]
    capacities = [40.0, 150.0, 333.0]
    contacts = [0.0, 0.4, 31.9, 32.0, 32.0001, 97.5, 150 * utilisation * 3, 1234.5, 1e5]
    for capacity in capacities:
        firm.config.capacity = capacity
        expected = em.staff_needed(np.array(contacts), np.full(len(contacts), capacity), utilisation)
        assert [firm.staff_needed(h) for h in contacts] == expected.tolist()


@pytest.mark.parametrize("overrides", [[], ["firm.automation=0.7", "firm.bot_handover=0.2", "firm.capacity=37",
                                            "competitors.online.staff=3", "market.contacts_per_visit=0.6"]])
def test_starting_staff_equals_sims(overrides):
    cfg = load_config(SMALL + overrides)
    real, reference = EmpathyMarket(cfg), ReferenceMarket(cfg)
    n = len(reference.firm_list)
    jobs = np.bincount(real.workforce.firm[real.workforce.status != em.CLOSED], minlength=n)
    assert [len([e for e in reference.employees if e.employer is f]) for f in reference.firm_list] == jobs.tolist()
    shares = fi.expected_human_share(fi.create(all_firms(cfg)), 0.37)
    assert [f.expected_human_share(0.37) for f in reference.firm_list] == shares.tolist()


def test_restaffing_opens_and_closes_jobs_as_sims_workforce():
    """ODD 7.10 on the same jobs: a firm short of its target opens vacancies, one above it closes only vacant jobs."""
    cfg = load_config(SMALL + ["firm.capacity=10", "competitors.big_box.capacity=10", "competitors.online.staff=2"])
    model = ReferenceMarket(cfg)
    focal, big_box, online = model.firm_list
    for job in [e for e in model.employees if e.employer is big_box][:2]:
        job.status = em.VACANT
    weekly = {focal: 95.0, big_box: 0.0, online: 500.0}  # focal needs more, BigBox fewer, Online is fixed
    for firm, h in weekly.items():
        firm.human_since_restaff = h * cfg.behaviour.restaff_every
    jobs = [(e.employer.index, e.status) for e in model.employees]
    workforce = em.Workforce(np.array([f for f, _ in jobs], dtype=np.int16), np.array([s for _, s in jobs], np.int8),
                             *(np.zeros(len(jobs), np.float32) for _ in range(4)), np.zeros(len(jobs), np.int32),
                             np.zeros(len(jobs), np.int32))
    needed = em.staff_needed(np.array(list(weekly.values())), np.array([10.0, 10.0, 40.0]),
                             cfg.behaviour.target_utilisation)
    current = np.bincount(workforce.firm, minlength=3)
    target = np.where([f.config.staff is None for f in model.firm_list], needed, current)
    after = em.resize(workforce, target, 0, cfg.behaviour, np.random.default_rng(0))
    model.restaff()

    def count(status: int) -> list[int]:
        return [sum(e.employer is f and e.status == status for e in model.agents_by_type[Employee])
                for f in model.firm_list]

    for status in (em.ACTIVE, em.VACANT):
        assert count(status) == np.bincount(after.firm[after.status == status], minlength=3).tolist()
    assert all(f.human_since_restaff == 0 for f in model.firm_list)


def test_incident_failure_rate_equals_sims():
    cfg = load_config(SMALL + ["run.burn_in=10", "firm.incident_week=3", "firm.incident_weeks=4",
                               "competitors.online.incident_week=0", "competitors.online.incident_failure_rate=0.99"])
    model, firms = ReferenceMarket(cfg), fi.create(all_firms(cfg))
    for week in range(25):
        model.week = week
        expected = fi.failure_rate(firms, week - cfg.run.burn_in, cfg.market.failure_rate)
        assert [f.failure_rate() for f in model.firm_list] == expected.tolist()
