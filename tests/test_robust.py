"""Robust comparison, priors and scenario discovery: right on hand-made tables, equal to the plain comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research import discovery, priors, robust
from research.evaluate import mean_ci, on_seeds
from research.space import with_values
from sim.app import load_config
from sim.config import ConfigError

TINY = ["market.customers=500", "run.steps=8", "run.burn_in=4", "run.progress=false"]


def test_collapsed_ranges_give_the_plain_paired_comparison():
    base = load_config(TINY)
    alternative = {"firm.empathy": 0.9}
    seed_list = [0, 1, 2]
    fixed = priors.load().collapse(base)
    result = robust.robust_compare(base, [alternative], fixed, 3, seed_list, "profit", n_jobs=1)

    runs = on_seeds([base, with_values(base, alternative)], seed_list, n_jobs=1)
    diff = np.array([b["firms"]["Focal"]["profit"] - a["firms"]["Focal"]["profit"] for a, b in zip(*runs, strict=True)])
    mean, half = mean_ci(diff)
    row = result.summary.iloc[0]
    assert row["gain"] == pytest.approx(mean, rel=1e-12)
    assert row["gain_ci_high"] - row["gain"] == pytest.approx(half, rel=1e-9)
    assert row["p_beats"] == pytest.approx((diff > 0).mean())
    assert row["var_assumptions"] == pytest.approx(0, abs=1e-6 * diff.var())
    assert row["share_seeds"] == pytest.approx(1)


def hand_made_runs():
    # 2 draws x 2 seeds; profit of three options
    values = {"status quo": [[10, 12], [10, 8]], "A": [[13, 11], [9, 7]], "B": [[15, 16], [4, 2]]}
    rows = [{"strategy": s, "draw": d, "seed": k, "profit": v[d][k]}
            for s, v in values.items() for d in range(2) for k in range(2)]
    return pd.DataFrame(rows)


def test_chance_of_beating_and_regret_on_a_hand_made_table():
    runs = hand_made_runs()
    summary = robust.compare(runs, "profit").set_index("alternative")
    # A - status quo: [[3, -1], [-1, -1]]; B - status quo: [[5, 4], [-6, -6]]
    assert summary.loc["A", "p_beats"] == 0.25 and summary.loc["B", "p_beats"] == 0.5
    assert summary.loc["A", "p_beats_draws"] == 0.5 and summary.loc["B", "p_beats_draws"] == 0.5
    assert summary.loc["A", "gain"] == 0.0 and summary.loc["B", "gain"] == -0.75
    regret = robust.regret(runs, "profit").set_index("option")
    # draw means: status quo 11, 9; A 12, 8; B 15.5, 3 -> best 15.5, 9
    assert regret["expected"].to_dict() == {"status quo": 10.0, "A": 10.0, "B": 9.25}
    assert regret["expected_regret"].to_dict() == {"status quo": 2.25, "A": 2.25, "B": 3.0}
    assert regret["worst_regret"].to_dict() == {"status quo": 4.5, "A": 3.5, "B": 6.0}
    assert regret["p_best"].to_dict() == {"status quo": 0.5, "A": 0.0, "B": 0.5}


def test_lower_is_better_kpis_count_a_drop_as_a_gain():
    runs = hand_made_runs().rename(columns={"profit": "costs"})
    summary = robust.compare(runs, "costs").set_index("alternative")
    assert summary.loc["A", "p_beats"] == 0.75 and summary.loc["B", "gain"] == 0.75


def test_variance_split_finds_a_planted_assumption_effect():
    rng = np.random.default_rng(0)
    draw_effect = rng.normal(0, 10, size=(200, 1))
    seed_noise = rng.normal(0, 1, size=(200, 8))
    s = robust.crossed(draw_effect + seed_noise)
    assert s.var_assumptions == pytest.approx(100, rel=0.25)
    assert s.var_seeds == pytest.approx(1, rel=0.1)


def test_scenario_discovery_recovers_a_planted_threshold():
    rng = np.random.default_rng(1)
    n = 300
    draws = pd.DataFrame({"firm.empathy_cost": rng.uniform(30, 300, n),
                          "market.price_driven_share": rng.uniform(0.2, 0.8, n),
                          "wom.talk_rate": rng.uniform(0.03, 0.3, n),
                          "behaviour.review_rate": rng.uniform(0.1, 0.4, n)})
    loses = (draws["firm.empathy_cost"] > 210) & (draws["market.price_driven_share"] > 0.6)
    gain = np.where(loses, -1.0, 1.0) + rng.normal(0, 0.1, n)
    text, box = discovery.hinges(draws, gain, "firm.empathy=0.8", "profit")
    found = {r.parameter: r for r in box.restrictions}
    assert set(found) == {"firm.empathy_cost", "market.price_driven_share"}
    assert found["firm.empathy_cost"].lower == pytest.approx(210, abs=15) and found["firm.empathy_cost"].upper is None
    assert found["market.price_driven_share"].lower == pytest.approx(0.6, abs=0.04)
    assert box.coverage > 0.9 and box.density > 0.9
    assert "it pays unless firm.empathy_cost > " in text and " and market.price_driven_share > " in text


def test_scenario_discovery_says_so_when_nothing_explains_the_verdict():
    rng = np.random.default_rng(2)
    draws = pd.DataFrame({"wom.talk_rate": rng.uniform(0, 1, 100), "behaviour.review_rate": rng.uniform(0, 1, 100)})
    text, box = discovery.hinges(draws, rng.normal(0.3, 1, 100), "A", "profit")
    assert box is None and "no simple region" in text


def test_tornado_sorts_by_swing_of_the_paired_gain():
    rows = []
    for parameter, level, value, gain in [("", "base", np.nan, 1.0), ("a", "low", 0, 0.5), ("a", "high", 1, 1.5),
                                          ("b", "low", 0, -4.0), ("b", "high", 1, 2.0)]:
        for seed, luck in ((0, 10.0), (1, 20.0)):
            rows.append({"parameter": parameter, "level": level, "value": value, "strategy": "sq", "seed": seed,
                         "profit": luck})
            rows.append({"parameter": parameter, "level": level, "value": value, "strategy": "alt", "seed": seed,
                         "profit": luck + gain})
    table = discovery.tornado(pd.DataFrame(rows), "sq", "alt", "profit")
    assert list(table["parameter"]) == ["b", "a"]
    assert table["swing"].tolist() == [6.0, 1.0] and (table["gain_base"] == 1.0).all()


@pytest.mark.parametrize("entry, message", [
    ({"firm.wage": {"range": [100, 50]}}, "need low <= high"),
    ({"firm.empathy_cost": {"range": [-1, 50]}}, "within the schema range"),
    ({"firm.wage": {"relative": [0.8, 1.2], "range": [1, 2]}}, "exactly one of"),
    ({"firm.wage": {"relative": [0.8, 1.2], "distrib": "uniform"}}, "unknown field 'distrib'"),
    ({"firm.wage": {"range": [0, 10], "distribution": "loguniform"}}, "needs low > 0"),
    ({"firm.wage": {"range": [1, 10], "distribution": "normal"}}, "distribution='normal'"),
    ({"firm.pricing": {"range": [0, 1]}}, "not a numeric key"),
    ({"firm.wages": {"range": [0, 1]}}, "unknown key 'wages'"),
    ({"firm.wage": {"around": -2}}, "half-width >= 0"),
    ({"firm.wage": {"range": [1, 2], "source": ""}}, "say where the range comes from"),
])
def test_priors_file_errors_name_the_key(entry, message):
    with pytest.raises(ConfigError, match=message) as err:
        priors.parse(entry, "p.yaml")
    assert "\n" not in str(err.value) and "p.yaml: " + next(iter(entry)) in str(err.value)


def test_priors_resolve_narrow_and_sample():
    base = load_config(["scenario=coffee_shop", *TINY])
    p = priors.load()
    bounds = p.resolve(base).set_index("parameter")
    assert bounds.loc["firm.wage", "low"] == pytest.approx(0.85 * base.firm.wage)  # relative to the scenario's wage
    assert ((bounds["low"] <= bounds["value"]) & (bounds["value"] <= bounds["high"])).all()
    narrowed = p.narrow({"firm.empathy_cost": (100, 140)})
    draws = narrowed.sample(base, 32, seed=3)
    assert draws["firm.empathy_cost"].between(100, 140).all() and len(draws) == 32
    assert draws["adapt.every"].map(lambda v: isinstance(v, int)).all()
    pd.testing.assert_frame_equal(draws, narrowed.sample(base, 32, seed=3))
    assert len(pd.unique(priors.load().collapse(base).sample(base, 4)["firm.wage"])) == 1


def test_a_strategy_may_not_set_an_uncertain_key():
    base = load_config(TINY)
    with pytest.raises(ConfigError, match="treat as uncertain"):
        robust.robust_compare(base, [{"firm.wage": 600.0}], priors.load(), 2, [0], n_jobs=1)


@pytest.mark.parametrize("argv, message", [
    (["--alternative", "firm.empathy=2"], "firm.empathy=2.0 is out of range"),
    (["--alternative", "firm.empathy"], "write KEY=VALUE"),
    (["--alternative", "firm.empathy=0.9", "--kpi", "happiness"], "kpi=happiness is not a known KPI"),
    (["--alternative", "firm.empathy=0.9", "--priors", "nope.yaml"], "--priors=nope.yaml: no such file"),
    (["--alternative", "firm.empathy=0.9", "--uncertain", "firm.price"], "firm.price has no prior"),
])
def test_bad_input_is_one_line_and_exit_status_2(argv, message, capsys, tmp_path):
    assert robust.cli.run("robust", robust.main, [*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_command_line_writes_its_report(tmp_path):
    out = robust.main(["--alternative", "firm.empathy=0.9", "--draws", "4", "--seeds", "2", "--tornado", "2",
                       "--uncertain", "firm.empathy_cost", "behaviour.empathy_weight", "--set", *TINY[:2],
                       "--jobs", "1", "--out", str(tmp_path)])
    for name in ("report.md", "runs.csv", "draws.csv", "comparison.csv", "regret.csv", "tornado.csv",
                 "tornado_1.png", "run.json"):
        assert (out / name).stat().st_size > 0
    assert len(pd.read_csv(out / "runs.csv")) == 2 * 4 * 2
    assert "beats the status quo" in (out / "report.md").read_text()


def test_optimiser_names_a_best_point_on_a_search_bound():
    from research.optimise import at_bounds
    from research.space import parse_space

    space = parse_space({"firm.price": [0.7, 1.5], "firm.empathy": [0.0, 1.0]}, "test")
    warnings = at_bounds(space, {"firm.price": 1.5, "firm.empathy": 0.4})
    assert len(warnings) == 1 and warnings[0].startswith("firm.price=1.5 is at the upper search bound 1.5")
    assert at_bounds(space, {"firm.price": 1.0, "firm.empathy": 0.0})[0].startswith("firm.empathy=0 is at the lower")


def test_robust_optimisation_reports_its_statistic_and_the_bound(tmp_path, capsys):
    from research import optimise

    spec = tmp_path / "spec.yaml"
    # the status quo (price 1.0) is the first candidate; with one trial it is the best, on the lower bound
    spec.write_text("base: [market.customers=500, run.steps=8, run.burn_in=4]\nlevers:\n  firm.price: [1.0, 1.5]\n")
    out = optimise.main(["--spec", str(spec), "--trials", "1", "--seeds", "1", "--fresh-seeds", "2", "--robust", "q10",
                         "--draws", "3", "--jobs", "1", "--out", str(tmp_path / "out")])
    text = (out / "report.md").read_text()
    assert "10% quantile of the bad tail over 3 draws" in text
    trials = pd.read_csv(out / "trials.csv")
    assert (trials["profit_q10"] <= trials["profit"] + 1e-9).all()  # a low quantile is below the mean
    err = capsys.readouterr().err
    assert "firm.price=1 is at the lower search bound 1" in err and "firm.price=1 is at the lower search bound" in text
