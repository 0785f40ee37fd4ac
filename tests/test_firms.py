"""Firms: pricing policies and competitor adaptation, on hand-made firms and in runs."""

from __future__ import annotations

import numpy as np

from sim import firms
from sim.config import AdaptConfig, FirmConfig
from tests.conftest import run


def make(*configs: FirmConfig) -> firms.Firms:
    return firms.create(list(configs))


def test_promotions_cut_the_price_in_promotion_weeks_only():
    fs = make(FirmConfig(name="a", price=1.0, pricing="promotions", promo_every=10, promo_weeks=2, promo_depth=0.2))
    prices = []
    for week in range(12):
        firms.set_prices(fs, week)
        prices.append(float(fs.price[0]))
    assert prices[:2] == [0.8, 0.8] and prices[2:10] == [1.0] * 8 and prices[10:] == [0.8, 0.8]


def test_match_cheapest_follows_the_cheapest_rival_down_to_its_floor():
    fs = make(FirmConfig(name="a", price=1.0, pricing="match_cheapest", price_floor=0.85),
              FirmConfig(name="b", price=0.9), FirmConfig(name="c", price=0.7))
    firms.set_prices(fs, 0)
    assert fs.price[0] == 0.85  # the floor, not 0.7
    fs.base_price[2] = 0.95
    firms.set_prices(fs, 1)
    firms.set_prices(fs, 2)
    assert fs.price[0] == 0.9


def test_losing_adaptive_firm_matches_price_and_imitates_the_most_profitable_automation():
    fs = make(FirmConfig(name="focal", price=0.8, automation=0.6),
              FirmConfig(name="rival", price=1.0, automation=0.0, adapts=True, price_floor=0.5))
    fs.profit_since_review[:] = [100.0, 10.0]
    notes = firms.adapt(fs, customers_now=np.array([50, 40]), customers_before=np.array([50, 60]),
                        cfg=AdaptConfig(imitation_rate=0.5))
    assert fs.base_price[1] == 0.8
    assert fs.automation[1] == 0.3
    assert len(notes) == 2 and "rival" in notes[0]
    assert fs.automation[0] == 0.6 and fs.base_price[0] == 0.8  # the focal firm does not adapt


def test_a_growing_firm_keeps_its_price():
    fs = make(FirmConfig(name="a", price=0.8), FirmConfig(name="b", price=1.0, adapts=True))
    firms.adapt(fs, np.array([10, 70]), np.array([10, 60]), AdaptConfig(imitation=False))
    assert fs.base_price[1] == 1.0


def test_adaptation_switch_in_a_run():
    on = run("adapt.enabled=true", "adapt.every=8", seed=3)
    off = run("adapt.enabled=false", "adapt.every=8", seed=3)
    assert on.model.notes and not off.model.notes
    automation = off.table.groupby("firm")["automation"].nunique()
    assert (automation == 1).all()  # nobody changes strategy when adaptation is off
