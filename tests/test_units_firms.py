"""Exact unit tests of the firms' processes: reputations, pricing policies, adaptation, incidents, staffing."""

from __future__ import annotations

import numpy as np
import pytest

from sim import firms as fm
from sim.config import AdaptConfig, FirmConfig


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
        fm.set_prices(fs, step)
        seen.append(fs.price.tolist())
    # promotions at weeks 0, 1 and 4; matchers follow last week's cheapest rival, within [floor, own base]
    assert seen[0] == pytest.approx([0.75, 0.9, 0.9, 0.95])
    assert seen[1] == pytest.approx([0.75, 0.8, 0.9, 0.95])
    assert seen[2] == pytest.approx([1.0, 0.8, 0.9, 0.95])
    assert seen[3] == pytest.approx([1.0, 0.9, 0.9, 0.95])
    assert seen[4] == pytest.approx([0.75, 0.9, 0.9, 0.95])
    alone = fm.create([FirmConfig(price=1.3, pricing="match_cheapest")])
    fm.set_prices(alone, 0)
    assert alone.price.tolist() == [1.3]


def test_adaptation_matches_price_after_losing_customers_and_imitates_the_most_profitable():
    fs = fm.create([FirmConfig(name="Focal", automation=0.1, price=1.0),
                    FirmConfig(name="Big", automation=0.8, price=0.7),
                    FirmConfig(name="Adapter", automation=0.2, price=1.1, price_floor=0.9, adapts=True)])
    fs.profit_since_review[:] = [5.0, 9.0, 1.0]
    notes = fm.adapt(fs, np.array([10, 10, 4]), np.array([10, 10, 5]), AdaptConfig(imitation_rate=0.5))
    assert fs.base_price.tolist() == [1.0, 0.7, 0.9]  # matched down to its floor
    assert fs.automation.tolist() == pytest.approx([0.1, 0.8, 0.5])
    assert notes == ["Adapter cut its price from 1.10 to 0.90 to match a rival",
                     "Adapter moved automation to 0.50, imitating Big"]
    assert fs.profit_since_review.tolist() == [0, 0, 0]
    # no loss, no price change; the best firm itself does not imitate; switches off work
    fs.profit_since_review[:] = [0.0, 0.0, 3.0]
    assert fm.adapt(fs, np.array([10, 10, 5]), np.array([10, 10, 5]), AdaptConfig()) == []
    fs.profit_since_review[:] = [0.0, 3.0, 0.0]
    assert fm.adapt(fs, np.array([1, 1, 1]), np.array([9, 9, 9]), AdaptConfig(price_matching=False,
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
    assert fm.staff_needed(np.array([0.0, 160.0, 161.0]), np.array([200.0] * 3), 0.8).tolist() == [1, 1, 2]
    fs = fm.create([FirmConfig(automation=0.5, bot_handover=0.4), FirmConfig(automation=0.0)])
    assert fm.expected_human_share(fs, 0.25).tolist() == pytest.approx([1 - 0.5 * 0.9, 1.0])
