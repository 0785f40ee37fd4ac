"""Exact unit tests of the customer processes: population, needs, satisfaction, recommendation, choice, churn."""

from __future__ import annotations

import numpy as np
import pytest

from sim import choice
from sim import customers as cu
from sim import firms as fm
from sim.config import BehaviourConfig, FirmConfig, MarketConfig, SimConfig, WomConfig
from sim.model import Week
from tests.forced import F32, Forced, customers, rows, run_process


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


TASTE = cu.taste(MarketConfig(price_driven_price_sensitivity=3.0, relationship_price_sensitivity=0.5),
                 BehaviourConfig(quality_weight=2.0, empathy_weight=1.5, empathy_returns=1.0, price_weight=1.0), 0.5)


def test_shortfalls_of_one_option_for_one_customer():
    # quality 2 (1 - Q), empathy 1.5 need (1 - warmth), price (p - 1) sensitivity of the segment, buzz 0.5 b
    assert cu.shortfalls(F32(0.9), F32(0.2), F32(1.0), F32(1.2), cu.RELATIONSHIP_DRIVEN, F32(2.0), TASTE) == \
        pytest.approx((0.2, 1.2, 0.1, 1.0))
    assert cu.shortfalls(F32(0.5), F32(0.4), F32(0.0), F32(1.2), cu.PRICE_DRIVEN, F32(0.0), TASTE) == \
        pytest.approx((1.0, 0.0, 0.6, 0.0))  # no need, no empathy shortfall; price-driven: sensitivity 3
    assert cu.shortfalls(F32(0.7), F32(0.6), F32(1.0), F32(0.9), cu.RELATIONSHIP_DRIVEN, F32(-1.0), TASTE) == \
        pytest.approx((0.6, 0.6, -0.05, -0.5))
    gaps = np.array([0.2, 1.2, 0.1, 1.0], F32)
    assert cu.utility(gaps) == pytest.approx(1.0 - 0.2 - 1.2 - 0.1)


def test_the_own_firm_is_judged_by_experience_and_rivals_by_reputation():
    c = customers([1.0, 1.0], [0, 0], firms=2, quality=[0.9, 0.1], felt_empathy=[0.9, 0.1])
    stay = np.array([0.5, 0.5], F32), np.array([0.5, 0.5], F32)  # reputations: the two firms alike
    t = cu.taste(MarketConfig(), BehaviourConfig(switching_cost=0.0, attachment_weight=0.0, choice_noise=0.01,
                                                 empathy_returns=1.0), 0.0)
    exits, movers, dest, reason = choice.review(
        np.full(2, 2**31, np.uint32), np.full(2, 2**31, np.uint32), c.firm, c.segment, c.need,
        c.quality, c.felt_empathy, c.attachment, c.last_event, c.buzz, np.ones(2, F32), stay[0], stay[1],
        np.ones(2, bool), 0, 2**32, True, t._replace(outside=F32(-100)))
    assert exits.tolist() == [] and movers.tolist() == [1] and dest.tolist() == [1]  # only the poorly served moves
    assert reason.tolist() == [cu.INDIFFERENCE]  # empathy gained 1.35 - 0.75, quality 0.9 - 0.5


def test_logit_pick_by_inverse_cdf():
    def pick(utility: list[float], noise: float, u: float) -> int:
        return cu.logit_pick(np.array(utility, F32), F32(noise), u)  # a fresh array: the pick overwrites it

    assert [pick([0.0, 0.0], 1.0, u) for u in (0.0, 0.49, 0.51, 0.999)] == [0, 0, 1, 1]
    shares = [0.0, float(np.log(3))]  # shares 1/4, 3/4
    assert pick(shares, 1.0, 0.24) == 0 and pick(shares, 1.0, 0.26) == 1
    twice = [2 * x for x in shares]
    assert pick(twice, 2.0, 0.26) == 1 and pick(twice, 2.0, 0.24) == 0
    assert pick([1000.0, 0.0, -1000.0], 0.01, 0.999999) == 0
    assert pick([-np.inf, 0.0, 0.0], 1.0, 0.0) == 1  # a firm that left is never chosen
    weights = np.array([0.0, float(np.log(3))], F32)
    cu.logit_pick(weights, F32(1.0), 0.5)
    assert weights.tolist() == pytest.approx([1 / 3, 4 / 3])  # overwritten: cumulative weights, relative to the top


def gaps(quality: float = 0.0, empathy: float = 0.0, price: float = 0.0, buzz: float = 0.0) -> np.ndarray:
    return np.array([quality, empathy, price, buzz], F32)


def test_churn_reason_names_the_component_that_gained_most():
    rival = gaps()
    assert cu.churn_reason(gaps(quality=0.5, empathy=0.2), rival, True, cu.EVENT_NONE) == cu.POOR_SERVICE
    assert cu.churn_reason(gaps(quality=0.5, empathy=0.2), rival, True, cu.EVENT_BOT_FRUSTRATION) == cu.BOT_FRUSTRATION
    assert cu.churn_reason(gaps(quality=0.1, empathy=0.6), rival, True, cu.EVENT_BOT_FRUSTRATION) == cu.INDIFFERENCE
    assert cu.churn_reason(gaps(price=0.3), rival, True, cu.EVENT_NONE) == cu.PRICE
    assert cu.churn_reason(gaps(), gaps(buzz=0.5), True, cu.EVENT_NONE) == cu.COMPETITOR_PULL
    assert cu.churn_reason(gaps(), gaps(), True, cu.EVENT_NONE) == cu.OTHER  # no component gained: taste
    assert cu.churn_reason(gaps(), gaps(buzz=1.0), False, cu.EVENT_NONE) == cu.OTHER  # doing without never "pulls"


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


def reconsider(shocks: np.ndarray, week: Week, **state: object) -> choice.Moves:
    return run_process(choice.reconsider, shocks, week, **state).moves


def test_reconsider_exits_by_the_first_range_and_reviews_by_the_second():
    cfg = reconsider_config()
    fs = fm.create([FirmConfig(price=1.0)])
    c = customers([0.0] * 4, [0, 0, 0, -1], quality=[0.2] * 4, felt_empathy=[1.0] * 4, value=[3.0, 4.0, 5.0, 0.0])
    c.since[:] = [-1, -1, -1, 0]
    c.last_event[1] = cu.EVENT_BOT_FRUSTRATION
    # exit below 0.1; review in [0.1, 0.1 + 0.9 * 0.5 = 0.55); the prospect's shock is ignored
    moves = reconsider(rows([0.05, 0.3, 0.9, 0.01], [0.5, 0.5, 0.5, 0.5]), Week(3), customers=c, firms=fs, cfg=cfg)
    assert c.firm.tolist() == [-1, -1, 0, -1]  # the reviewer leaves for the (very good) outside option
    assert moves.churn[0, cu.OTHER] == 1 and moves.churn[0, cu.BOT_FRUSTRATION] == 1 and moves.churn.sum() == 2
    assert moves.churn_by_segment[0, cu.PRICE_DRIVEN].tolist() == moves.churn[0].tolist()
    assert moves.closed.tolist() == [2] and moves.closed_value.tolist() == pytest.approx([7.0])
    assert moves.switched_in.tolist() == [0]
    c = customers([0.0] * 2, [0, 0], quality=[0.2] * 2, felt_empathy=[1.0] * 2)
    moves = reconsider(rows([0.05, 0.3], [0.5, 0.5]), Week(3), customers=c, firms=fs,
                       cfg=reconsider_config(choice=False))
    assert c.firm.tolist() == [-1, 0] and moves.churn[0, cu.OTHER] == 1  # no reviewing: only the exit


def test_a_reviewer_switches_to_a_better_rival_with_habit_and_attachment_holding_it_back():
    cfg = SimConfig(market=MarketConfig(base_churn=0.0, outside_utility=-10.0), wom=WomConfig(enabled=False),
                    behaviour=BehaviourConfig(review_rate=1.0, choice_noise=0.01, switching_cost=0.3,
                                              attachment_weight=1.0, empathy_weight=0.0, price_weight=0.0))
    fs = fm.create([FirmConfig(), FirmConfig()], 0.9)
    c = customers([0.0] * 3, [0, 0, 1], firms=2, quality=[0.5, 0.5, 0.9], attachment=[0.0, 0.2, 0.0])
    # own quality 0.5 vs rival's reputation 0.9: gain 0.4 beats habit 0.3, not habit 0.3 + attachment 0.2
    moves = reconsider(rows([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]), Week(5), customers=c, firms=fs, cfg=cfg)
    assert c.firm.tolist() == [1, 0, 1] and c.since.tolist() == [5, 0, 0]
    assert moves.switched_in.tolist() == [0, 1] and moves.churn[0, cu.POOR_SERVICE] == 1
    assert moves.closed.tolist() == [1, 0]


def test_weekly_discount_compounds_to_the_annual_rate():
    cfg = SimConfig(market=MarketConfig(discount_rate=0.1))
    assert (1 + choice.weekly_discount(cfg)) ** 52 == pytest.approx(1.1, rel=1e-12)
