"""Firms: pricing policies and competitor adaptation, on hand-made firms and in runs."""

from __future__ import annotations

import numpy as np

from sim import firms
from sim.config import AdaptConfig, FirmConfig
from sim.model import Week
from tests.conftest import run
from tests.forced import market


def make(*configs: FirmConfig) -> firms.Firms:
    return firms.create(list(configs))


def test_promotions_cut_the_price_in_promotion_weeks_only():
    fs = make(FirmConfig(name="a", price=1.0, pricing="promotions", promo_every=10, promo_weeks=2, promo_depth=0.2))
    prices = []
    for week in range(12):
        firms.set_prices(market(firms=fs), Week(week))
        prices.append(float(fs.price[0]))
    assert prices[:2] == [0.8, 0.8] and prices[2:10] == [1.0] * 8 and prices[10:] == [0.8, 0.8]


def test_match_cheapest_follows_the_cheapest_rival_down_to_its_floor():
    fs = make(FirmConfig(name="a", price=1.0, pricing="match_cheapest", price_floor=0.85),
              FirmConfig(name="b", price=0.9), FirmConfig(name="c", price=0.7))
    firms.set_prices(market(firms=fs), Week(0))
    assert fs.price[0] == 0.85  # the floor, not 0.7
    fs.base_price[2] = 0.95
    firms.set_prices(market(firms=fs), Week(1))
    firms.set_prices(market(firms=fs), Week(2))
    assert fs.price[0] == 0.9


def test_losing_adaptive_firm_matches_price_and_imitates_the_most_profitable_automation():
    fs = make(FirmConfig(name="focal", price=0.8, automation=0.6),
              FirmConfig(name="rival", price=1.0, automation=0.0, adapts=True, price_floor=0.5))
    fs.profit_since_review[:] = [100.0, 10.0]
    notes = firms.review_strategies(fs, customers_now=np.array([50, 40]), customers_before=np.array([50, 60]),
                        cfg=AdaptConfig(imitation_rate=0.5))
    assert fs.base_price[1] == 0.8
    assert fs.automation[1] == 0.3
    assert len(notes) == 2 and "rival" in notes[0]
    assert fs.automation[0] == 0.6 and fs.base_price[0] == 0.8  # the focal firm does not adapt


def test_a_growing_firm_keeps_its_price():
    fs = make(FirmConfig(name="a", price=0.8), FirmConfig(name="b", price=1.0, adapts=True))
    firms.review_strategies(fs, np.array([10, 70]), np.array([10, 60]), AdaptConfig(imitation=False))
    assert fs.base_price[1] == 1.0


def test_adaptation_switch_in_a_run():
    on = run("adapt.enabled=true", "adapt.every=8", seed=3)
    off = run("adapt.enabled=false", "adapt.every=8", seed=3)
    assert on.model.notes and not off.model.notes
    automation = off.table.groupby("firm")["automation"].nunique()
    assert (automation == 1).all()  # nobody changes strategy when adaptation is off


def losing(*configs: FirmConfig, reviews: int, cfg: AdaptConfig) -> tuple[firms.Firms, list[str]]:
    """Firms whose second firm loses money in `reviews` reviews running while the first earns."""
    fs, notes = make(*configs), []
    for _ in range(reviews):
        fs.profit_since_review[:] = [100.0, -50.0][: fs.n] + [10.0] * (fs.n - 2)
        notes += firms.review_strategies(fs, np.full(fs.n, 10), np.full(fs.n, 10), cfg)
    return fs, notes


LOSER = FirmConfig(name="loser", price=0.8, advertising=0.04, staff=5, adapts=True, fixed_cost=900.0,
                   price_floor=0.5)
LEADER = FirmConfig(name="leader", price=1.2, automation=0.0)


def test_a_firm_that_keeps_losing_money_cuts_costs_then_reprices_then_exits():
    cfg = AdaptConfig(loss_reviews=2, cost_cut=0.5, imitation_rate=0.5, imitation=False)
    fs, notes = losing(LEADER, LOSER, reviews=1, cfg=cfg)
    assert not notes and fs.configs[1].advertising == 0.04  # one loss-making review is not yet a pattern
    fs, notes = losing(LEADER, LOSER, reviews=2, cfg=cfg)
    assert fs.configs[1].advertising == 0.02 and fs.configs[1].staff is None and fs.base_price[1] == 0.8
    assert len(notes) == 1 and "cut its advertising" in notes[0]
    fs, notes = losing(LEADER, LOSER, reviews=4, cfg=cfg)
    assert fs.base_price[1] == 1.0 and fs.active[1]  # half way to the most profitable rival's price
    fs, notes = losing(LEADER, LOSER, reviews=6, cfg=cfg)
    assert not fs.active[1] and fs.configs[1].fixed_cost == 0 and fs.configs[1].advertising == 0
    assert "left the market" in notes[-1]
    assert fs.active[0] and fs.configs[0] == LEADER  # the profitable firm is untouched


def test_a_profitable_review_resets_the_count_and_the_response_can_be_limited():
    cfg = AdaptConfig(loss_reviews=2, imitation=False)
    fs = make(LEADER, LOSER)
    for profit in (-50.0, 20.0, -50.0):  # never two losing reviews running
        fs.profit_since_review[:] = [100.0, profit]
        firms.review_strategies(fs, np.full(2, 10), np.full(2, 10), cfg)
    assert fs.configs[1] == LOSER and fs.loss_stage[1] == 0
    for response, stage in (("none", 0), ("cut", 1), ("reprice", 2), ("exit", 3)):
        fs, _ = losing(LEADER, LOSER, reviews=20, cfg=AdaptConfig(loss_reviews=2, imitation=False,
                                                                  loss_response=response))
        assert fs.loss_stage[1] == stage and fs.active[1] == (response != "exit"), response


def test_an_exited_firm_loses_its_customers_staff_and_costs_and_nobody_joins_it():
    """A rival with ruinous overheads leaves the market; its customers become prospects and others win them."""
    ruin = ("competitors.online.fixed_cost=1000000", "adapt.every=4", "adapt.loss_reviews=1", "run.burn_in=0")
    gone = run(*ruin, seed=1, steps=30)
    kept = run(*ruin, "adapt.loss_response=cut", seed=1, steps=30)
    t = gone.table[gone.table.firm == "OnlineStore"]
    after = t[t.step >= 14]  # it exits at the third review (week 12) and its customers leave the next week
    assert any("OnlineStore left the market" in n for n in gone.model.notes)
    assert (after.customers == 0).all() and (after.employees == 0).all() and (after.costs == 0).all()
    assert (after.acquisitions_advertising + after.acquisitions_referral + after.acquisitions_switching == 0).all()
    assert t[t.step == 12].churn_other.iloc[0] > 0.5 * t[t.step == 11].customers.iloc[0]
    assert not any("left the market" in n for n in kept.model.notes)
    assert kept.table[kept.table.firm == "OnlineStore"].customers.iloc[-1] > 100
    others = gone.table[(gone.table.firm != "OnlineStore") & (gone.table.step == 29)].customers.sum()
    assert others > kept.table[(kept.table.firm != "OnlineStore") & (kept.table.step == 29)].customers.sum()


def test_losses_in_the_warm_up_do_not_count():
    fs = make(LEADER, LOSER)
    for _ in range(6):
        fs.profit_since_review[:] = [100.0, -50.0]
        firms.review_strategies(fs, np.full(2, 10), np.full(2, 10), AdaptConfig(loss_reviews=1), losses_count=False)
    assert fs.configs[1] == LOSER and fs.active[1] and fs.loss_stage[1] == 0
