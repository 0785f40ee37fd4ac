"""The six business scenarios: each composes and runs, agrees with its registry entry and narrative,
shows the mechanism that makes it the situation it claims to be, and regenerates its results.

Mechanism comparisons pair runs on seeds (common random numbers), at a small market size.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scenarios import regenerate, registry
from scenarios.registry import SCENARIOS, Scenario
from sim import customers as cu
from sim.app import check_overrides, load_config
from sim.results import RunResult, simulate

ROOT = Path(__file__).resolve().parent.parent
SEEDS = range(2)


@functools.lru_cache(maxsize=64)
def _run(overrides: tuple[str, ...]) -> RunResult:
    return simulate(load_config(list(overrides)))


def run(name: str, *overrides: str, seed: int = 0, customers: int = 2000, steps: int = 40) -> RunResult:
    """A small run of a scenario with these overrides (cached)."""
    return _run((f"scenario={name}", f"market.customers={customers}", f"run.steps={steps}", "run.progress=false",
                 f"seed={seed}", *overrides))


def focal_summary(result: RunResult) -> dict:
    return next(f for f in result.summary["firms"].values() if f["role"] == "focal")


def focal(result: RunResult, key: str):
    return focal_summary(result)[key]


def weekly(result: RunResult, metric: str, weeks: range) -> np.ndarray:
    """The focal firm's weekly metric over the given weeks."""
    t = result.table
    rows = t[(t.firm == t.firm.iloc[0]) & t.step.isin(weeks)]
    return rows[metric].to_numpy()


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_composes_and_runs(name):
    result = run(name, customers=1000, steps=30)  # 30 weeks: past the bakery's incident
    assert result.summary["config"]["scenario"] == name
    assert result.summary["weeks"] == 30
    assert focal(result, "customers") > 0
    for kpi in SCENARIOS[name].kpis:  # the answer table's KPIs are summary.json keys ("churn_by_reason.price")
        assert functools.reduce(dict.get, kpi.split("."), focal_summary(result)) is not None, kpi


def test_unknown_scenario_exits_with_one_line():
    done = subprocess.run([sys.executable, "-m", "sim", "scenario=cofee_shop"], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "scenario=cofee_shop" in lines[0] and "coffee_shop" in lines[0]


def test_registry_presets_and_narratives_agree():
    presets = {p.stem for p in registry.PRESETS.glob("*.yaml")}
    assert presets == set(SCENARIOS)
    index = (registry.HERE / "README.md").read_text()
    for s in SCENARIOS.values():
        assert s.preset.read_text().startswith("# @package _global_\n")
        assert s.sweep and check_overrides(regenerate.sweep_overrides(s, 2, None)) is None
        assert any(o.startswith(f"{s.choice}=") and "," in o for o in s.sweep), "the question's choice is swept"
        narrative = s.narrative.read_text()
        assert narrative.count(regenerate.START) == 1 and narrative.count(regenerate.END) == 1
        results = narrative.split(regenerate.START)[1].split(regenerate.END)[0]
        assert " ".join(s.sweep) in results, f"{s.narrative.name}: results are not of the registry's sweep"
        assert f"({s.name}.md)" in index


ECONOMICS = ("unit_cost", "wage", "capacity", "fixed_cost", "ad_cost", "market_wage", "base_quit", "basket")


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_preset_states_its_currency_and_a_source_for_each_economic_figure(name):
    """Each money, staffing and turnover figure in a preset and its competitors carries a comment: a source, or
    'assumption' (issue 11 item 7)."""
    preset = SCENARIOS[name].preset
    text = preset.read_text()
    assert "currency:" in text
    competitors = [line.split(":")[1].strip() for line in text.splitlines() if "override /competitors:" in line]
    files = [preset] + [ROOT / "configs" / "competitors" / f"{c}.yaml" for c in competitors]
    for path in files:
        for line in path.read_text().splitlines():
            key = line.strip().split(":")[0]
            if key in ECONOMICS:
                assert "#" in line, f"{path.name}: '{line.strip()}' has no source or 'assumption' comment"


def test_coffee_shop_regulars_reward_empathy():
    """Relationship-driven regulars stay with a caring shop: empathy raises retention and share."""
    for key in ("retention_rate", "market_share"):
        gains = [focal(run("coffee_shop", "firm.empathy=0.9", seed=s), key)
                 - focal(run("coffee_shop", "firm.empathy=0.1", seed=s), key) for s in SEEDS]
        assert min(gains) > 0.05, key


def test_hardware_store_loses_price_driven_customers_to_the_big_box():
    """At a steady state with a bigger premium over the big box, the store keeps fewer customers, fewer of them
    price-driven, and the big box has more."""
    def price_driven_share(result):
        c = result.model.customers
        mine = c.firm == 0
        return (c.segment[mine] == cu.PRICE_DRIVEN).mean()

    for s in SEEDS:
        cheap, dear = run("hardware_store", "firm.price=1.0", seed=s), run("hardware_store", "firm.price=1.6", seed=s)
        focal = next(iter(cheap.summary["firms"]))
        assert dear.summary["firms"][focal]["customers"] < 0.6 * cheap.summary["firms"][focal]["customers"]
        assert price_driven_share(dear) < 0.5 * price_driven_share(cheap)
        assert dear.summary["firms"]["BigBox"]["customers"] > cheap.summary["firms"]["BigBox"]["customers"]


def test_bakery_incident_raises_failures_in_its_weeks_only():
    """Before the incident, runs with and without it are identical; during it, service failures jump."""
    cfg = load_config(["scenario=bakery_recovery"]).firm
    before, during = range(cfg.incident_week), range(cfg.incident_week, cfg.incident_week + cfg.incident_weeks)
    steps = cfg.incident_week + cfg.incident_weeks + 2
    for s in SEEDS:
        calm = run("bakery_recovery", "firm.incident_failure_rate=0", seed=s, steps=steps)
        hit = run("bakery_recovery", seed=s, steps=steps)
        for metric in ("service_failures", "customers"):
            assert (weekly(hit, metric, before) == weekly(calm, metric, before)).all()
        assert weekly(hit, "service_failures", during).sum() > 3 * weekly(calm, "service_failures", during).sum()


def test_empathetic_bakery_recovers_more_of_the_incident():
    """Empathetic staff put a larger share of the incident's failed contacts right."""
    cfg = load_config(["scenario=bakery_recovery"]).firm
    during = range(cfg.incident_week, cfg.incident_week + cfg.incident_weeks)

    def recovered_share(empathy: float, seed: int) -> float:
        r = run("bakery_recovery", f"firm.empathy={empathy}", seed=seed, steps=cfg.incident_week + cfg.incident_weeks)
        recovered = weekly(r, "service_recoveries", during).sum()
        return recovered / (recovered + weekly(r, "service_failures", during).sum())

    assert min(recovered_share(0.8, s) - recovered_share(0.2, s) for s in SEEDS) > 0.05


def test_chatbots_without_handover_drive_bot_frustration_churn():
    """Bots that never hand over frustrate emotional contacts into leaving; bots that always do, never."""
    for s in SEEDS:
        without = run("online_chatbots", "firm.automation=0.9", "firm.bot_handover=0", seed=s)
        with_ = run("online_chatbots", "firm.automation=0.9", "firm.bot_handover=1", seed=s)
        assert focal(without, "churn_by_reason")["bot_frustration"] > 0
        assert focal(with_, "churn_by_reason")["bot_frustration"] == 0
        assert focal(without, "retention_rate") < focal(with_, "retention_rate")


def test_roaster_word_of_mouth_runs_through_hubs():
    """The national market's graph is scale-free: a few customers reach far more people than most."""
    degree = run("roaster_scaling", customers=5000, steps=1).model.graph.degree
    assert degree.max() > 8 * np.median(degree)


def test_roaster_automation_costs_what_made_it_special():
    """Automating the roaster's service lowers how much its customers feel cared for, and their NPS."""
    for s in SEEDS:
        human, automated = run("roaster_scaling", "firm.automation=0", seed=s), run(
            "roaster_scaling", "firm.automation=0.8", seed=s)
        assert focal(automated, "nps") < focal(human, "nps") - 10
        assert weekly(automated, "human_contacts", range(40)).sum() < weekly(human, "human_contacts", range(40)).sum()


def test_commodity_market_shrinks_the_return_to_empathy():
    """The same empathy investment wins fewer customers when nine in ten buy on price."""

    def gain(share: float, seed: int) -> float:
        market = f"market.price_driven_share={share}"
        return (focal(run("commodity_market", market, "firm.empathy=0.9", seed=seed), "customers")
                - focal(run("commodity_market", market, "firm.empathy=0.1", seed=seed), "customers"))

    for s in SEEDS:
        assert 0 < gain(0.9, s) < 0.7 * gain(0.5, s)


def test_regeneration_writes_the_sweep_results_into_the_narrative(tmp_path, monkeypatch):
    """A tiny sweep, end to end: Hydra multirun, analysis, table between the markers; then resumed."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(registry, "HERE", tmp_path)
    narrative = tmp_path / "coffee_shop.md"
    narrative.write_text(f"# Coffee\n\n{regenerate.START}\nold\n{regenerate.END}\n\nafter\n")
    tiny = Scenario("coffee_shop", ("firm.empathy=0.1,0.9", "run.steps=3"), "firm.empathy")
    regenerate.regenerate(tiny, seeds=2, customers=200, jobs=1)
    text = narrative.read_text()
    assert "old" not in text and text.endswith(f"{regenerate.END}\n\nafter\n")
    assert "firm.empathy=0.1,0.9 run.steps=3" in text and "200 customers" in text
    assert "| 0.1 → 0.9 |" in text and "| rank | strategy |" in text  # the effect table and the ranking
    sweep_dir = tmp_path / "sweeps" / "coffee_shop"
    summaries = sorted(sweep_dir.glob("*/summary.json"))
    assert {json.loads(p.read_text())["config"]["firm"]["empathy"] for p in summaries} == {0.1, 0.9}
    assert len(summaries) == 4
    stamp = [p.stat().st_mtime_ns for p in summaries]
    regenerate.run_sweep(regenerate.sweep_overrides(tiny, 2, 200), Path("sweeps/coffee_shop"), jobs=1)  # resumes
    assert [p.stat().st_mtime_ns for p in summaries] == stamp


def test_regeneration_refuses_to_mix_sweeps(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_dir = tmp_path / "sweeps" / "coffee_shop" / "other" / ".hydra"
    run_dir.mkdir(parents=True)
    (run_dir / "overrides.yaml").write_text("- scenario=coffee_shop\n- firm.empathy=0.4\n- seed=0\n")
    with pytest.raises(regenerate.ScenarioError, match="another sweep"):
        regenerate.regenerate(SCENARIOS["coffee_shop"], seeds=1, customers=None)


def test_bad_command_line_is_one_line(capsys):
    for argv in (["cofee_shop"], ["coffee_shop", "--seeds", "0"], ["coffee_shop", "--customers", "5"],
                 ["coffee_shop", "--jobs", "-1"]):
        with pytest.raises(SystemExit) as stop:
            regenerate.main(argv)
        assert stop.value.code != 0
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("scenarios: error:"), err


def test_a_failing_sweep_reports_its_one_line_error(tmp_path):
    with pytest.raises(regenerate.ScenarioError, match=r"firm\.empathy=7"):
        regenerate.run_sweep(["scenario=coffee_shop", "firm.empathy=0.5,7"], tmp_path / "sweep", jobs=1)
