"""Exact unit tests of the customer processes: population, needs, satisfaction, recommendation, choice, churn."""

from __future__ import annotations

import numpy as np
import pytest

from sim import choice
from sim import customers as cu
from sim import firms as fm
from sim.config import BehaviourConfig, FirmConfig, MarketConfig, SimConfig, WomConfig
from tests.forced import F32, Forced, customers


def test_the_population_is_drawn_segment_need_firm_perceptions_attachment_response():
    market = MarketConfig(customers=4, price_driven_share=0.5, initial_adoption=0.5, relationship_need=0.7,
                          price_driven_need=0.0, need_spread=0.0, response_spread=0.2)
    rng = Forced(random=[0.1, 0.9, 0.6, 0.2,  # segments: price-driven below 0.5
                         0.2, 0.3, 0.9, 0.1,  # served below 0.5
                         0.7, 0.1, 0.5, 0.2,  # firm by cumulative share 0.25 | 1.0
                         0.5, 0.5, 0.5, 0.2],  # attachment 0.5 u
                 normal=[1.0, 0.0, -1.0, 0.5])
    rep = (np.array([0.6, 0.8], F32), np.array([0.4, 0.9], F32))
    c = cu.create(market, np.array([1.0, 3.0]), rep, rng)
    assert c.segment.tolist() == [cu.PRICE_DRIVEN, cu.RELATIONSHIP_DRIVEN, cu.RELATIONSHIP_DRIVEN, cu.PRICE_DRIVEN]
    assert c.need.tolist() == pytest.approx([0.0, 0.7, 0.7, 0.0])
    assert c.firm.tolist() == [1, 0, cu.NO_FIRM, 0]
    assert c.quality.tolist() == pytest.approx([0.8, 0.6, 0, 0.6]) and c.felt_empathy.tolist() == pytest.approx(
        [0.9, 0.4, 0, 0.4])
    assert c.attachment.tolist() == pytest.approx([0.25, 0.25, 0, 0.1])
    assert c.response.tolist() == pytest.approx([0.2, 0, -0.2, 0.1])
    assert (c.since == cu.INITIAL_COHORT).all() and (c.value == 0).all() and c.buzz.shape == (2, 4) and c.n == 4
    nobody = cu.create(MarketConfig(customers=2, initial_adoption=1.0, need_spread=0.0), np.array([0.0, 0.0]), rep,
                       Forced(random=[0.9, 0.9, 0.0, 0.0, 0.4, 0.6, 0.0, 0.0], normal=[0.0, 0.0]))
    assert nobody.firm.tolist() == [0, 1]  # no initial shares: equal shares


def test_needs_are_beta_around_the_segment_mean_and_exact_at_the_ends():
    mean = np.array([0.0, 1.0, 0.3])
    assert cu.draw_need(mean, 0.0, Forced()).tolist() == pytest.approx([0.0, 1.0, 0.3])
    got = cu.draw_need(mean, 0.1, np.random.default_rng(4))
    kappa = 1 / (4 * 0.1**2) - 1
    want = np.random.default_rng(4).beta(np.array([0.5, 0.5, 0.3]) * kappa, np.array([0.5, 0.5, 0.7]) * kappa)
    assert got.tolist() == pytest.approx([0.0, 1.0, want[2]], abs=1e-6) and got.dtype == F32
    many = cu.draw_need(np.full(20_000, 0.5), 0.1, np.random.default_rng(5))
    assert many.std() == pytest.approx(0.1, abs=0.003)


def test_felt_satisfaction_and_recommendation():
    assert cu.felt(np.array([0.0, 0.25, 1.0]), 0.5).tolist() == pytest.approx([0.0, 0.5, 1.0])
    c = customers([0.5, 0.0, 1.0], [0, 0, 0], quality=[0.4, 0.4, 0.4], felt_empathy=[0.81, 0.81, 0.81],
                  attachment=[0.5, 0.5, 0.0], response=[0.1, 0.0, 0.5])
    s = cu.satisfaction(c, slice(None), 0.5)
    assert s.tolist() == pytest.approx([0.65, 0.4, 0.9])
    r = cu.recommendation(c, s.copy(), BehaviourConfig(nps_attachment=0.2))
    assert r.tolist() == pytest.approx([0.65 + 0.2 * 0.5 * 0.35 + 0.1, 0.4 + 0.1 * 0.6, 1.0])


def test_shortfalls_judge_the_own_firm_by_experience_and_others_by_reputation():
    b = BehaviourConfig(quality_weight=2.0, empathy_weight=1.5, empathy_returns=1.0, price_weight=1.0)
    market = MarketConfig(price_driven_price_sensitivity=3.0, relationship_price_sensitivity=0.5)
    c = customers([0.0, 1.0, 1.0], [-1, 0, 1], firms=2, quality=[0.9, 0.9, 0.9], felt_empathy=[0.2, 0.2, 0.2])
    c.buzz[:] = [[1.0, 2.0, 3.0], [0.0, -1.0, 0.0]]
    rep = (np.array([0.5, 0.7], F32), np.array([0.4, 0.6], F32))
    s = cu.shortfalls(c, np.arange(3), np.array([1.2, 0.9]), rep, market, b, 0.5)
    assert s.quality.shape == (3, 3)
    assert s.quality[:, 0].tolist() == pytest.approx([1.0, 0.6, 0.0])  # prospect: reputation
    assert s.quality[:, 1].tolist() == pytest.approx([0.2, 0.6, 0.0])  # own firm 0: own experience
    assert s.quality[:, 2].tolist() == pytest.approx([1.0, 0.2, 0.0])
    assert s.empathy[:, 0].tolist() == pytest.approx([0, 0, 0])  # no need, no empathy shortfall
    assert s.empathy[:, 1].tolist() == pytest.approx([1.2, 0.6, 0.0])
    assert s.empathy[:, 2].tolist() == pytest.approx([0.9, 1.2, 0.0])
    assert s.price[:, 0].tolist() == pytest.approx([0.6, -0.3, 0])  # price-driven: sensitivity 3
    assert s.price[:, 1].tolist() == pytest.approx([0.1, -0.05, 0])
    assert s.buzz[:, 1].tolist() == pytest.approx([1.0, -0.5, 0])
    assert s.utility()[:, 1].tolist() == pytest.approx([1.0 - 0.2 - 1.2 - 0.1, -0.5 - 0.6 - 0.6 + 0.05, 0])


def test_logit_pick_by_inverse_cdf():
    equal = np.zeros((2, 4), F32)
    assert cu.logit_pick(equal, 1.0, np.array([0.0, 0.49, 0.51, 0.999])).tolist() == [0, 0, 1, 1]
    u = np.array([[0.0], [np.log(3)]], F32)  # shares 1/4, 3/4
    assert cu.logit_pick(u, 1.0, np.array([0.24])).tolist() == [0] and cu.logit_pick(u, 1.0, np.array([0.26])) == 1
    assert cu.logit_pick(u * 2, 2.0, np.array([0.26])) == 1 and cu.logit_pick(u * 2, 2.0, np.array([0.24])) == 0
    huge = np.array([[1000.0], [0.0], [-1000.0]], F32)
    assert cu.logit_pick(huge, 0.01, np.array([0.999999])).tolist() == [0]


def shortfalls(**parts: list[list[float]]) -> cu.Shortfalls:
    zero = np.zeros((3, len(next(iter(parts.values()))[0])), F32)
    return cu.Shortfalls(**{k: np.array(parts.get(k, zero), F32) for k in ("quality", "empathy", "price", "buzz")})


def test_churn_reason_names_the_component_that_gained_most():
    s = shortfalls(quality=[[0.5, 0.5, 0.1, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0], [0, 0, 0, 0, 0]],
                   empathy=[[0.2, 0.2, 0.6, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0], [0, 0, 0, 0, 0]],
                   price=[[0.0, 0.0, 0.0, 0.3, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0], [0, 0, 0, 0, 0]],
                   buzz=[[0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.5], [0, 0, 0, 0, 0]])
    rows = np.arange(5)
    cur, dest = np.zeros(5, int), np.array([2, 2, 2, 2, 1])
    last = np.array([cu.EVENT_NONE, cu.EVENT_BOT_FRUSTRATION, cu.EVENT_BOT_FRUSTRATION, 0, 0])
    assert cu.churn_reason(s, rows, cur, dest, last).tolist() == [cu.POOR_SERVICE, cu.BOT_FRUSTRATION,
                                                                   cu.INDIFFERENCE, cu.PRICE, cu.COMPETITOR_PULL]
    flat = shortfalls(quality=[[0.0], [0.0], [0.0]])
    assert cu.churn_reason(flat, np.array([0]), np.array([0]), np.array([1]), np.array([0])).tolist() == [cu.OTHER]
    buzz_only = shortfalls(buzz=[[0.0], [0.0], [-1.0]])  # the outside option never "pulls"
    assert cu.churn_reason(buzz_only, np.array([0]), np.array([0]), np.array([2]), np.array([0])).tolist() == [
        cu.OTHER]


def test_relationships_start_at_reputation_and_end_with_their_value_at_the_start():
    c = customers([0.5] * 3, [-1, -1, 0], attachment=[0.3, 0.3, 0.3], value=[5.0, 5.0, 8.0])
    c.last_event[:] = cu.EVENT_FAILED
    cu.start_relationship(c, np.array([0, 1]), np.array([1, 0]), 7, (np.array([0.6, 0.8]), np.array([0.2, 0.4])))
    assert c.firm.tolist() == [1, 0, 0] and c.since.tolist() == [7, 7, 0]
    assert c.value.tolist() == [0, 0, 8] and c.attachment.tolist() == pytest.approx([0, 0, 0.3])
    assert c.quality.tolist() == pytest.approx([0.8, 0.6, 0.5]) and c.felt_empathy.tolist() == pytest.approx(
        [0.4, 0.2, 0.5])
    assert c.last_event.tolist() == [cu.EVENT_NONE, cu.EVENT_NONE, cu.EVENT_FAILED]
    c.since[2] = 2
    value = cu.end_relationship(c, np.array([2]), 0.5)
    assert value.tolist() == [8 * 1.5**2] and c.firm[2] == cu.NO_FIRM and c.attachment[2] == 0


def reconsider_config(**b) -> SimConfig:
    return SimConfig(market=MarketConfig(base_churn=0.1, discount_rate=0.0, outside_utility=10.0),
                     wom=WomConfig(enabled=False), behaviour=BehaviourConfig(review_rate=0.5, **b))


def test_reconsider_exits_by_the_first_range_and_reviews_by_the_second():
    cfg = reconsider_config()
    fs = fm.create([FirmConfig(price=1.0)])
    c = customers([0.0] * 4, [0, 0, 0, -1], quality=[0.2] * 4, felt_empathy=[1.0] * 4, value=[3.0, 4.0, 5.0, 0.0])
    c.since[:] = [-1, -1, -1, 0]
    c.last_event[1] = cu.EVENT_BOT_FRUSTRATION
    # exit below 0.1; review in [0.1, 0.1 + 0.9 * 0.5 = 0.55); the prospect's shock is ignored
    moves = choice.reconsider(c, fs, cfg, 3, Forced(rows=[[0.05, 0.3, 0.9, 0.01], [0.5, 0.5, 0.5, 0.5]]))
    assert c.firm.tolist() == [-1, -1, 0, -1]  # the reviewer leaves for the (very good) outside option
    assert moves.churn[0, cu.OTHER] == 1 and moves.churn[0, cu.BOT_FRUSTRATION] == 1 and moves.churn.sum() == 2
    assert moves.churn_by_segment[0, cu.PRICE_DRIVEN].tolist() == moves.churn[0].tolist()
    assert moves.closed.tolist() == [2] and moves.closed_value.tolist() == pytest.approx([7.0])
    assert moves.switched_in.tolist() == [0]
    c = customers([0.0] * 2, [0, 0], quality=[0.2] * 2, felt_empathy=[1.0] * 2)
    moves = choice.reconsider(c, fs, reconsider_config(choice=False), 3, Forced(rows=[[0.05, 0.3], [0.5, 0.5]]))
    assert c.firm.tolist() == [-1, 0] and moves.churn[0, cu.OTHER] == 1  # no reviewing: only the exit


def test_a_reviewer_switches_to_a_better_rival_with_habit_and_attachment_holding_it_back():
    cfg = SimConfig(market=MarketConfig(base_churn=0.0, outside_utility=-10.0), wom=WomConfig(enabled=False),
                    behaviour=BehaviourConfig(review_rate=1.0, choice_noise=0.01, switching_cost=0.3,
                                              attachment_weight=1.0, empathy_weight=0.0, price_weight=0.0))
    fs = fm.create([FirmConfig(), FirmConfig()], 0.9)
    c = customers([0.0] * 3, [0, 0, 1], firms=2, quality=[0.5, 0.5, 0.9], attachment=[0.0, 0.2, 0.0])
    # own quality 0.5 vs rival's reputation 0.9: gain 0.4 beats habit 0.3, not habit 0.3 + attachment 0.2
    moves = choice.reconsider(c, fs, cfg, 5, Forced(rows=[[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]))
    assert c.firm.tolist() == [1, 0, 1] and c.since.tolist() == [5, 0, 0]
    assert moves.switched_in.tolist() == [0, 1] and moves.churn[0, cu.POOR_SERVICE] == 1
    assert moves.closed.tolist() == [1, 0]


def test_weekly_discount_compounds_to_the_annual_rate():
    cfg = SimConfig(market=MarketConfig(discount_rate=0.1))
    assert (1 + choice.weekly_discount(cfg)) ** 52 == pytest.approx(1.1, rel=1e-12)
