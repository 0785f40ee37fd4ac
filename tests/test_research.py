"""Research tools at tiny budgets: outputs exist and are finite, runs reproduce, analyses are wired right."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from research import calibrate, cli, optimise, sensitivity
from research.evaluate import mean_ci
from research.space import parse_space, with_values
from sim.app import load_config
from sim.config import ConfigError

TINY = ["market.customers=500", "run.steps=10", "run.burn_in=4"]  # plumbing, not steady state
# firm.price moves the focal firm's profit; a competitor's hiring cost cannot within 10 weeks
# (no competitor reviews its strategy before week 13), so its index must be exactly zero.
SPACE = """
base: [market.customers=500, run.steps=10, run.burn_in=4]
seeds: 2
kpis: [profit]
parameters:
  firm.price: [0.7, 1.5]
  firm.empathy: [0.0, 1.0]
  competitors.online.hire_cost: [0, 5000]
"""


@pytest.fixture
def space_file(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text(SPACE)
    return path


def indices(out):
    return pd.read_csv(out / "indices.csv").set_index("parameter")


def test_sobol_ranks_price_above_a_parameter_that_cannot_matter(space_file, tmp_path):
    args = ["--space", str(space_file), "--samples", "8"]
    out = sensitivity.main([*args, "--out", str(tmp_path / "a"), "--jobs", "1"])
    for name in ("indices.csv", "indices.md", "indices.png", "samples.csv", "run.json"):
        assert (out / name).stat().st_size > 0
    s = indices(out)
    assert np.isfinite(s[["S1", "S1_conf", "ST", "ST_conf"]].to_numpy()).all()
    assert s.loc["firm.price", "ST"] > 0.05
    assert s.loc["competitors.online.hire_cost", "ST"] == 0 and s.loc["competitors.online.hire_cost", "S1"] == 0
    assert len(pd.read_csv(out / "samples.csv")) == 8 * (3 + 2)

    again = sensitivity.main([*args, "--out", str(tmp_path / "b"), "--jobs", "2"])
    pd.testing.assert_frame_equal(indices(out), indices(again))  # same seeds: same indices, serial or parallel


def test_morris_screens_out_the_parameter_that_cannot_matter(space_file, tmp_path):
    out = sensitivity.main(["--space", str(space_file), "--method", "morris", "--samples", "4",
                            "--out", str(tmp_path), "--jobs", "1"])
    s = indices(out)
    assert s.loc["firm.price", "mu_star"] > 0
    assert s.loc["competitors.online.hire_cost", "mu_star"] == 0


def test_optimise_is_reproducible_and_never_worse_than_the_status_quo(tmp_path):
    args = ["--trials", "4", "--seeds", "2", "--fresh-seeds", "2", "--batch", "2", "--set", *TINY]
    out = optimise.main([*args, "--out", str(tmp_path / "a")])
    for name in ("trials.csv", "best.json", "report.md", "pareto.png", "run.json"):
        assert (out / name).stat().st_size > 0
    trials = pd.read_csv(out / "trials.csv")
    assert len(trials) == 4 and trials["pareto"].any()
    status_quo = trials.iloc[0]
    assert (status_quo["firm.empathy"], status_quo["firm.automation"], status_quo["firm.price"]) == (0.5, 0.2, 1.0)
    best = json.loads((out / "best.json").read_text())
    assert best["feasible"] and trials.loc[best["trial"], "profit"] == trials["profit"].max()
    assert all(np.isfinite(row["best"]) and np.isfinite(row["gain"]) for row in best["kpis"])

    again = optimise.main([*args, "--out", str(tmp_path / "b")])
    pd.testing.assert_frame_equal(trials, pd.read_csv(again / "trials.csv"))


def test_an_unmeetable_constraint_is_reported_not_hidden(tmp_path):
    out = optimise.main(["--trials", "2", "--seeds", "1", "--fresh-seeds", "2", "--set", *TINY,
                         "--constraint", "retention_rate>=1.5", "--out", str(tmp_path)])
    assert not json.loads((out / "best.json").read_text())["feasible"]
    assert "No candidate met the constraints" in (out / "report.md").read_text()


def test_calibration_reports_every_target_with_its_source(tmp_path):
    out = calibrate.main(["--trials", "3", "--seeds", "1", "--fresh-seeds", "2", "--batch", "3", "--set", *TINY,
                          "--out", str(tmp_path)])
    report = (out / "report.md").read_text()
    for target in calibrate.load_targets(calibrate.TARGETS):
        assert target.name in report and target.source in report
    table = pd.read_csv(out / "targets.csv")
    assert np.isfinite(table[["default", "fitted"]].to_numpy()).all()
    trials = pd.read_csv(out / "trials.csv")
    assert trials["loss"].min() <= trials["loss"].iloc[0]  # the defaults are candidate 0
    assert "=" in (out / "fitted.txt").read_text()


def test_calibration_loss_is_weighted_squared_relative_error():
    target = calibrate.Target("r", "fact", "retention_rate", 0.5, None, 0.1, 2.0, (), "src", "")
    assert target.loss(0.6) == pytest.approx(2.0 * 0.2**2)
    check = calibrate.Target("c", "fact", "indifference_lead", None, 0.0, 0.0, 3.0, (), "src", "")
    assert check.loss(0.2) == 0 and check.loss(-0.1) == pytest.approx(3.0 * 0.01)
    assert target.met(0.59) and not target.met(0.61) and check.met(0.0)


def test_indifference_lead_compares_with_the_largest_named_reason():
    churn = {"indifference": 30, "price": 20, "poor_service": 5, "bot_frustration": 0, "competitor_pull": 5,
             "other": 40}
    summary = {"firms": {"Focal": {"role": "focal", "churn_by_reason": churn}}}
    assert calibrate.MEASURES["indifference_lead"](summary) == pytest.approx((30 - 20) / 100)


def test_space_bounds_are_checked_against_the_schema():
    with pytest.raises(ConfigError, match=r"firm.empathy bounds \[0, 1.5\] are not allowed.*0 <= firm.empathy <= 1"):
        parse_space({"firm.empathy": [0, 1.5]}, "x.yaml")
    with pytest.raises(ConfigError, match="unknown key 'empathyy'"):
        parse_space({"firm.empathyy": [0, 1]}, "x.yaml")
    with pytest.raises(ConfigError, match="not numeric"):
        parse_space({"firm.pricing": [0, 1]}, "x.yaml")


def test_values_land_on_the_named_keys_only():
    base = load_config(TINY)
    cfg = with_values(base, {"competitors.online.price": 1.3, "behaviour.review_rate": 0.1})
    assert cfg.competitors["online"].price == 1.3 and cfg.behaviour.review_rate == 0.1
    assert base.competitors["online"].price != 1.3 and cfg.firm == base.firm


@pytest.mark.parametrize("argv, message", [
    (["--samples", "10"], "use a power of 2"),
    (["--kpi", "proft"], "kpi=proft is not a known KPI"),
    (["--space", "missing.yaml"], "--space=missing.yaml: no such file"),
    (["--set", "firm.empathy=2"], "firm.empathy=2"),
])
def test_bad_input_is_one_line_and_exit_status_2(argv, message, capsys, tmp_path):
    assert cli.run("sensitivity", sensitivity.main, [*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not any(tmp_path.iterdir())  # nothing half-written


def test_constraints_parse_or_explain():
    c = optimise.Constraint.parse("retention_rate>=0.6")
    assert (c.kpi, c.op, c.bound) == ("retention_rate", ">=", 0.6)
    assert c.violation(0.5) == pytest.approx(0.1) and c.violation(0.7) < 0
    with pytest.raises(ConfigError, match="quoted in the shell"):
        optimise.Constraint.parse("retention_rate")


def test_mean_ci_is_the_student_t_interval():
    mean, half = mean_ci(np.array([[1.0, 2.0, 3.0]]))
    assert mean[0] == 2.0 and half[0] == pytest.approx(4.302653 * 1 / np.sqrt(3), rel=1e-6)
