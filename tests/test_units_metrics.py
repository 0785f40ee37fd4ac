"""Exact unit tests of word of mouth, acquisition and the metrics: forced shocks, tiny graphs, hand-counted KPIs."""

from __future__ import annotations

import io
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sim import acquisition, metrics, network, survey, wom
from sim import customers as cu
from sim import employees as em
from sim import firms as fm
from sim.choice import Moves
from sim.config import BehaviourConfig, FirmConfig, MarketConfig, RunConfig, SimConfig, WomConfig
from sim.model import Week
from sim.service import Encounters
from tests.forced import customers, heard, rows, run_process


def test_promoters_praise_and_detractors_warn_every_neighbour():
    g = network.from_edges(5, np.array([0, 1, 2, 0]), np.array([1, 2, 3, 4]))  # path 4-0-1-2-3
    c = customers([0.5] * 5, [0, 1, 0, -1, -1], firms=2)
    c.buzz[:] = 1.0
    b = BehaviourConfig(promoter_threshold=0.8, detractor_threshold=0.6)
    # 0 praises (0.1 < 0.5); 1 warns (0.7 < 0.75); 2 is passive; 3 and 4 are prospects and say nothing
    cfg = SimConfig(wom=WomConfig(talk_rate=0.5, negativity=1.5, buzz_memory=0.5), behaviour=b)
    answers = Week(0, survey=SimpleNamespace(recommend=np.array([0.9, 0.5, 0.7, 1.0, 1.0], np.float32)))
    talk = run_process(wom.spread, rows([0.1, 0.7, 0.1, 0.0, 0.0]), answers, customers=c, graph=g, cfg=cfg).talk
    assert talk.praise[0].tolist() == [4] and talk.praise[1].tolist() == [0]  # praise heard by a prospect
    assert talk.praised.tolist() == [2, 0] and talk.warned.tolist() == [0, 2]
    assert c.buzz == pytest.approx(np.array([[0.5, 1.5, 0.5, 0.5, 1.5], [-0.5, 0.5, -0.5, 0.5, 0.5]]))
    answers.talk = None
    quiet = run_process(wom.spread, rows([0.6, 0.8, 0.1, 0.0, 0.0]), answers, customers=c, graph=g, cfg=cfg).talk
    assert quiet.praised.sum() == 0 and quiet.warned.sum() == 0  # 0.6 >= 0.5 and 0.8 >= 0.75: silent


def adopt_config(**wom_kw) -> SimConfig:
    return SimConfig(market=MarketConfig(outside_utility=-50.0), behaviour=BehaviourConfig(choice_noise=1.0),
                     wom=WomConfig(enabled=bool(wom_kw), **wom_kw))


def test_advertising_converts_prospects_below_its_reach():
    fs = fm.create([FirmConfig(advertising=0.5)])
    c = customers([0.5] * 4, [-1, -1, -1, 0])
    adopted = run_process(acquisition.adopt, rows([0.3, 0.7, 0.49, 0.0]), Week(9), customers=c, firms=fs,
                          cfg=adopt_config()).adopted
    assert c.firm.tolist() == [0, -1, 0, 0] and c.since[[0, 2]].tolist() == [9, 9]
    assert adopted.by_channel.tolist() == [[2, 0]] and adopted.prospects == 3


def test_conversion_is_the_chance_the_prospect_prefers_the_firm_to_doing_without():
    fs = fm.create([FirmConfig(advertising=1.0)], 1.0)
    cfg = SimConfig(market=MarketConfig(outside_utility=0.0), behaviour=BehaviourConfig(choice_noise=1.0,
                                                                                          empathy_weight=0.0),
                    wom=WomConfig(enabled=False))
    c = customers([0.0] * 2, [-1, -1])
    # utility 0 on both sides: converts with chance 1/2
    adopted = run_process(acquisition.adopt, rows([0.49, 0.51]), customers=c, firms=fs, cfg=cfg).adopted
    assert c.firm.tolist() == [0, -1] and adopted.by_channel.tolist() == [[1, 0]]


def test_referrals_convert_with_their_hazard_and_are_credited_to_the_praised_firm():
    fs = fm.create([FirmConfig(advertising=0.0), FirmConfig(advertising=0.0)])
    c = customers([0.5] * 3, [-1, -1, -1], firms=2)
    strength = 0.5
    praise = (np.array([0, 0, 1, 2]), np.array([1, 1, 0, 1]))  # prospect 0 hears firm 1 twice, 1 hears firm 0 once
    p2, p1 = 1 - np.exp(-2 * strength), 1 - np.exp(-strength)
    u = [[p2 - 0.01, p1 + 0.01, p1 - 0.01]]
    adopted = run_process(acquisition.adopt, rows(*u), heard(praise, 2), customers=c, firms=fs,
                          cfg=adopt_config(referral_strength=strength)).adopted
    assert c.firm.tolist() == [1, -1, 1]
    assert adopted.by_channel.tolist() == [[0, 0], [0, 2]] and adopted.prospects == 3


def test_a_prospect_reached_by_both_channels_is_split_in_proportion_to_the_hazards():
    fs = fm.create([FirmConfig(advertising=0.5)])
    praise = (np.array([0, 1]), np.array([0, 0]))
    strength = float(np.log(2))  # one message: referral hazard 1/2
    # hazards 1/2 (advert) and 1/2 (referral): adopt below 3/4, advertising in the first half of that
    c = customers([0.5] * 2, [-1, -1])
    adopted = run_process(acquisition.adopt, rows([0.3, 0.5]), heard(praise), customers=c, firms=fs,
                          cfg=adopt_config(referral_strength=strength)).adopted
    assert adopted.by_channel.tolist() == [[1, 1]]


def test_the_survey_counts_answers_per_firm():
    c = customers([0.0, 0.0, 0.0, 0.0], [0, 0, 1, -1], firms=3, quality=[0.9, 0.5, 0.7, 1.0],
                  felt_empathy=[0.0] * 4)
    b = BehaviourConfig(nps_attachment=0.0, promoter_threshold=0.8, detractor_threshold=0.6)
    s = run_process(survey.survey, customers=c, firms=fm.create([FirmConfig()] * 3), cfg=SimConfig(behaviour=b)).survey
    assert s.recommend.tolist() == pytest.approx([0.9, 0.5, 0.7, 1.0])
    assert s.customers.tolist() == [2, 1, 0] and s.promoters.tolist() == [1, 0, 0]
    assert s.detractors.tolist() == [1, 0, 0]
    assert s.quality.tolist() == pytest.approx([0.7, 0.7, 0.0]) and s.satisfaction.tolist() == pytest.approx(
        [0.7, 0.7, 0.0])
    assert s.felt_empathy.tolist() == [0, 0, 0]


def test_customers_per_firm_and_segment_and_open_value():
    c = customers([0.0, 0.9, 0.9, 0.0], [0, 0, 1, -1], firms=2)
    assert cu.per_firm(c, 3).tolist() == [2, 1, 0]
    assert cu.per_segment(c, 2).tolist() == [[1, 1], [0, 1]]
    assert cu.per_segment(c, 2).dtype == np.int64 and cu.per_firm(c, 2).dtype == np.int64


def test_rates_with_nothing_to_measure_and_the_recorder():
    assert metrics.ratio(3, 4) == 0.75 and metrics.ratio(3, 1) == 3.0 and metrics.annual_retention(0, 10) == 1.0
    assert metrics.annual_turnover(1, 52) == pytest.approx(1.0)
    assert metrics._share(np.array([1.0, 2.0]), np.array([0.0, 4.0])).tolist() == [0, 0.5]
    rec = metrics.Recorder(["A", "B"])
    assert list(rec.table().columns) == ["step", "firm"] and len(rec.table()) == 0
    rec.record(0, {"x": np.array([1, 2])})
    assert rec.table()["x"].tolist() == [1, 2]  # one recorded week is a table too
    rec.record(1, {"x": np.array([3, 4])})
    t = rec.table()
    assert t["step"].tolist() == [0, 0, 1, 1] and t["firm"].tolist() == ["A", "B", "A", "B"]
    assert t["x"].tolist() == [1, 2, 3, 4]


def test_units_name_the_currency_and_the_period():
    u = metrics.units(SimConfig(market=MarketConfig(currency="CHF")), 30)
    run = "CHF over the 30 recorded weeks"
    assert u == {
        "currency": "CHF", "revenue": run, "costs": run, "profit": run, "costs_by_category": run,
        "years": "CHF per year of 52 recorded weeks (rates per year)",
        "cltv": "CHF per relationship, discounted to its start at market.discount_rate a year",
        "cltv_predicted": "CHF per customer, discounted",
        "cac": "CHF per paid acquisition (advertising and referral bonus)",
        "retention_rate": "share of customers kept per year (pooled over customer-weeks)",
        "churn_rate": "share of customers lost per year",
        "employee_turnover": "quits per employee-year",
        "nps": "points, -100..100, pooled over weekly survey answers",
        "csat": "share of encounters rated satisfied",
        "visits_per_customer_week": "purchases per customer per week",
    }


def test_progress_prints_at_most_once_a_second_and_at_the_end():
    out = io.StringIO()
    p = metrics.Progress(out, every=3600)
    p.update(1, 10)
    assert out.getvalue() == ""
    p.update(10, 10)
    assert out.getvalue().startswith("\rweek 10/10") and out.getvalue().endswith("\n")
    assert cu.CHANNELS == ("advertising", "referral", "switching")


def two_firms() -> fm.Firms:
    fs = fm.create([
        FirmConfig(name="A", empathy=0.5, automation=0.25, price=2.0, unit_cost=0.5, wage=400.0, empathy_cost=50.0,
                   automation_cost=80.0, bot_contact_cost=0.1, advertising=0.02, ad_cost=3.0, hire_cost=1000.0,
                   referral_bonus=5.0, fixed_cost=120.0),
        FirmConfig(name="B", empathy=1.0, automation=0.0, price=1.0, unit_cost=0.25, wage=300.0, empathy_cost=20.0,
                   automation_cost=40.0, bot_contact_cost=0.2, advertising=0.01, ad_cost=2.0, hire_cost=500.0,
                   referral_bonus=2.0, fixed_cost=60.0)])
    return fs


def workforce() -> em.Workforce:
    f32 = np.float32
    return em.Workforce(
        firm=np.array([0, 0, 0, 1, 1], np.int16),
        status=np.array([em.ACTIVE, em.ACTIVE, em.VACANT, em.ACTIVE, em.CLOSED], np.int8),
        skill=np.full(5, 0.5, f32), engagement=np.array([0.5, 0.7, 0.9, 0.8, 0.1], f32),
        disposition=np.zeros(5, f32), burnout=np.array([0.125, 0.375, 0.9, 0.25, 0.0], f32),
        tenure=np.zeros(5, np.int32), refill_at=np.zeros(5, np.int32))


def test_measure_counts_every_kpi_and_cost_line_of_a_hand_built_week():
    fs = two_firms()
    model = SimpleNamespace(customers=customers([0.5] * 6, [0, 0, 0, 1, -1, -1], firms=2), firms=fs,
                            workforce=workforce(), cfg=SimConfig(market=MarketConfig(basket=10.0)),
                            plan=SimpleNamespace(one_off=np.array([7.0, 0.0])))
    churn = np.array([[1, 0, 2, 0, 0, 0], [0, 1, 0, 0, 0, 1]])
    by_segment = np.array([[[1, 0, 1, 0, 0, 0], [0, 0, 1, 0, 0, 0]], [[0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1]]])
    moves = Moves(churn=churn, churn_by_segment=by_segment, switched_in=np.array([1, 0]),
                  closed_value=np.array([12.5, 3.0]), closed=np.array([3, 2]))
    a = np.array
    enc = Encounters(visits=a([7, 3]), contacts=a([5, 2]), encounters=a([4, 2]), bot_contacts=a([2, 0]),
                     human_contacts=a([3, 2]), emotional=a([1, 2]), frustrated=a([1, 0]), handovers=a([1, 3]),
                     failed=a([2, 1]), recovered=a([1, 0]), satisfied=a([3, 1]), routine_per_employee=a([]),
                     emotional_per_employee=a([]), buyers=a([]), bought=a([]))
    work = em.Work(load=a([0.75, 0.25, 0.0, 1.0, 0.0]), quits=a([1]), hires=a([2]))
    answers = survey.Survey(recommend=a([]), customers=a([3, 1]), promoters=a([2, 0]), detractors=a([1, 1]),
                            satisfaction=a([0.7, 0.4]), quality=a([0.8, 0.5]), felt_empathy=a([0.6, 0.3]))
    talk = wom.Talk(praise=(a([]), a([])), praised=a([4, 1]), warned=a([0, 2]))
    adopted = acquisition.Adoptions(by_channel=a([[2, 1], [0, 3]]), prospects=40)
    week = Week(0, at_start=a([[2, 2], [1, 2]]), moves=moves, enc=enc, work=work, survey=answers, talk=talk,
                adopted=adopted)
    row = metrics.measure(model, week)
    costs = {"goods": [35, 7.5], "wages": [800, 300], "empathy_programme": [50, 20], "automation": [20.2, 0],
             "advertising": [2.4, 0.8], "hiring": [1000, 0], "referral_bonus": [5, 6], "fixed": [120, 60],
             "one_off": [7, 0]}
    expected = {
        "customers": [3, 1], "market_share": [0.75, 0.25], "prospects": [2, 2],
        "acquisitions_advertising": [2, 0], "acquisitions_referral": [1, 3], "acquisitions_switching": [1, 0],
        **{f"churn_{r}": churn[:, i] for i, r in enumerate(cu.CHURN_REASONS)}, "churned": [3, 2],
        "customers_at_start": [4, 3], "customers_at_start_price_driven": [2, 1],
        "customers_at_start_relationship_driven": [2, 2],
        **{f"churn_{g}_{r}": by_segment[:, j, i] for j, g in enumerate(cu.SEGMENTS)
           for i, r in enumerate(cu.CHURN_REASONS)},
        "retention_rate": [0.25, 1 / 3], "visits": [7, 3], "contacts": [5, 2], "encounters": [4, 2],
        "bot_contacts": [2, 0], "human_contacts": [3, 2], "emotional_contacts": [1, 2], "bot_frustrations": [1, 0],
        "handovers": [1, 3], "service_failures": [2, 1], "service_recoveries": [1, 0],
        "satisfied_encounters": [3, 1], "csat": [0.75, 0.5], "promoters": [2, 0], "detractors": [1, 1],
        "surveyed": [3, 1], "nps": [100 / 3, -100], "satisfaction": [0.7, 0.4], "perceived_quality": [0.8, 0.5],
        "felt_empathy": [0.6, 0.3], "referrals_sent": [4, 1], "warnings_sent": [0, 2], "price": [2.0, 1.0],
        "empathy": [0.5, 1.0], "automation": [0.25, 0.0], "revenue": [140, 30],
        **{f"cost_{k}": v for k, v in costs.items()}, "costs": [2039.6, 394.3], "profit": [-1899.6, -364.3],
        "gross_margin": [105, 22.5], "closed_value": [12.5, 3.0], "closed_relationships": [3, 2],
        "employees": [2, 1], "vacancies": [1, 0], "engagement": [0.6, 0.8], "burnout": [0.25, 0.25],
        "utilisation": [0.5, 1.0], "quits": [1, 0], "hires": [1, 0], "turnover": [0.5, 0.0],
    }
    assert sorted(row) == sorted(expected)
    for key, value in expected.items():
        assert np.asarray(row[key]).tolist() == pytest.approx(np.asarray(value, dtype=float).tolist()), key
    assert row["price"] is not fs.price and row["empathy"] is not fs.empathy and row["automation"] is not fs.automation
    week.talk = None
    quiet = metrics.measure(model, week)
    assert quiet["referrals_sent"].tolist() == [0, 0] and quiet["warnings_sent"].tolist() == [0, 0]
    assert quiet["referrals_sent"].dtype == np.int64 and quiet["warnings_sent"].dtype == np.int64  # counts


def summary_model(discount_rate: float = 0.1) -> SimpleNamespace:
    c = customers([0.2, 0.8, 0.8, 0.2, 0.2], [0, 0, 0, 1, -1], firms=2, value=[1.0, 2.0, 4.0, 8.0, 16.0])
    c.since[:] = [0, 2, 5, 0, 0]  # joined before, in and after the first recorded week (burn-in 2)
    return SimpleNamespace(cfg=SimConfig(market=MarketConfig(discount_rate=discount_rate), run=RunConfig(burn_in=2)),
                           firms=two_firms(), customers=c, workforce=workforce(), start_customers=np.array([10, 0]))


def summary_table() -> pd.DataFrame:
    """Three recorded weeks (0, 1 and 52: two years) of firm A, and of firm B with nothing to measure."""
    zeros = [0, 0, 0]
    a = {"customers_at_start": [10, 10, 10], "churned": [1, 2, 0], "customers": [9, 8, 10], "gross_margin": [9, 9, 9],
         "acquisitions_advertising": [1, 0, 0], "acquisitions_referral": [0, 1, 1],
         "acquisitions_switching": [0, 0, 1], "closed_value": [2, 3, 0], "revenue": [10, 20, 30],
         "promoters": [2, 2, 2], "detractors": [1, 0, 1], "surveyed": [5, 5, 10], "satisfied_encounters": [3, 1, 2],
         "encounters": [4, 4, 4], "costs": [20, 20, 20], "profit": [-10, 0, 10], "engagement": [0.5, 0.6, 0.8],
         "burnout": [0.1, 0.2, 0.3], "employees": [2, 2, 4], "quits": [0, 1, 2], "referrals_sent": [1, 2, 3],
         "visits": [20, 20, 20], "customers_at_start_price_driven": [4, 4, 4],
         "customers_at_start_relationship_driven": [6, 6, 6]}
    a |= {f"cost_{k}": [i + 1] * 3 for i, k in enumerate(fm.COST_ITEMS)}
    a |= {"cost_advertising": [1.5, 0, 0], "cost_referral_bonus": [0, 1.5, 2.0]}
    a |= {f"churn_{r}": zeros for r in cu.CHURN_REASONS} | {"churn_indifference": [1, 0, 0], "churn_price": [0, 2, 0]}
    a |= {f"churn_{g}_{r}": zeros for g in cu.SEGMENTS for r in cu.CHURN_REASONS}
    a |= {"churn_price_driven_indifference": [1, 0, 0], "churn_price_driven_price": [0, 1, 0],
          "churn_relationship_driven_price": [0, 1, 0]}
    b = {k: zeros for k in a} | {"revenue": [5, 5, 10], "costs": [1, 1, 1], "profit": [4, 4, 9],
                                 "customers": [0, 0, 1]}  # no customer-weeks yet: its first customer came last week
    rows = [{"step": s, "firm": name} | {k: v[j] for k, v in cols.items()}
            for j, s in enumerate([0, 1, 52]) for name, cols in (("A", a), ("B", b))]
    return pd.DataFrame(rows)


def test_summarise_pools_every_rate_and_reports_nothing_to_measure_as_none():
    model = summary_model()
    s = metrics.summarise(model, summary_table())
    i = 1.1 ** (1 / 52) - 1
    a = s["A"]
    assert (a["role"], a["customers"], a["employees"], a["price"], a["automation"]) == ("focal", 3, 2, 2.0, 0.25)
    assert a["retention_rate"] == pytest.approx(0.9**52) and a["churn_rate"] == pytest.approx(1 - 0.9**52)
    assert a["cohort_retention"] == 0.1  # 1 of the 10 at the start joined before the warm-up ended
    assert a["cltv"] == pytest.approx((5 + 1 + 2 * (1 + i) ** 2 + 4 * (1 + i) ** 5) / 14)
    assert a["cltv_predicted"] == pytest.approx(1.0 * 0.9 / (1 + i - 0.9))
    assert (a["market_share"], a["revenue_share"], a["nps"], a["csat"]) == (0.75, 0.75, 20.0, 0.5)
    assert (a["revenue"], a["costs"], a["profit"]) == (60.0, 60.0, 0.0)
    assert a["costs_by_category"] == {"goods": 3, "wages": 6, "empathy_programme": 9, "automation": 12,
                                      "advertising": 1.5, "hiring": 18, "referral_bonus": 3.5, "fixed": 24,
                                      "one_off": 27}
    assert a["cac"] == pytest.approx(5 / 3)
    assert a["employee_engagement"] == pytest.approx(5.4 / 8) and a["employee_burnout"] == pytest.approx(1.8 / 8)
    assert a["employee_turnover"] == pytest.approx(52 * 3 / 8)
    assert a["churn_by_reason"] == {r: {"indifference": 1, "price": 2}.get(r, 0) for r in cu.CHURN_REASONS}
    assert a["segments"]["price_driven"]["retention_rate"] == pytest.approx((10 / 12) ** 52)
    assert a["segments"]["relationship_driven"]["retention_rate"] == pytest.approx((17 / 18) ** 52)
    assert a["segments"]["price_driven"]["churn_by_reason"] == {r: {"indifference": 1, "price": 1}.get(r, 0)
                                                                for r in cu.CHURN_REASONS}
    assert a["segments"]["relationship_driven"]["churn_by_reason"]["price"] == 1
    assert a["acquisitions_by_channel"] == {"advertising": 1, "referral": 2, "switching": 1}
    assert (a["referrals_sent"], a["visits_per_customer_week"]) == (6, 2.0)
    y1, y2 = a["years"]
    assert (y1["year"], y1["weeks"], y1["revenue"], y1["costs"], y1["profit"], y1["customers_end"]) == (
        1, 2, 30.0, 40.0, -10.0, 8)
    assert y1["costs_by_category"]["wages"] == 4 and y1["costs_by_category"]["referral_bonus"] == 1.5
    assert y1["retention_rate"] == pytest.approx(0.85**52) and y1["employee_turnover"] == pytest.approx(13.0)
    assert (y2["year"], y2["weeks"], y2["revenue"], y2["profit"], y2["customers_end"]) == (2, 1, 30.0, 10.0, 10)
    assert y2["retention_rate"] == 1.0 and y2["employee_turnover"] == pytest.approx(26.0)
    b = s["B"]
    assert (b["role"], b["customers"], b["market_share"], b["revenue_share"], b["revenue"]) == (
        "competitor", 1, 0.25, 0.25, 20.0)
    for key in ("retention_rate", "churn_rate", "cohort_retention", "cltv", "cltv_predicted", "nps", "csat", "cac",
                "employee_engagement", "employee_burnout", "employee_turnover", "visits_per_customer_week"):
        assert b[key] is None, key
    assert b["segments"]["price_driven"]["retention_rate"] is None
    assert [y["employee_turnover"] for y in b["years"]] == [None, None]


def test_summarise_without_churn_or_recorded_weeks():
    model = summary_model()
    t = summary_table()
    t["churned"] = 0
    a = metrics.summarise(model, t)["A"]
    assert a["retention_rate"] == 1.0 and a["churn_rate"] == 0.0
    assert a["cltv_predicted"] == pytest.approx(1.0 / (1.1 ** (1 / 52) - 1))  # margins for ever, discounted
    assert metrics.summarise(summary_model(0.0), t)["A"]["cltv_predicted"] is None  # no churn, no discount
    empty = metrics.summarise(model, pd.DataFrame(columns=["step", "firm"]))
    assert empty["A"]["revenue"] == 0.0 and empty["A"]["years"] == [] and empty["A"]["retention_rate"] is None
    assert empty["A"]["revenue_share"] is None and empty["A"]["market_share"] == 0.75


def test_open_value_discounts_each_open_relationship_to_its_start():
    model = summary_model(discount_rate=0.5)
    g = 1.5 ** (1 / 52)
    assert metrics.open_value(model).tolist() == pytest.approx([1 + 2 * g**2 + 4 * g**5, 8.0])
    model.customers.firm[3] = -1  # the last firm has no open relationship
    assert metrics.open_value(model).tolist() == pytest.approx([1 + 2 * g**2 + 4 * g**5, 0.0])


def test_progress_reports_rate_and_time_left_on_a_fake_clock(monkeypatch):
    clock = iter([9.0, 0.0, 0.5, 2.0, 2.5, 2.6])
    monkeypatch.setattr(metrics.time, "perf_counter", lambda: next(clock))
    out = io.StringIO()
    assert metrics.Progress().stream is sys.stderr
    p = metrics.Progress(out)  # started at 0.0, reports at most once a second
    assert p.every == 1.0
    p.update(1, 10)  # 0.5 s: too soon
    p.update(5, 10)  # 2.0 s
    p.update(6, 10)  # 2.5 s: too soon after the last report
    p.update(10, 10)  # 2.6 s: the end is always reported
    assert out.getvalue() == ("\rweek 5/10  2.5 steps/s  about 2s left   "
                              "\rweek 10/10  3.8 steps/s  about 0s left   \n")


def test_progress_with_no_steps_done_or_no_time_elapsed(monkeypatch):
    monkeypatch.setattr(metrics.time, "perf_counter", iter([0.0, 1.5, 7.0, 7.0]).__next__)
    out = io.StringIO()
    metrics.Progress(out).update(0, 10)
    assert out.getvalue() == "\rweek 0/10  0.0 steps/s  about infs left   "
    out = io.StringIO()
    metrics.Progress(out).update(3, 3)  # finished in no time: the rate is capped, not a division by zero
    assert out.getvalue() == "\rweek 3/3  3000000000.0 steps/s  about 0s left   \n"


def test_cohort_retention_counts_each_firms_own_starting_customers():
    model = summary_model()
    model.customers.since[1] = 0  # two of firm A's three customers joined before the warm-up ended
    s = metrics.summarise(model, summary_table())
    assert s["A"]["cohort_retention"] == 0.2  # 2 of the 10 at the start


def test_a_share_of_nothing_is_zero_whatever_memory_held():
    for _ in range(3):
        junk = np.full(3, 1e300)  # freed blocks of this size hold junk for the next array made
        del junk
        assert metrics._share(np.array([1.0, 2.0, 3.0]), np.array([0.0, 4.0, 0.0])).tolist() == [0.0, 0.5, 0.0]


def test_the_survey_counts_each_answer_at_its_threshold_and_sums_every_customer():
    # need 0: the answer is the perceived quality; firm 0: a promoter at the threshold, a passive at the
    # detractor threshold, two detractors; firm 1: one customer who needs empathy (satisfaction != quality)
    c = customers([0.0, 0.0, 0.0, 0.0, 1.0, 0.0], [0, 0, 0, 0, 1, -1], firms=2,
                  quality=[0.8, 0.6, 0.5, 0.3, 0.9, 1.0], felt_empathy=[0.1, 0.2, 0.3, 0.4, 0.25, 0.0])
    b = BehaviourConfig(nps_attachment=0.0, promoter_threshold=0.8, detractor_threshold=0.6, empathy_returns=0.5)
    s = run_process(survey.survey, customers=c, firms=fm.create([FirmConfig()] * 2), cfg=SimConfig(behaviour=b)).survey
    assert s.recommend.dtype == np.float32 and s.promoters.dtype == np.int64 and s.detractors.dtype == np.int64
    assert s.customers.tolist() == [4, 1] and s.promoters.tolist() == [1, 0] and s.detractors.tolist() == [2, 1]
    assert s.felt_empathy.tolist() == pytest.approx([0.25, 0.25])
    assert s.quality.tolist() == pytest.approx([0.55, 0.9]) and s.satisfaction.tolist() == pytest.approx([0.55, 0.5])
