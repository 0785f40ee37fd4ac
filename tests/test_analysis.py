"""Analysis of sweeps, checked on hand-made tables and folders (no model run) against hand computations."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import aggregate
from analysis.__main__ import main
from analysis.gather import AnalysisError, Sweep, gather
from analysis.report import build

T_975 = {2: 4.302652729911275, 3: 3.182446305284263}  # t(0.975, df) from a t table

# Focal profit by strategy and seed; the competitor's rows carry huge values that must never leak in.
PROFIT = {"empathy=0": [10.0, 20.0, 30.0], "empathy=0.5": [12.0, 22.5, 33.0], "empathy=1": [5.0, 26.0, 30.0]}
TURNOVER = {"empathy=0": [0.1, 0.2, 0.3], "empathy=0.5": [0.2, 0.3, 0.4], "empathy=1": [0.1, 0.2, 0.3]}


def hand_runs() -> pd.DataFrame:
    rows = []
    for strategy, profits in PROFIT.items():
        empathy = float(strategy.split("=")[1])
        for seed, profit in enumerate(profits):
            base = {"run": f"{strategy},seed={seed}", "seed": seed, "strategy": strategy, "firm.empathy": empathy}
            churn = {"churn_by_reason.price": 3.0 + seed, "churn_by_reason.poor_service": 1.0 - empathy}
            rows.append({**base, "firm": "Focal", "role": "focal", "profit": profit,
                         "retention_rate": 0.8 + empathy / 10, "employee_turnover": TURNOVER[strategy][seed],
                         "nps": 10 * empathy, **churn})
            rows.append({**base, "firm": "Rival", "role": "competitor", "profit": 1e9, "retention_rate": 0.0,
                         "employee_turnover": 9.0, "nps": -100.0, **churn})
    return pd.DataFrame(rows)


def hand_steps(runs: pd.DataFrame, weeks: int = 4) -> pd.DataFrame:
    week = np.arange(weeks)
    frames = [pd.DataFrame({"run": r["run"], "seed": r["seed"], "strategy": r["strategy"], "step": week,
                            "firm": r["firm"], "role": r["role"], "market_share": 0.3 + 0.01 * week * r["seed"],
                            "profit": r["profit"] / weeks, "nps": r["nps"] + week, "retention_rate": 0.99,
                            "engagement": 0.7, "turnover": 0.01})
              for r in runs.to_dict("records")]
    return pd.concat(frames, ignore_index=True)


def test_mean_and_confidence_interval_match_the_t_formula():
    table = pd.DataFrame({"g": ["a"] * 4 + ["b"], "x": [1.0, 2.0, 3.0, 4.0, 7.0]})
    out = aggregate.mean_ci(table, ["g"], ["x"]).set_index("g")
    half = T_975[3] * np.sqrt(5 / 3) / np.sqrt(4)  # sd of 1..4 is sqrt(5/3)
    assert out.loc["a", "n"] == 4 and out.loc["a", "mean"] == pytest.approx(2.5)
    assert out.loc["a", "half_width"] == pytest.approx(half)
    assert (out.loc["a", "ci_low"], out.loc["a", "ci_high"]) == pytest.approx((2.5 - half, 2.5 + half))
    assert out.loc["b", "n"] == 1 and np.isnan(out.loc["b", "half_width"])  # one seed: no interval


def test_ranking_uses_the_focal_firm_and_orders_best_first():
    runs = hand_runs()
    ranked = aggregate.ranking(runs, "profit")
    assert list(ranked["strategy"]) == ["empathy=0.5", "empathy=1", "empathy=0"]  # means 22.5, 20.33, 20
    assert list(ranked["rank"]) == [1, 2, 3] and set(ranked["n"]) == {3}
    first = ranked.iloc[0]
    half = T_975[2] * np.std(PROFIT["empathy=0.5"], ddof=1) / np.sqrt(3)
    assert first["profit_mean"] == pytest.approx(22.5)
    assert (first["profit_ci_low"], first["profit_ci_high"]) == pytest.approx((22.5 - half, 22.5 + half))
    assert first["nps_mean"] == pytest.approx(5.0)  # the rival's -100 is not mixed in
    # lower turnover is better: the strategy with the highest turnover ranks last
    assert aggregate.ranking(runs, "employee_turnover")["strategy"].iloc[-1] == "empathy=0.5"


def test_paired_differences_pair_runs_by_seed():
    runs = hand_runs().sample(frac=1, random_state=3)  # row order must not matter: pairing is by seed
    diffs = aggregate.paired_differences(runs, "empathy=0", ["profit", "employee_turnover"]).set_index(
        ["strategy", "metric"])
    d = np.array(PROFIT["empathy=0.5"]) - np.array(PROFIT["empathy=0"])  # 2, 2.5, 3
    half = T_975[2] * d.std(ddof=1) / np.sqrt(3)
    row = diffs.loc[("empathy=0.5", "profit")]
    assert row["n"] == 3 and row["mean"] == pytest.approx(2.5) and row["half_width"] == pytest.approx(half)
    assert row["better"] is True  # 2.5 +- 1.24 lies above zero
    # unpaired, the same two strategies would differ by 2.5 +- ~25: pairing removes the seed-to-seed spread
    assert half < 0.1 * T_975[2] * np.std(PROFIT["empathy=0"], ddof=1)
    assert diffs.loc[("empathy=0.5", "employee_turnover"), "better"] is False  # +0.1 turnover is worse
    assert diffs.loc[("empathy=1", "profit"), "better"] is None  # -5, +6, 0: the interval spans zero
    assert "empathy=0" not in diffs.index.get_level_values("strategy")


def test_paired_differences_refuse_two_runs_of_one_strategy_and_seed():
    runs = hand_runs()
    with pytest.raises(AnalysisError, match="several runs of strategy"):
        aggregate.paired_differences(pd.concat([runs, runs]), "empathy=0", ["profit"])


def test_baseline_is_found_by_full_or_short_key_and_bad_names_are_refused():
    runs = hand_runs()
    assert aggregate.find_strategy(runs, ["firm.empathy"], None) == "empathy=0"
    assert aggregate.find_strategy(runs, ["firm.empathy"], "firm.empathy=0.50") == "empathy=0.5"
    assert aggregate.find_strategy(runs, ["firm.empathy"], "empathy=1") == "empathy=1"
    with pytest.raises(AnalysisError, match="matches no strategy: choose one of empathy=0; empathy=0.5"):
        aggregate.find_strategy(runs, ["firm.empathy"], "empathy=0.7")
    with pytest.raises(AnalysisError, match="'price' is not a swept parameter"):
        aggregate.find_strategy(runs, ["firm.empathy"], "price=1")


def test_churn_reasons_are_focal_means_with_shares():
    reasons = aggregate.churn_reasons(hand_runs()).set_index("strategy")
    assert reasons.loc["empathy=0", "price"] == pytest.approx(4.0)  # seeds give 3, 4, 5
    assert reasons.loc["empathy=0", "poor_service"] == pytest.approx(1.0)
    assert reasons.loc["empathy=0", "price share"] == pytest.approx(0.8)
    assert reasons.loc["empathy=1", "poor_service share"] == 0


def test_report_holds_tables_and_every_figure(tmp_path):
    runs = hand_runs()
    runs["firm.automation"] = np.where(runs["seed"] == 0, 0.0, 0.5)  # a second axis, for the heatmap
    sweep = Sweep(root=tmp_path, runs=runs, steps=hand_steps(hand_runs()), swept=["firm.empathy", "firm.automation"],
                  skipped={"partial": ["a", "b"]}, provenance=[{"version": "0.1.0"}], commands=["python -m sim -m x"])
    page = build(sweep, tmp_path / "out", kpi="profit", baseline="empathy=0")
    text = page.read_text()
    images = re.findall(r'<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(images) == 1 + 1 + 6 + 1  # differences, heatmap, six weekly metrics, churn reasons
    assert all(img.startswith("iVBORw0KGgo") for img in images)  # PNG signature
    assert len(list((tmp_path / "out" / "figures").glob("*.png"))) == len(images)
    assert "Skipped, partial: 2" in text and "python -m sim -m x" in text
    ranking_md = (tmp_path / "out" / "ranking.md").read_text().splitlines()
    assert ranking_md[0].startswith("| rank | strategy | n | profit (ranked) |") and len(ranking_md) == 2 + 3
    assert ranking_md[2].startswith("| 1 | empathy=0.5 | 3 | 22 ± 26 |")  # 22.5 +- 4.30 * 10.5 / sqrt(3)
    csv = pd.read_csv(tmp_path / "out" / "ranking.csv")
    assert list(csv["strategy"]) == ["empathy=0.5", "empathy=1", "empathy=0"]
    assert pd.read_parquet(tmp_path / "out" / "runs.parquet").shape == runs.shape


def test_heatmap_is_skipped_with_a_note_when_one_axis_is_fixed(tmp_path):
    sweep = Sweep(root=tmp_path, runs=hand_runs(), steps=hand_steps(hand_runs()), swept=["firm.empathy"])
    text = build(sweep, tmp_path / "out").read_text()
    assert "Skipped: this sweep does not vary both firm.empathy and firm.automation." in text
    assert text.count("<img ") == 1 + 6 + 1


def write_run(run_dir: Path, seed: int, empathy: float, complete: bool = True, overrides: list[str] | None = None,
              competitors: dict | None = None) -> None:
    """A run directory as `python -m sim` leaves it, made by hand."""
    (run_dir / ".hydra").mkdir(parents=True)
    if overrides is not None:
        (run_dir / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    firms = {"Focal": {"role": "focal", "profit": 100.0 * empathy + seed, "churn_by_reason": {"price": 2, "other": 1}},
             "Rival": {"role": "competitor", "profit": 5.0, "churn_by_reason": {"price": 1, "other": 0}}}
    config = {"seed": seed, "firm": {"empathy": empathy, "price": 1.0}, "run": {"progress": seed == 0},
              "competitors": competitors or {}}
    summary = {"seed": seed, "complete": complete, "config": config, "firms": firms,
               "provenance": {"version": "0.1.0", "git_commit": "abc"}}
    pd.DataFrame({"step": [0, 0, 1, 1], "firm": ["Focal", "Rival"] * 2, "profit": [1.0, 2.0, 3.0, 4.0]}).to_parquet(
        run_dir / "metrics.parquet")
    (run_dir / ("summary.json" if complete else "summary.partial.json")).write_text(json.dumps(summary))
    if not complete:
        (run_dir / "PARTIAL").write_text("stopped at week 1\n")


def test_swept_parameters_are_the_overrides_that_differ_typed_by_the_config(tmp_path):
    rival = {"big_box": {"price": 0.85, "empathy": 0.2, "name": "BigBox"}}
    for group in ("none", "default"):
        for empathy in (0.5, 0.25):
            for seed in range(2):
                overrides = [f"competitors={group}", f"firm.empathy={empathy}", f"seed={seed}", "run.steps=5"]
                write_run(tmp_path / ",".join(overrides), seed, empathy, overrides=overrides,
                          competitors=rival if group == "default" else None)
    sweep = gather(tmp_path)
    assert sweep.swept == ["competitors", "firm.empathy"]  # one key per group, in the order typed
    assert sweep.strategies == ["competitors=default, empathy=0.25", "competitors=default, empathy=0.5",
                                "competitors=none, empathy=0.25", "competitors=none, empathy=0.5"]
    assert sweep.runs["firm.empathy"].dtype == float and set(sweep.runs["competitors"]) == {"none", "default"}


def test_gather_reads_finished_runs_and_counts_the_rest(tmp_path):
    for empathy in (0.0, 0.5):
        for seed in range(2):
            write_run(tmp_path / f"firm.empathy={empathy},seed={seed}", seed, empathy)
    write_run(tmp_path / "firm.empathy=1,seed=0", 0, 1.0, complete=False)  # stopped early
    (tmp_path / "firm.empathy=1,seed=1" / ".hydra").mkdir(parents=True)  # killed before writing anything
    (tmp_path / "firm.empathy=1,seed=1" / ".summary.json.k2j3.tmp").write_text('{"seed": 1, "compl')  # half-written
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "summary.json").write_text("{not json")

    sweep = gather(tmp_path)
    assert sweep.swept == ["firm.empathy"]  # run.progress and seed vary but are not strategies
    assert sweep.strategies == ["empathy=0", "empathy=0.5"]
    assert sweep.skipped == {"partial": ["firm.empathy=1,seed=0"], "unfinished": ["firm.empathy=1,seed=1"],
                             "unreadable": ["broken"]}
    assert len(sweep.runs) == 4 * 2 and set(sweep.runs["firm"]) == {"Focal", "Rival"}
    focal = sweep.runs[sweep.runs["role"] == "focal"].set_index("run")
    assert focal.loc["firm.empathy=0.5,seed=1", "profit"] == 51.0
    assert focal.loc["firm.empathy=0.5,seed=1", "churn_by_reason.price"] == 2
    assert len(sweep.steps) == 4 * 4 and set(sweep.steps.columns) >= {"strategy", "seed", "step", "role", "profit"}
    assert sweep.provenance == [{"version": "0.1.0", "git_commit": "abc"}]


def test_cli_errors_are_one_line_and_write_nothing(tmp_path, capsys):
    write_run(tmp_path / "sweep" / "firm.empathy=0,seed=0", 0, 0.0)
    (tmp_path / "empty").mkdir()
    cases = {
        (str(tmp_path / "nowhere"),): "nowhere: no such directory",
        (str(tmp_path / "empty"),): "empty: no finished runs to analyse (no run directories)",
        (str(tmp_path / "sweep"), "--kpi", "proft"): "--kpi=proft is not a KPI of these runs: choose one of",
        (str(tmp_path / "sweep"), "--baseline", "empathy=3"): "'empathy' is not a swept parameter",
    }
    for args, message in cases.items():
        assert main([*args, "--out", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("analysis: error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()
    assert main([str(tmp_path), "--out", str(tmp_path / "out")]) == 0  # a folder with runs somewhere below is fine
    assert (tmp_path / "out" / "report.html").exists()


def test_cli_exits_non_zero_on_bad_input(tmp_path):
    done = subprocess.run([sys.executable, "-m", "analysis", str(tmp_path / "missing")], capture_output=True,
                          text=True, cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 2 and done.stderr == f"analysis: error: {tmp_path / 'missing'}: no such directory\n"


def test_bounded_intervals_stay_inside_their_bounds():
    """Turnover 0.1 +- 0.28 as a t-interval; on the logit scale it stays inside [0, 1] and keeps the mean."""
    table = pd.DataFrame({"g": "a", "employee_turnover": [0.0, 0.0, 0.3], "nps": [-99.0, -95.0, -60.0],
                          "profit": [0.0, 0.0, 0.3]})
    out = aggregate.mean_ci(table, ["g"], ["employee_turnover", "nps", "profit"]).set_index("metric")
    plain = T_975[2] * np.std([0, 0, 0.3], ddof=1) / np.sqrt(3)
    assert out.loc["profit", "ci_low"] == pytest.approx(0.1 - plain)  # unbounded: the plain t-interval
    assert out.loc["profit", "ci_low"] < 0  # ...which here leaves [0, 1]
    low, high = out.loc["employee_turnover", ["ci_low", "ci_high"]]
    assert 0 < low < 0.1 < high < 1
    # the logit-scale interval by hand: logit(0.1) +- t * se / (0.1 * 0.9)
    se = np.std([0, 0, 0.3], ddof=1) / np.sqrt(3)
    centre, spread = np.log(0.1 / 0.9), T_975[2] * se / 0.09
    assert (low, high) == pytest.approx((1 / (1 + np.exp(-(centre - spread))), 1 / (1 + np.exp(-(centre + spread)))))
    assert -100 < out.loc["nps", "ci_low"] < out.loc["nps", "mean"] < out.loc["nps", "ci_high"] < 100
    on_bound = aggregate.mean_ci(pd.DataFrame({"g": "a", "csat": [1.0, 1.0]}), ["g"], ["csat"]).iloc[0]
    assert (on_bound["ci_low"], on_bound["ci_high"]) == (1.0, 1.0)


def test_holm_adjusts_step_down():
    p = np.array([0.01, 0.04, 0.03, np.nan, 0.005])
    assert aggregate.holm(p)[[4, 0, 2, 1]] == pytest.approx([0.02, 0.03, 0.06, 0.06])  # 4p, 3p, 2p, max(p, previous)
    assert np.isnan(aggregate.holm(p)[3])
    assert aggregate.adjust(p[:3], "auto", strategies=3) == pytest.approx(p[:3])  # few strategies: none
    assert aggregate.adjust(p[:3], "auto", strategies=4) == pytest.approx(aggregate.holm(p[:3]))
    assert aggregate.adjust(p[:3], "bonferroni", strategies=2) == pytest.approx([0.03, 0.12, 0.09])


def test_strategies_not_told_apart_from_the_best_are_tied():
    ranked = aggregate.ranking(hand_runs(), "profit").set_index("strategy")
    # best is empathy=0.5; empathy=0 trails it by 2, 2.5, 3 (a clear difference); empathy=1 by 7, -3.5, 3 (not)
    assert ranked.loc["empathy=0.5", "tied_with_best"] and ranked.loc["empathy=1", "tied_with_best"]
    assert not ranked.loc["empathy=0", "tied_with_best"]
    d = np.array([2.0, 2.5, 3.0])
    p = 2 * stats.t.sf(d.mean() / (d.std(ddof=1) / np.sqrt(3)), 2)
    assert ranked.loc["empathy=0", "p_vs_best"] == pytest.approx(p)


def test_paired_and_unpaired_half_widths_are_both_measured():
    diffs = aggregate.paired_differences(hand_runs(), "empathy=0", ["profit"]).set_index("strategy")
    a, b = np.array(PROFIT["empathy=0.5"]), np.array(PROFIT["empathy=0"])
    va, vb = a.var(ddof=1) / 3, b.var(ddof=1) / 3
    welch = stats.t.ppf(0.975, (va + vb) ** 2 / (va**2 / 2 + vb**2 / 2)) * np.sqrt(va + vb)
    assert diffs.loc["empathy=0.5", "unpaired_half_width"] == pytest.approx(welch)
    assert diffs.loc["empathy=0.5", "seed_correlation"] == pytest.approx(np.corrcoef(a, b)[0, 1])


def test_seeds_needed_for_a_half_width():
    # sd 10, target 5: t(0.975, n-1) * 10 / sqrt(n) <= 5 first holds at n = 18 (t = 2.110 -> 4.97; n = 17: 5.14)
    assert aggregate.seeds_needed(10.0, 5.0) == 18
    assert aggregate.seeds_needed(float("nan"), 5.0) is None


def test_report_names_its_correction_ties_pairing_and_seeds(tmp_path):
    sweep = Sweep(root=tmp_path, runs=hand_runs(), steps=hand_steps(hand_runs()), swept=["firm.empathy"],
                  commands=["python -m sim -m a", "python -m sim -m b"])
    text = build(sweep, tmp_path / "out", correction="holm", target_halfwidth=1.0).read_text()
    assert "Rank =1: 1 strategy not significantly different from the best on profit" in text
    assert "Holm-adjusted over 2 comparisons" in text
    assert "would need about" in text and "the --target-halfwidth half-width, ±1.000" in text
    assert "the paired half-width is" in text and "much tighter" not in text
    assert "holds runs of 2 different sweeps" in text and "python -m sim -m b" in text
    assert "| =1 | empathy=1 |" in (tmp_path / "out" / "ranking.md").read_text()


def test_years_are_the_focal_firms_means_over_seeds_with_the_currency(tmp_path):
    runs = hand_runs()
    focal_rows = runs["role"] == "focal"
    runs["currency"] = "USD"
    runs["years"] = [[{"year": 1, "weeks": 52, "revenue": 100.0 * seed, "costs": 10.0, "profit": 100.0 * seed - 10,
                       "customers_end": 5, "retention_rate": None, "employee_turnover": 0.5}] if focal else []
                     for seed, focal in zip(runs["seed"], focal_rows, strict=True)]
    table = aggregate.years(runs)
    assert set(table["strategy"]) == set(runs["strategy"]) and (table["year"] == 1).all()
    assert table["revenue"].tolist() == pytest.approx([100.0] * len(table))  # seeds 0, 1, 2: mean 100
    assert table["retention_rate"].isna().all() and (table["seeds"] == 3).all()
    sweep = Sweep(root=tmp_path, runs=runs, steps=hand_steps(hand_runs()), swept=["firm.empathy"])
    text = build(sweep, tmp_path / "out", kpi="profit").read_text()
    assert "Year by year" in text and "profit (USD/year)" in text
    assert len(pd.read_csv(tmp_path / "out" / "years.csv")) == len(table)


def test_add_seeds_relaunches_the_recorded_sweep_until_the_half_width(tmp_path):
    """--add-seeds runs the sweep's own command again with more seeds into the same folder; done runs are kept."""
    from analysis import more_seeds

    assert more_seeds.with_seeds("python -m sim -m firm.empathy=0,1 'seed=range(2)' hydra.sweep.dir=/x", 5)[3:] == [
        "-m", "firm.empathy=0,1", "hydra.sweep.dir=/x", "seed=range(5)"]
    sweep = tmp_path / "s"
    subprocess.run([sys.executable, "-m", "sim", "-m", "firm.empathy=0,1", "seed=range(2)", "market.customers=200",
                    "run.steps=3", "run.burn_in=0", f"hydra.sweep.dir={sweep}"], check=True, capture_output=True)
    first = {p: p.stat().st_mtime for p in sweep.glob("*/summary.json")}
    assert main([str(sweep), "--target-halfwidth", "1", "--add-seeds", "--max-seeds", "3"]) == 0
    runs = pd.read_parquet(sweep / "analysis" / "runs.parquet")
    assert sorted(runs["seed"].unique()) == [0, 1, 2]
    assert len(first) == 4 and all(p.stat().st_mtime == t for p, t in first.items())  # not run again
    with pytest.raises(SystemExit) as stop:
        main([str(sweep), "--add-seeds"])  # needs --target-halfwidth
    assert stop.value.code == 2
