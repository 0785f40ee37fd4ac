"""Exact unit tests of the firms' processes: reputations, pricing policies, adaptation, incidents, staffing."""

from __future__ import annotations

import numpy as np
import pytest

from sim import employees as em
from sim import firms as fm
from sim.config import AdaptConfig, FirmConfig
from sim.model import Week
from tests.forced import market


def test_firms_start_with_the_reputation_their_strategy_promises():
    fs = fm.create([FirmConfig(name="A", empathy=0.5, automation=0.5, price=1.2),
                    FirmConfig(name="B", empathy=1.0, automation=0.0, bot_handover=0.3, bot_quality=0.6)], 0.65)
    assert fs.n == 2 and fs.names == ["A", "B"]
    assert fs.reputation_quality.tolist() == [0.65, 0.65]
    assert fs.reputation_empathy.tolist() == pytest.approx([0.3 + 0.4 * 0.25, 0.7])
    assert fs.base_price.tolist() == [1.2, 1.0] and fs.price.tolist() == [1.2, 1.0]
    assert fs.bot_handover.tolist() == [0.5, 0.3] and fs.bot_quality.tolist() == [0.75, 0.6]
    assert fs.per_firm("wage").dtype == np.float64 and fs.profit_since_review.tolist() == [0, 0]
    fs.base_price[0] = 2.0
    assert fs.price[0] == 1.2  # price and base price are separate arrays
    q, e = fs.reputation
    assert q.dtype == np.float32 and e.tolist() == pytest.approx([0.4, 0.7])


def test_pricing_policies_fixed_promotions_and_matching_the_cheapest_rival():
    fs = fm.create([FirmConfig(price=1.0, pricing="promotions", promo_every=4, promo_weeks=2, promo_depth=0.25),
                    FirmConfig(price=1.2, pricing="match_cheapest", price_floor=0.8),
                    FirmConfig(price=0.9),
                    FirmConfig(price=1.1, pricing="match_cheapest", price_floor=0.95)])
    seen = []
    for step in range(5):
        fm.set_prices(market(firms=fs), Week(step))
        seen.append(fs.price.tolist())
    # promotions at weeks 0, 1 and 4; matchers follow last week's cheapest rival, within [floor, own base]
    assert seen[0] == pytest.approx([0.75, 0.9, 0.9, 0.95])
    assert seen[1] == pytest.approx([0.75, 0.8, 0.9, 0.95])
    assert seen[2] == pytest.approx([1.0, 0.8, 0.9, 0.95])
    assert seen[3] == pytest.approx([1.0, 0.9, 0.9, 0.95])
    assert seen[4] == pytest.approx([0.75, 0.9, 0.9, 0.95])
    alone = fm.create([FirmConfig(price=1.3, pricing="match_cheapest")])
    fm.set_prices(market(firms=alone), Week(0))
    assert alone.price.tolist() == [1.3]


def test_adaptation_matches_price_after_losing_customers_and_imitates_the_most_profitable():
    fs = fm.create([FirmConfig(name="Focal", automation=0.1, price=1.0),
                    FirmConfig(name="Big", automation=0.8, price=0.7),
                    FirmConfig(name="Adapter", automation=0.2, price=1.1, price_floor=0.9, adapts=True)])
    fs.profit_since_review[:] = [5.0, 9.0, 1.0]
    notes = fm.review_strategies(fs, np.array([10, 10, 4]), np.array([10, 10, 5]), AdaptConfig(imitation_rate=0.5))
    assert fs.base_price.tolist() == [1.0, 0.7, 0.9]  # matched down to its floor
    assert fs.automation.tolist() == pytest.approx([0.1, 0.8, 0.5])
    assert notes == ["Adapter cut its price from 1.10 to 0.90 to match a rival",
                     "Adapter moved automation to 0.50, imitating Big"]
    assert fs.profit_since_review.tolist() == [0, 0, 0]
    # no loss, no price change; the best firm itself does not imitate; switches off work
    fs.profit_since_review[:] = [0.0, 0.0, 3.0]
    assert fm.review_strategies(fs, np.array([10, 10, 5]), np.array([10, 10, 5]), AdaptConfig()) == []
    fs.profit_since_review[:] = [0.0, 3.0, 0.0]
    assert fm.review_strategies(fs, np.array([1, 1, 1]), np.array([9, 9, 9]), AdaptConfig(price_matching=False,
                                                                                  imitation=False)) == []
    assert fs.base_price[2] == 0.9 and fs.automation[2] == pytest.approx(0.5)


def test_reputation_follows_customers_and_is_kept_without_them():
    fs = fm.create([FirmConfig(), FirmConfig()])
    fm.update_reputation(fs, np.array([3, 0]), np.array([0.9, 0.1]), np.array([0.8, 0.1]))
    assert fs.reputation_quality.tolist() == [0.9, 0.7] and fs.reputation_empathy.tolist() == pytest.approx([0.8, 0.46])


def test_an_incident_raises_the_failure_rate_for_its_weeks_only():
    fs = fm.create([FirmConfig(incident_week=3, incident_weeks=2, incident_failure_rate=0.3),
                    FirmConfig(incident_week=0, incident_weeks=1, incident_failure_rate=0.99), FirmConfig()])
    rates = np.array([fm.failure_rate(fs, step, 0.05) for step in range(6)])
    assert rates == pytest.approx(np.array([[0.05, 1.0, 0.05], [0.05, 0.05, 0.05], [0.05, 0.05, 0.05],
                                   [0.35, 0.05, 0.05], [0.35, 0.05, 0.05], [0.05, 0.05, 0.05]]))


def test_staff_needed_and_the_share_of_encounters_that_reach_a_person():
    assert em.staff_needed(np.array([0.0, 160.0, 161.0]), np.array([200.0] * 3), 0.8).tolist() == [1, 1, 2]
    fs = fm.create([FirmConfig(automation=0.5, bot_handover=0.4), FirmConfig(automation=0.0)])
    assert fm.expected_human_share(fs, 0.25).tolist() == pytest.approx([1 - 0.5 * 0.9, 1.0])


def test_whole_number_settings_still_give_float_levers():
    fs = fm.create([FirmConfig(price=2, pricing="promotions", promo_every=2, promo_weeks=1, promo_depth=0.25,
                               capacity=200)])
    fm.set_prices(market(firms=fs), Week(0))
    assert fs.price.tolist() == [1.5]  # not truncated to a whole number
    assert fs.per_firm("capacity").dtype == np.float64


def loser_market(**adapt) -> tuple[fm.Firms, AdaptConfig]:
    fs = fm.create([FirmConfig(name="Focal", price=1.0),
                    FirmConfig(name="Rival", price=0.8),
                    FirmConfig(name="Loser", price=1.2, price_floor=0.5, advertising=0.04, staff=3,
                               staff_to_demand=False, fixed_cost=100.0, automation_cost=50.0, adapts=True)])
    return fs, AdaptConfig(**({"price_matching": False, "imitation": False, "loss_reviews": 2, "cost_cut": 0.25,
                               "imitation_rate": 0.5} | adapt))


def review(fs: fm.Firms, cfg: AdaptConfig, loser_profit: float, **kw) -> list[str]:
    fs.profit_since_review[:] = [5.0, 9.0, loser_profit]
    n = np.array([10, 10, 10])
    return fm.review_strategies(fs, n, n, cfg, **kw)


def test_a_firm_that_keeps_losing_money_cuts_costs_then_reprices_then_leaves():
    fs, cfg = loser_market()
    lost = "after 2 loss-making reviews running"
    assert review(fs, cfg, -1.0) == [] and fs.losing_reviews[2] == 1 and fs.loss_stage[2] == 0
    assert review(fs, cfg, -1.0) == [f"Loser cut its advertising by 25% and staffs to demand, {lost}"]
    c = fs.configs[2]
    assert (c.advertising, c.staff, c.staff_to_demand, c.fixed_cost) == (pytest.approx(0.03), None, True, 100.0)
    assert (fs.losing_reviews[2], fs.loss_stage[2]) == (0, 1)
    # a review without a loss (profit 0 or a little above) restarts the count
    assert review(fs, cfg, -1.0) == [] and fs.losing_reviews[2] == 1
    assert review(fs, cfg, 0.0) == [] and fs.losing_reviews[2] == 0
    assert review(fs, cfg, -1.0) == [] and review(fs, cfg, 0.5) == [] and fs.losing_reviews[2] == 0
    assert review(fs, cfg, -1.0) == []
    # then it moves its price half-way to the most profitable rival's (Rival, 0.8)
    assert review(fs, cfg, -1.0) == [f"Loser moved its price from 1.20 to 1.00, towards Rival's, {lost}"]
    assert fs.base_price.tolist() == pytest.approx([1.0, 0.8, 1.0]) and fs.loss_stage[2] == 2
    assert review(fs, cfg, -1.0) == [] and fs.active.all()
    assert review(fs, cfg, -1.0) == [f"Loser left the market {lost}: its customers become prospects"]
    c = fs.configs[2]
    assert fs.active.tolist() == [True, True, False] and fs.loss_stage[2] == 3
    assert (c.advertising, c.fixed_cost, c.automation_cost, c.staff) == (0.0, 0.0, 0.0, None)
    assert c.staff_to_demand and c.wage == FirmConfig().wage  # the rest of its config is kept
    assert review(fs, cfg, -1.0) == [] and fs.losing_reviews[2] == 0  # gone: no more reviews


def test_a_loss_response_goes_no_further_than_configured_and_not_during_the_warm_up():
    fs, cfg = loser_market(loss_response="cut", loss_reviews=1)
    assert review(fs, cfg, -1.0, losses_count=False) == [] and fs.losing_reviews[2] == 0
    assert len(review(fs, cfg, -1.0)) == 1 and fs.loss_stage[2] == 1
    for _ in range(3):
        assert review(fs, cfg, -1.0) == []
    assert fs.loss_stage[2] == 1 and fs.base_price[2] == 1.2 and fs.active.all()
    fs, cfg = loser_market(loss_response="none", loss_reviews=1)
    assert review(fs, cfg, -1.0) == [] and (fs.losing_reviews[2], fs.loss_stage[2]) == (0, 0)
    # repricing with no rival left to learn from keeps the price; the floor bounds the move
    alone = fm.create([FirmConfig(name="Alone", price=1.2, adapts=True)])
    alone.loss_stage[0], alone.profit_since_review[0] = 1, -1.0
    notes = fm.respond_to_losses(alone, 0, AdaptConfig(loss_reviews=1))
    assert notes == ["Alone kept its price after 1 loss-making reviews running: no rival to learn from"]
    assert alone.base_price[0] == 1.2 and alone.loss_stage[0] == 2
    fs, cfg = loser_market(loss_reviews=1)
    fs.loss_stage[2], fs.configs[2] = 1, FirmConfig(name="Loser", price=1.2, price_floor=1.1, adapts=True)
    review(fs, cfg, -1.0)
    assert fs.base_price[2] == 1.1


def test_adaptation_ignores_firms_that_left_and_does_not_chase_what_it_need_not():
    fs = fm.create([FirmConfig(name="A", automation=0.6, price=0.7), FirmConfig(name="Gone", automation=1.0),
                    FirmConfig(name="Adapter", automation=0.0, price=1.0, price_floor=1.0, adapts=True)])
    fs.active[1] = False
    fs.profit_since_review[:] = [-5.0, 0.0, -9.0]  # the firm that left shows the best profit: not a model
    notes = fm.review_strategies(fs, np.array([5, 0, 4]), np.array([5, 0, 5]), AdaptConfig(imitation_rate=0.5,
                                                                               loss_response="none"))
    assert notes == ["Adapter moved automation to 0.30, imitating A"]  # at its floor already: no price note
    fs.automation[:] = [1e-9, 0.0, 0.0]
    fs.profit_since_review[:] = [1.0, 0.0, 0.0]
    fs.configs[2] = FirmConfig(name="Adapter", price=1.0, price_floor=0.5, adapts=True)
    # no customers lost (same count): no price match; a gap of 1e-9 is no gap
    assert fm.review_strategies(fs, np.array([5, 0, 5]), np.array([5, 0, 5]), AdaptConfig(loss_response="none")) == []
    # price matching switched off: no match even after a loss
    assert fm.review_strategies(fs, np.array([5, 0, 4]), np.array([5, 0, 5]),
                    AdaptConfig(price_matching=False, loss_response="none")) == []
    assert fs.base_price[2] == 1.0 and fs.automation[2] == 0.0


def test_one_customer_is_enough_to_set_a_reputation_and_staffing_checks_its_inputs():
    fs = fm.create([FirmConfig(), FirmConfig()])
    fm.update_reputation(fs, np.array([1, 0]), np.array([0.9, 0.1]), np.array([0.8, 0.1]))
    assert fs.reputation_quality.tolist() == [0.9, 0.7]
    with pytest.raises(ValueError):
        em.staff_needed(np.array([1.0, 2.0]), np.array([200.0]), 0.8)
