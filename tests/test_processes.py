"""Exact unit tests of single processes on tiny hand-built states: forced shocks give exact outcomes."""

from __future__ import annotations

import numpy as np
import pytest

from sim import customers as cu
from sim import employees as em
from sim import metrics, service
from sim.config import BehaviourConfig, MarketConfig
from sim.rng import SHOCK_SCALE, binomial_cutoffs, count, poisson_cutoffs

F32 = np.float32
NO_PURCHASES = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.intp))  # buyers, visits, firms


def customers(need: list[float], firm: list[int]) -> cu.Customers:
    n = len(need)
    return cu.Customers(
        segment=np.where(np.array(need) < 0.5, cu.PRICE_DRIVEN, cu.RELATIONSHIP_DRIVEN).astype(np.int8),
        need=np.array(need, dtype=F32), firm=np.array(firm, dtype=np.int8),
        quality=np.full(n, 0.5, F32), felt_empathy=np.full(n, 0.5, F32), attachment=np.zeros(n, F32),
        since=np.zeros(n, np.int32), value=np.zeros(n, F32), last_event=np.zeros(n, np.int8),
        buzz=np.zeros((1, n), F32), response=np.zeros(n, F32))


def routing(n: int, emotional: bool = True, bot: bool = False, handed: bool = False,
            server: int = 0) -> service.Routing:
    return service.Routing(who=np.arange(n), firm=np.zeros(n, np.intp), contacts=np.ones(n, np.int64),
                           emotional=np.full(n, emotional), bot=np.full(n, bot), handed=np.full(n, handed),
                           server=np.full(n, server))


def test_recovery_wins_back_by_what_the_customer_needs():
    """p = (1 - w) q + w e with w = recovery_empathy * need: a cold but competent person fixes it for a
    customer who wants a fix (need 0) and fails one who wants to be heard (need 1)."""
    b = BehaviourConfig(recovery_empathy=1.0, recovery_bonus=0.1, unrecovered_quality=0.5)
    quality, empathy = np.array([0.9, 0.9], F32), np.array([0.1, 0.1], F32)
    u = np.array([int(0.5 * SHOCK_SCALE)] * 2, dtype=np.uint32)  # 0.5 lies between 0.1 and 0.9
    event = service.recover(routing(2), quality, empathy, np.array([0.0, 1.0], F32), nobody=99, b=b, u_recover=u)
    assert event.tolist() == [cu.EVENT_RECOVERED, cu.EVENT_FAILED]
    assert quality.tolist() == pytest.approx([1.0, 0.45])


def test_unstaffed_encounters_fail_and_frustrating_bots_are_remembered():
    b = BehaviourConfig()
    r = routing(2, emotional=True)
    r.server[:] = [7, 0]
    r.bot[:] = [False, True]
    q, e = np.array([0.8, 0.75], F32), np.zeros(2, F32)
    event = service.recover(r, q, e, np.zeros(2, F32), nobody=7, b=b, u_recover=np.zeros(2, np.uint32))
    assert event.tolist() == [cu.EVENT_FAILED, cu.EVENT_BOT_FRUSTRATION]


def test_a_routine_bot_contact_disappoints_in_proportion_to_need_and_expect_person():
    c = customers([0.0, 0.5, 1.0], [0, 0, 0])
    r = routing(3, emotional=False, bot=True, server=5)
    q = np.full(3, 0.8, F32)
    for expect, want in ((1.0, [0.8, 0.4, 0.0]), (0.5, [0.8, 0.6, 0.4]), (0.0, [0.8, 0.8, 0.8])):
        rating = service.perceive(c, r, NO_PURCHASES, q.copy(), np.zeros(3, F32),
                                  np.zeros(3, np.int8), np.zeros(1), BehaviourConfig(expect_person=expect))
        assert rating.tolist() == pytest.approx(want)


def test_perception_learns_quality_always_and_empathy_only_from_people():
    c = customers([0.5, 0.5], [0, 0])
    r = routing(2, emotional=False)
    r.bot[:] = [False, True]
    b = BehaviourConfig(learning_rate=0.5)
    service.perceive(c, r, (np.array([0]), np.array([2]), np.array([0])), np.array([1.0, 1.0], F32),
                     np.array([1.0, 0.0], F32),
                     np.zeros(2, np.int8), np.array([3.0]), b)
    assert c.quality.tolist() == pytest.approx([0.75, 0.75])
    assert c.felt_empathy.tolist() == pytest.approx([0.75, 0.5])  # a routine bot says nothing about caring
    assert c.value.tolist() == pytest.approx([6.0, 0.0])  # two visits at margin 3; no visit, no margin


def test_engagement_rests_at_resources_plus_disposition_and_pay_counts():
    b = BehaviourConfig(engagement_base=0.5, leadership_effect=0.2, pay_engagement=0.1)
    pay = em.pay_ratio(np.array([500.0, 500.0 * np.e]), 500.0)
    support = em.resources(np.array([1.0, 0.0]), pay, b)
    assert support.tolist() == pytest.approx([0.7, 0.6])
    assert em.engagement_target(support, np.array([0.1, 0.5])).tolist() == pytest.approx([0.8, 1.0])


def test_quit_chance_rises_with_disengagement_and_burnout_and_falls_with_pay():
    b = BehaviourConfig(base_quit=0.01, quit_disengaged=0.04, quit_burnout=0.08, pay_quit_elasticity=1.0)
    p = em.quit_chance(np.array([1.0, 0.5, 1.0, 1.0]), np.array([0.0, 0.0, 0.5, 0.0]),
                       np.array([1.0, 1.0, 1.0, 2.0]), b)
    assert p.tolist() == pytest.approx([0.01, 0.02, 0.03, 0.005])


def test_emotional_contacts_strain_more_where_more_empathy_is_asked():
    b = BehaviourConfig(routine_effort=0.5, emotional_labour=1.0, emotional_strain_base=0.5)
    s = em.strain(np.array([10.0, 10.0]), np.array([10.0, 10.0]), np.array([100.0, 100.0]), np.array([0.0, 1.0]), b)
    assert s.tolist() == pytest.approx([0.1, 0.2])


def draw_counts(u: np.ndarray, cutoffs: np.ndarray) -> np.ndarray:
    return np.array([count(x, cutoffs) for x in u])


def test_poisson_and_binomial_counts_by_inverse_cdf():
    u = (np.linspace(0, 1, 200_001, endpoint=False) * SHOCK_SCALE).astype(np.uint32)
    v = draw_counts(u, poisson_cutoffs(2.5))
    assert v.mean() == pytest.approx(2.5, abs=1e-3) and v.var() == pytest.approx(2.5, abs=5e-3)
    table = binomial_cutoffs(4, 0.25)
    c = draw_counts(u, table[4])
    assert c.mean() == pytest.approx(1.0, abs=1e-3) and c.max() <= 4
    assert draw_counts(u, poisson_cutoffs(0)).max() == 0


def test_visit_tables_skip_the_binomial_when_every_visit_is_a_contact():
    assert service.visit_tables(MarketConfig(contacts_per_visit=1.0))[1] is None
    assert service.visit_tables(MarketConfig(contacts_per_visit=0.3))[1] is not None


def test_pooled_rates_and_nothing_to_measure():
    assert metrics.annual_retention(10, 1000) == pytest.approx(0.99**52)
    assert metrics.annual_retention(0, 0) is None
    assert metrics.annual_turnover(3, 520) == pytest.approx(0.3)
    assert metrics.annual_turnover(0, 0) is None
    assert metrics.ratio(1, 0) is None
