"""A deterministic micro-market: every money line, CLTV and predicted CLTV against closed forms.

One firm, no rivals, no word of mouth, no reconsidering (only exogenous churn), fixed staff, no
warm-up. The test steps the model itself and counts from the state what happened each week
(purchases, customers, staff, hires), then rebuilds revenue, each cost line, profit, CLTV and
predicted CLTV from those counts by their closed forms. Margins and the discount rate are chosen
so that customer value (float32) is exact where the test asks for 1e-9.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim import employees as em
from sim import metrics
from sim.config import AdaptConfig, BehaviourConfig, FirmConfig, MarketConfig, RunConfig, SimConfig, WomConfig, validate
from sim.firms import COST_ITEMS
from sim.model import EmpathyMarket
from sim.results import simulate

WEEKS = 30
TIGHT = dict(rel=1e-9, abs=1e-9)


def config(discount_rate: float = 0.0, **firm) -> SimConfig:
    focal = dict(name="Solo", empathy=0.5, automation=0.25, bot_handover=0.5, price=1.25, unit_cost=0.5, staff=2,
                 wage=480.0, empathy_cost=60.0, hire_cost=1000.0, advertising=0.02, ad_cost=2.0, referral_bonus=0.0,
                 automation_cost=400.0, bot_contact_cost=0.05, fixed_cost=123.0, initial_share=1.0) | firm
    return validate(SimConfig(
        seed=7, run=RunConfig(steps=WEEKS, burn_in=0, progress=False),
        market=MarketConfig(customers=400, initial_adoption=0.5, base_churn=0.01, basket=10.0, visit_rate=0.8,
                            discount_rate=discount_rate),
        firm=FirmConfig(**focal), competitors={}, wom=WomConfig(enabled=False),
        behaviour=BehaviourConfig(choice=False, base_quit=0.05, hire_weeks=0.0), adapt=AdaptConfig(enabled=False)))


def step_and_count(cfg: SimConfig) -> tuple[EmpathyMarket, dict[str, np.ndarray], np.ndarray]:
    """Step the model week by week; count from the state what each week did; track each relationship's value."""
    m = EmpathyMarket(cfg)
    i_week = (1 + cfg.market.discount_rate) ** (1 / 52) - 1
    margin = cfg.market.basket * (cfg.firm.price - cfg.firm.unit_cost)
    seen = {k: [] for k in ("before", "after", "churned", "adopted", "visits", "staff", "hires")}
    value = np.zeros(cfg.market.customers)  # float64 closed form of each open relationship's value at step 0
    closed = 0.0
    for t in range(WEEKS):
        before = m.customers.firm >= 0
        m.step()
        after = m.customers.firm >= 0
        joined = after & (m.customers.since == t)
        left = before & ~after
        closed += (value[left] * (1 + i_week) ** m.customers.since[left]).sum()
        value[joined] = 0
        value += m.purchases * margin / (1 + i_week) ** t
        active = m.workforce.status == em.ACTIVE
        for key, x in (("before", before.sum()), ("after", after.sum()), ("churned", left.sum()),
                       ("adopted", joined.sum()), ("visits", m.purchases.sum()), ("staff", active.sum()),
                       ("hires", (active & (m.workforce.tenure == 0)).sum())):
            seen[key].append(int(x))
        assert not (m.purchases[~before] > 0).any()  # only customers served at the week's start buy
    seen = {k: np.array(v) for k, v in seen.items()}
    served = m.customers.firm >= 0
    open_value = (value[served] * (1 + i_week) ** m.customers.since[served]).sum()
    seen["cltv"] = np.array((closed + open_value) / (seen["before"][0] + seen["adopted"].sum()))
    return m, seen, value


@pytest.fixture(scope="module")
def exact():
    cfg = config()
    m, seen, _ = step_and_count(cfg)
    return cfg, m, seen, m.recorder.table(), metrics.summarise(m, m.recorder.table())["Solo"]


def test_the_micro_market_is_alive(exact):
    _, _, seen, _, _ = exact
    assert seen["visits"].sum() > 1000 and seen["churned"].sum() > 10 and seen["adopted"].sum() > 10
    assert seen["hires"].sum() >= 1 and (seen["staff"] == 2).all()


def test_revenue_and_every_cost_line_by_its_closed_form(exact):
    cfg, m, seen, t, _ = exact
    f, basket = cfg.firm, cfg.market.basket
    assert t["visits"].tolist() == seen["visits"].tolist()
    assert t["customers"].tolist() == seen["after"].tolist()
    assert t["customers_at_start"].tolist() == seen["before"].tolist()
    assert t["churned"].tolist() == seen["churned"].tolist()
    assert t["acquisitions_advertising"].tolist() == seen["adopted"].tolist()
    assert t["employees"].tolist() == seen["staff"].tolist() and t["hires"].tolist() == seen["hires"].tolist()
    prospects = cfg.market.customers - seen["before"] + seen["churned"]  # at adoption, after this week's churn
    bot_contacts = t["bot_contacts"].to_numpy()
    assert 0 < bot_contacts.sum() < t["contacts"].sum()
    want = {
        "goods": seen["visits"] * basket * f.unit_cost,
        "wages": seen["staff"] * f.wage,
        "empathy_programme": seen["staff"] * f.empathy_cost * f.empathy,
        "automation": f.automation * f.automation_cost + bot_contacts * f.bot_contact_cost,
        "advertising": f.advertising * prospects * f.ad_cost,
        "hiring": seen["hires"] * f.hire_cost,
        "referral_bonus": np.zeros(WEEKS),
        "fixed": np.full(WEEKS, f.fixed_cost),
        "one_off": np.zeros(WEEKS),  # no plan: no one-off cost
    }
    revenue = seen["visits"] * basket * f.price
    assert t["revenue"].to_numpy() == pytest.approx(revenue, **TIGHT)
    for k in COST_ITEMS:
        assert t[f"cost_{k}"].to_numpy() == pytest.approx(want[k], **TIGHT), k
    costs = sum(want.values())
    assert t["costs"].to_numpy() == pytest.approx(costs, **TIGHT)
    assert t["profit"].to_numpy() == pytest.approx(revenue - costs, **TIGHT)
    assert t["gross_margin"].to_numpy() == pytest.approx(revenue - want["goods"], **TIGHT)


def test_summary_rates_cltv_and_predicted_cltv_by_their_closed_forms(exact):
    cfg, m, seen, t, s = exact
    f, basket = cfg.firm, cfg.market.basket
    r = 1 - seen["churned"].sum() / seen["before"].sum()
    margin = seen["visits"].sum() * basket * (f.price - f.unit_cost) / seen["after"].sum()
    assert s["retention_rate"] == pytest.approx(r**52, **TIGHT)
    assert s["churn_rate"] == pytest.approx(1 - r**52, **TIGHT)
    assert s["cltv_predicted"] == pytest.approx(margin * r / (1 - r), **TIGHT)  # discount rate 0
    assert s["cltv"] == pytest.approx(float(seen["cltv"]), **TIGHT)
    assert s["revenue"] == pytest.approx(t["revenue"].sum(), **TIGHT)
    assert s["profit"] == pytest.approx(s["revenue"] - s["costs"], **TIGHT)
    assert s["costs_by_category"] == pytest.approx({k: t[f"cost_{k}"].sum() for k in COST_ITEMS}, **TIGHT)
    assert s["market_share"] == 1 and s["revenue_share"] == 1
    cohort = int(((m.customers.since < 0) & (m.customers.firm >= 0)).sum())
    assert s["cohort_retention"] == pytest.approx(cohort / seen["before"][0], **TIGHT)
    assert s["visits_per_customer_week"] == pytest.approx(seen["visits"].sum() / seen["before"].sum(), **TIGHT)
    assert s["cac"] == pytest.approx(t["cost_advertising"].sum() / seen["adopted"].sum(), **TIGHT)
    quits = t["quits"].sum()
    assert quits == seen["hires"].sum()  # vacancies refill the same week (hire_weeks 0)
    assert s["employee_turnover"] == pytest.approx(52 * quits / seen["staff"].sum(), **TIGHT)
    assert s["acquisitions_by_channel"] == {"advertising": int(seen["adopted"].sum()), "referral": 0, "switching": 0}
    assert s["churn_by_reason"]["other"] == seen["churned"].sum()
    assert s["customers"] == seen["after"][-1] and s["employees"] == 2


def test_cltv_discounts_each_week_to_the_relationship_start():
    """At 10% a year, value is discounted week by week (float32 storage: 1e-6), predicted CLTV exactly."""
    cfg = config(discount_rate=0.1)
    m, seen, _ = step_and_count(cfg)
    s = metrics.summarise(m, m.recorder.table())["Solo"]
    i = 1.1 ** (1 / 52) - 1
    r = 1 - seen["churned"].sum() / seen["before"].sum()
    margin = seen["visits"].sum() * cfg.market.basket * (cfg.firm.price - cfg.firm.unit_cost) / seen["after"].sum()
    assert s["cltv_predicted"] == pytest.approx(margin * r / (1 + i - r), **TIGHT)
    assert s["cltv"] == pytest.approx(float(seen["cltv"]), rel=1e-6)
    assert s["cltv"] < metrics.summarise(*_undiscounted())["Solo"]["cltv"]


def _undiscounted():
    m, _, _ = step_and_count(config())
    return m, m.recorder.table()


def test_years_split_the_accounts_and_rates():
    cfg = config()
    r = simulate(cfg)
    t = r.table
    years = r.summary["firms"]["Solo"]["years"]
    assert [y["weeks"] for y in years] == [WEEKS]  # one short year
    y = years[0]
    assert y["revenue"] == pytest.approx(t["revenue"].sum(), **TIGHT)
    assert y["profit"] == pytest.approx(t["profit"].sum(), **TIGHT)
    assert y["customers_end"] == t["customers"].iloc[-1]
    assert y["retention_rate"] == pytest.approx((1 - t["churned"].sum() / t["customers_at_start"].sum()) ** 52, **TIGHT)
    assert y["employee_turnover"] == pytest.approx(52 * t["quits"].sum() / t["employees"].sum(), **TIGHT)


def test_a_promotion_is_billed_at_the_promotion_price():
    cfg = config(pricing="promotions", promo_every=4, promo_weeks=1, promo_depth=0.2)
    m, seen, _ = step_and_count(cfg)
    t = m.recorder.table()
    price = np.where(np.arange(WEEKS) % 4 < 1, 1.25 * 0.8, 1.25)
    assert t["price"].to_numpy() == pytest.approx(price, **TIGHT)
    assert t["revenue"].to_numpy() == pytest.approx(seen["visits"] * 10.0 * price, **TIGHT)
