"""python -m decide: payback, NPV and ROI on hand-made series; a report whose numbers are the runs'; bad input."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest

from decide import cash
from decide.cli import run
from sim.app import load_config
from sim.results import simulate

SMALL = ["--scenario", "coffee_shop", "--set", "firm.empathy=0.2", "market.customers=1200", "run.burn_in=26",
         "--weeks", "30", "--seeds", "2", "--jobs", "1"]


def test_payback_is_the_week_from_which_the_cumulative_difference_stays_non_negative():
    assert cash.payback_week(np.array([-100, 0, 50, 50, 50])) == 3  # cumulative -100 -100 -50 0 50
    assert cash.payback_week(np.array([-10, 20, -15, 10])) == 3  # back below 0 in week 2: paid back in week 3
    assert cash.payback_week(np.array([5, 0, 1])) == 0  # never behind
    assert cash.payback_week(np.array([-5, 1, 1])) is None  # still behind at the horizon
    assert cash.paybacks(np.array([[-1, 2], [-3, 2]])) == [1, None]


def test_npv_discounts_each_week_at_the_annual_rate():
    flows = np.zeros(52)
    flows[51] = 110.0  # booked at the end of week 52: one year away
    assert cash.npv(flows, 0.10) == pytest.approx(100.0)
    assert cash.npv(np.array([1.0, 2.0, 3.0]), 0.0) == 6.0
    weekly = cash.weekly_rate(0.1)
    assert cash.npv(np.array([[10.0, 10.0]]), 0.1)[0] == pytest.approx(10 / (1 + weekly) + 10 / (1 + weekly) ** 2)


def test_roi_is_the_net_gain_over_the_cash_tied_up():
    assert cash.cash_at_risk(np.array([-100, -50, 0, 300])) == 150
    assert cash.roi(np.array([-100, -50, 0, 300])) == pytest.approx(150 / 150)
    assert np.isnan(cash.roi(np.array([10.0, 20.0])))
    assert cash.roi(np.array([[-100, 50], [-10, 0]])) == pytest.approx([-0.5, -1.0])


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("decide") / "report"
    assert run([*SMALL, "--plan", "empathy_programme", "--out", str(out)]) == 0
    return out


def test_the_report_numbers_are_the_runs(report):
    base = load_config(["scenario=coffee_shop", "firm.empathy=0.2", "market.customers=1200", "run.burn_in=26",
                        "run.steps=30", "run.progress=false"])
    plan = load_config(["scenario=coffee_shop", "firm.empathy=0.2", "market.customers=1200", "run.burn_in=26",
                        "run.steps=30", "run.progress=false", "plan=empathy_programme"])
    per_seed = pd.read_csv(report / "per_seed.csv")
    years = pd.read_csv(report / "years.csv")
    npvs, profits = [], []
    for seed in (0, 1):
        runs = [simulate(dataclasses.replace(c, seed=seed)) for c in (base, plan)]
        profit = [r.table[r.table["firm"] == "CoffeeShop"]["profit"].to_numpy() for r in runs]
        diff = profit[1] - profit[0]
        row = per_seed[per_seed["seed"] == seed].iloc[0]
        assert row["npv"] == pytest.approx(cash.npv(diff, base.market.discount_rate), rel=1e-12)
        assert row["cash_at_horizon"] == pytest.approx(diff.sum(), rel=1e-12)
        payback = cash.payback_week(diff)
        assert (pd.isna(row["payback_week"]) and payback is None) or row["payback_week"] == payback
        npvs.append(cash.npv(diff, base.market.discount_rate))
        profits.append([r.summary["firms"]["CoffeeShop"]["years"][0]["profit"] for r in runs])
    text = (report / "report.md").read_text(encoding="utf-8")
    assert f"NPV over 7 months at 10% a year: {np.mean(npvs):+,.0f} EUR" in text
    year1 = years[years["year"] == 1].set_index("option")["profit"]
    assert year1["status quo"] == pytest.approx(np.mean([p[0] for p in profits]))
    assert year1["empathy_programme"] == pytest.approx(np.mean([p[1] for p in profits]))
    html = (report / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 2 and 'src="cash_difference.png"' not in html
    assert re.search(r"NPV over 7 months at 10% a year: [+-][\d,]+ EUR", html)
    assert (report / "cash_difference.png").is_file() and "## Assumptions and where they come from" in text
    assert "| plan.training_cost | 37 |" in text and "ATD State of the Industry" in text


@pytest.mark.parametrize("argv, message", [
    (["--plan", "nonesuch"], "--plan=nonesuch: no plan of that name in configs/plan/"),
    (["--plan", "empathy_programme", "--seeds", "1"], "--seeds=1 is not allowed: give 2 or more"),
    ([], "no alternative: give --plan"),
    (["--alternative", "firm.colour=1"], "firm.colour: unknown key 'colour'"),
    (["--alternative", "plan.changes=[{week:40,firm.price:1.1}]"], "plan.changes[0].week=40 is out of range"),
    (["--plan", "empathy_programme", "--robust", "-1"], "--robust=-1 is not allowed"),
    (["--plan", "empathy_programme", "--robust", "2", "--uncertain", "firm.nothing"], "firm.nothing has no prior"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    assert run([*SMALL, *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("decide: error: ") and message in err
    assert not out.exists()


def test_an_unknown_scenario_is_refused(tmp_path, capsys):
    assert run(["--scenario", "moonbase", "--plan", "empathy_programme", "--out", str(tmp_path / "o")]) == 2
    assert "--scenario=moonbase is not a known scenario: choose one of" in capsys.readouterr().err


def test_robust_adds_the_chance_of_beating_the_status_quo_and_a_tornado(tmp_path):
    out = tmp_path / "robust"
    assert run([*SMALL, "--plan", "empathy_programme", "--robust", "2",
                "--robust-seeds", "1", "--uncertain", "plan.training_cost", "--tornado", "1", "--out", str(out)]) == 0
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "## How robust is it to the assumptions" in text and "beats the status quo on profit" in text
    assert (out / "tornado_1.png").is_file()

