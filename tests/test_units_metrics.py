"""Exact unit tests of word of mouth, acquisition and the metrics: forced shocks, tiny graphs, hand-counted KPIs."""

from __future__ import annotations

import io

import numpy as np
import pytest

from sim import acquisition, metrics, network, wom
from sim import customers as cu
from sim import firms as fm
from sim.config import BehaviourConfig, FirmConfig, MarketConfig, SimConfig, WomConfig
from tests.forced import customers, rows


def test_promoters_praise_and_detractors_warn_every_neighbour():
    g = network.from_edges(5, np.array([0, 1, 2, 0]), np.array([1, 2, 3, 4]))  # path 4-0-1-2-3
    c = customers([0.5] * 5, [0, 1, 0, -1, -1], firms=2)
    c.buzz[:] = 1.0
    b = BehaviourConfig(promoter_threshold=0.8, detractor_threshold=0.6)
    cfg = WomConfig(talk_rate=0.5, negativity=1.5, buzz_memory=0.5)
    # 0 praises (0.1 < 0.5); 1 warns (0.7 < 0.75); 2 is passive; 3 and 4 are prospects and say nothing
    talk = wom.spread(c, g, np.array([0.9, 0.5, 0.7, 1.0, 1.0]), cfg, b, rows([0.1, 0.7, 0.1, 0.0, 0.0]))
    assert talk.praise[0].tolist() == [4] and talk.praise[1].tolist() == [0]  # praise heard by a prospect
    assert talk.praised.tolist() == [2, 0] and talk.warned.tolist() == [0, 2]
    assert c.buzz == pytest.approx(np.array([[0.5, 1.5, 0.5, 0.5, 1.5], [-0.5, 0.5, -0.5, 0.5, 0.5]]))
    quiet = wom.spread(c, g, np.array([0.9, 0.5, 0.7, 1.0, 1.0]), cfg, b, rows([0.6, 0.8, 0.1, 0.0, 0.0]))
    assert quiet.praised.sum() == 0 and quiet.warned.sum() == 0  # 0.6 >= 0.5 and 0.8 >= 0.75: silent


def adopt_config(**wom_kw) -> SimConfig:
    return SimConfig(market=MarketConfig(outside_utility=-50.0), behaviour=BehaviourConfig(choice_noise=1.0),
                     wom=WomConfig(enabled=bool(wom_kw), **wom_kw))


def test_advertising_converts_prospects_below_its_reach():
    fs = fm.create([FirmConfig(advertising=0.5)])
    c = customers([0.5] * 4, [-1, -1, -1, 0])
    adopted = acquisition.adopt(c, fs, None, adopt_config(), 9, rows([0.3, 0.7, 0.49, 0.0]))
    assert c.firm.tolist() == [0, -1, 0, 0] and c.since[[0, 2]].tolist() == [9, 9]
    assert adopted.by_channel.tolist() == [[2, 0]] and adopted.prospects == 3


def test_conversion_is_the_chance_the_prospect_prefers_the_firm_to_doing_without():
    fs = fm.create([FirmConfig(advertising=1.0)], 1.0)
    cfg = SimConfig(market=MarketConfig(outside_utility=0.0), behaviour=BehaviourConfig(choice_noise=1.0,
                                                                                          empathy_weight=0.0),
                    wom=WomConfig(enabled=False))
    c = customers([0.0] * 2, [-1, -1])
    # utility 0 on both sides: converts with chance 1/2
    adopted = acquisition.adopt(c, fs, None, cfg, 0, rows([0.49, 0.51]))
    assert c.firm.tolist() == [0, -1] and adopted.by_channel.tolist() == [[1, 0]]


def test_referrals_convert_with_their_hazard_and_are_credited_to_the_praised_firm():
    fs = fm.create([FirmConfig(advertising=0.0), FirmConfig(advertising=0.0)])
    c = customers([0.5] * 3, [-1, -1, -1], firms=2)
    strength = 0.5
    praise = (np.array([0, 0, 1, 2]), np.array([1, 1, 0, 1]))  # prospect 0 hears firm 1 twice, 1 hears firm 0 once
    p2, p1 = 1 - np.exp(-2 * strength), 1 - np.exp(-strength)
    u = [[p2 - 0.01, p1 + 0.01, p1 - 0.01]]
    adopted = acquisition.adopt(c, fs, praise, adopt_config(referral_strength=strength), 2, rows(*u))
    assert c.firm.tolist() == [1, -1, 1]
    assert adopted.by_channel.tolist() == [[0, 0], [0, 2]] and adopted.prospects == 3


def test_a_prospect_reached_by_both_channels_is_split_in_proportion_to_the_hazards():
    fs = fm.create([FirmConfig(advertising=0.5)])
    praise = (np.array([0, 1]), np.array([0, 0]))
    strength = float(np.log(2))  # one message: referral hazard 1/2
    # hazards 1/2 (advert) and 1/2 (referral): adopt below 3/4, advertising in the first half of that
    c = customers([0.5] * 2, [-1, -1])
    adopted = acquisition.adopt(c, fs, praise, adopt_config(referral_strength=strength), 0,
                                rows([0.3, 0.5]))
    assert adopted.by_channel.tolist() == [[1, 1]]


def test_the_survey_counts_answers_per_firm():
    c = customers([0.0, 0.0, 0.0, 0.0], [0, 0, 1, -1], firms=3, quality=[0.9, 0.5, 0.7, 1.0],
                  felt_empathy=[0.0] * 4)
    s = metrics.survey(c, 3, BehaviourConfig(nps_attachment=0.0, promoter_threshold=0.8, detractor_threshold=0.6))
    assert s.recommend.tolist() == pytest.approx([0.9, 0.5, 0.7, 1.0])
    assert s.customers.tolist() == [2, 1, 0] and s.promoters.tolist() == [1, 0, 0]
    assert s.detractors.tolist() == [1, 0, 0]
    assert s.quality.tolist() == pytest.approx([0.7, 0.7, 0.0]) and s.satisfaction.tolist() == pytest.approx(
        [0.7, 0.7, 0.0])
    assert s.felt_empathy.tolist() == [0, 0, 0]


def test_customers_per_firm_and_segment_and_open_value():
    c = customers([0.0, 0.9, 0.9, 0.0], [0, 0, 1, -1], firms=2)
    assert metrics.customers_per_firm(c, 3).tolist() == [2, 1, 0]
    assert metrics.customers_per_segment(c, 2).tolist() == [[1, 1], [0, 1]]


def test_rates_with_nothing_to_measure_and_the_recorder():
    assert metrics.ratio(3, 4) == 0.75 and metrics.annual_retention(0, 10) == 1.0
    assert metrics.annual_turnover(1, 52) == pytest.approx(1.0)
    assert metrics._share(np.array([1.0, 2.0]), np.array([0.0, 4.0])).tolist() == [0, 0.5]
    rec = metrics.Recorder(["A", "B"])
    assert list(rec.table().columns) == ["step", "firm"] and len(rec.table()) == 0
    rec.record(0, {"x": np.array([1, 2])})
    rec.record(1, {"x": np.array([3, 4])})
    t = rec.table()
    assert t["step"].tolist() == [0, 0, 1, 1] and t["firm"].tolist() == ["A", "B", "A", "B"]
    assert t["x"].tolist() == [1, 2, 3, 4]


def test_units_name_the_currency_and_the_period():
    u = metrics.units(SimConfig(market=MarketConfig(currency="CHF")), 30)
    assert u["currency"] == "CHF" and u["revenue"] == "CHF over the 30 recorded weeks"
    assert u["cltv"].startswith("CHF per relationship") and u["retention_rate"].endswith("per year (pooled over "
                                                                                        "customer-weeks)")


def test_progress_prints_at_most_once_a_second_and_at_the_end():
    out = io.StringIO()
    p = metrics.Progress(out, every=3600)
    p.update(1, 10)
    assert out.getvalue() == ""
    p.update(10, 10)
    assert out.getvalue().startswith("\rweek 10/10") and out.getvalue().endswith("\n")
    assert cu.CHANNELS == ("advertising", "referral", "switching")
