"""Plans: dated changes of strategy after the warm-up (sim.plan, ODD 7.17)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from sim.app import load_config
from sim.config import ConfigError
from sim.model import EmpathyMarket
from sim.results import simulate

SMALL = ["market.customers=1500", "run.burn_in=52", "run.progress=false"]


def focal(result, column):
    t = result.table
    return t[t["firm"] == "Focal"][column].to_numpy()


def test_a_plan_that_changes_nothing_runs_byte_for_byte_as_the_status_quo():
    base = [*SMALL, "run.steps=30"]
    status_quo = simulate(load_config(base))
    same = simulate(load_config([*base, "plan.changes=[{week:5,firm.empathy:0.5,firm.price:1.0,cost:0}]"]))
    for key in ("firms", "units", "weeks"):
        assert json.dumps(same.summary[key], sort_keys=True) == json.dumps(status_quo.summary[key], sort_keys=True)
    assert same.table.equals(status_quo.table)


def test_a_one_off_cost_shifts_cumulative_cash_by_exactly_that_amount():
    # adaptive rivals imitate the most profitable firm: without them a cost changes nothing but the cash
    base = [*SMALL, "run.steps=30", "adapt.enabled=false"]
    status_quo = simulate(load_config(base))
    paid = simulate(load_config([*base, "plan.changes=[{week:10,cost:5000}]"]))
    shift = np.cumsum(focal(paid, "profit") - focal(status_quo, "profit"))
    assert np.all(shift[:10] == 0)
    assert np.allclose(shift[10:], -5000, rtol=0, atol=1e-6)
    assert focal(paid, "cost_one_off")[10] == 5000 and focal(paid, "cost_one_off").sum() == 5000
    others = [c for c in status_quo.table.columns if c not in ("profit", "costs", "cost_one_off")]
    assert paid.table[others].equals(status_quo.table[others])
    assert paid.summary["firms"]["Focal"]["costs_by_category"]["one_off"] == 5000


def test_an_empathy_programme_takes_time_to_work():
    base = [*SMALL, "run.steps=53", "firm.empathy=0.2"]
    status_quo = simulate(load_config(base))
    plan = simulate(load_config([*base, "plan.changes=[{week:0,firm.empathy:0.8}]"]))
    felt = focal(plan, "felt_empathy") - focal(status_quo, "felt_empathy")
    customers = focal(plan, "customers") - focal(status_quo, "customers")
    assert 0 < felt[4] < felt[52] / 2  # customers feel the programme encounter by encounter
    assert customers[4] < customers[52]
    assert focal(plan, "empathy")[0] == 0.8


def test_an_empathy_rise_pays_a_course_per_employee_and_hour():
    cfg = load_config([*SMALL, "run.steps=5", "firm.empathy=0.2", "plan.changes=[{week:0,firm.empathy:0.8}]",
                       "plan.training_hours=10", "plan.training_cost=30", "plan.hours_per_week=40"])
    model = EmpathyMarket(cfg)
    model.run(cfg.run.burn_in)
    staff = model.workforce.headcount(model.firms.n)[0]
    model.step()
    assert model.plan.one_off[0] == pytest.approx(staff * 10 * 0.6 * (30 + cfg.firm.wage / 40))
    model.step()
    assert model.plan.one_off[0] == 0


def test_a_new_bot_costs_its_set_up_and_ramps_up():
    cfg = load_config([*SMALL, "run.steps=30", "firm.automation=0", "firm.bot_quality=0.8",
                       "plan.changes=[{week:0,firm.automation:0.5},{week:10,firm.automation:1}]",
                       "plan.bot_setup_cost=4000", "plan.bot_launch_gap=0.3", "plan.bot_ramp_weeks=8"])
    model = EmpathyMarket(cfg)
    model.run(cfg.run.burn_in)
    assert model.firms.bot_quality[0] == 0.8
    model.step()
    assert model.plan.one_off[0] == pytest.approx(2000)
    assert model.firms.bot_quality[0] == pytest.approx(0.8 * 0.7)
    model.run(9)  # week 9
    gap = 0.3 * math.exp(-9 / 8)
    assert model.firms.bot_quality[0] == pytest.approx(0.8 * (1 - gap))
    model.step()  # week 10: half the bot's contacts are new to it
    gap = (gap * math.exp(-1 / 8) * 0.5 + 0.3 * 0.5) / 1
    assert model.plan.one_off[0] == pytest.approx(2000)
    assert model.firms.bot_quality[0] == pytest.approx(0.8 * (1 - gap))


def test_a_price_change_is_seen_at_once_and_competitors_can_have_plans():
    result = simulate(load_config([*SMALL, "run.steps=12", "competitors.big_box.pricing=fixed",
                                   "plan.changes=[{week:6,firm.price:1.2,competitors.big_box.price:0.7}]"]))
    t = result.table
    assert list(focal(result, "price")[5:7]) == [1.0, 1.2]
    assert list(t[t["firm"] == "BigBox"]["price"].to_numpy()[5:7]) == [0.85, 0.7]


def test_a_plan_file_from_the_plan_group():
    assert load_config(["plan=bot_rollout"]).plan.changes == (
        {"week": 0, "firm.automation": 0.3}, {"week": 26, "firm.automation": 0.7})
    assert load_config([]).plan.changes == ()


@pytest.mark.parametrize("change, message", [
    ("[{week:0,firm.colour:1}]", "plan.changes[0].firm.colour: 'colour' is not a lever a plan changes: choose one of"),
    ("[{week:0,competitors.nobody.price:1}]", "no competitor 'nobody' (have: big_box, online)"),
    ("[{week:104,firm.price:1}]", "plan.changes[0].week=104 is out of range: allowed 0 <= week < run.steps=104"),
    ("[{firm.price:1}]", "plan.changes[0]: no week"),
    ("[{week:1}]", "plan.changes[0]: nothing changes in week 1"),
    ("[{week:0,firm.empathy:2}]", "plan.changes[0].firm.empathy=2.0 is out of range"),
    ("[{week:0,cost:-3}]", "plan.changes[0].cost=-3 is not allowed"),
    ("[{week:0,firm.promo_weeks:20}]", "plan.changes in week 0: firm.promo_weeks=20 is not allowed"),
    ("[{week:0,price:1}]", "'price' is not a key a plan can change"),
])
def test_a_bad_plan_is_a_one_line_error_naming_the_key(change, message):
    with pytest.raises(ConfigError, match=None) as err:
        load_config([f"plan.changes={change}"])
    assert message in str(err.value) and "\n" not in str(err.value)


def test_the_command_line_refuses_a_bad_plan_in_one_line(tmp_path):
    out = subprocess.run([sys.executable, "-m", "sim", "plan.changes=[{week:0,firm.colour:1}]",
                          f"hydra.run.dir={tmp_path / 'run'}"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "plan.changes[0].firm.colour" in out.stderr
    assert not (tmp_path / "run").exists()
