"""The per-agent Mesa model in benchmarks/reference.py and the vectorised model follow the same rules.

At each seed both start from the same firms, graph, population and workforce and then draw their
own random numbers, so they agree statistically: over ten seeds, each one's mean of a focal-firm
KPI lies within the other's 95% confidence interval. Each seed runs the focal firm at its own
empathy (0.2 to 0.8), so both models face the same ten situations, and firms have ten-person teams
(capacity 40) rather than two, so one quit does not decide a run: most of the spread between seeds
is then shared by the two models, and a mean falls outside the other's interval when a rule
differs, not by chance (about 1 time in 100 over fresh seeds, measured on 100 seeds). A rule written
differently, e.g. detractors praising instead of warning, or felt empathy not learnt, fails it.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from scipy import stats

from benchmarks.reference import Customer, Employee, ReferenceMarket
from sim.app import load_config
from sim.results import simulate

SEEDS = range(10)
KPIS = ("retention_rate", "market_share", "cltv", "nps", "employee_burnout", "employee_turnover", "referrals_sent")
TEN_PERSON_TEAMS = [f"{firm}.capacity=40" for firm in ("firm", "competitors.big_box", "competitors.online")]


def config(seed: int, customers: int = 2000, weeks: int = 52):
    empathy = 0.2 + 0.6 * seed / (len(SEEDS) - 1)
    return load_config([f"market.customers={customers}", f"run.steps={weeks}", f"seed={seed}", "run.progress=false",
                        f"firm.empathy={empathy:.3f}", *TEN_PERSON_TEAMS])


@functools.cache
def focal_kpis() -> dict[str, np.ndarray]:
    """Focal-firm KPIs of both models, one row per seed."""
    real, reference = [], []
    for seed in SEEDS:
        summary = simulate(config(seed)).summary["firms"]["Focal"]
        real.append([summary[k] for k in KPIS])
        model = ReferenceMarket(config(seed))
        model.run()
        reference.append([model.kpis()["Focal"][k] for k in KPIS])
        assert "churn_by_reason" in model.kpis()["Focal"]
    return {"real": np.array(real), "reference": np.array(reference)}


def assert_within_interval(mean: float, other: np.ndarray, what: str) -> None:
    """`mean` lies within the 95% confidence interval of the mean of `other`."""
    half = stats.t.ppf(0.975, len(other) - 1) * other.std(ddof=1) / np.sqrt(len(other))
    low, high = other.mean() - half, other.mean() + half
    assert low <= mean <= high, f"{what} mean {mean:.4f} outside the other model's 95% CI [{low:.4f}, {high:.4f}]"


@pytest.mark.parametrize("kpi", KPIS)
def test_each_models_mean_lies_in_the_others_confidence_interval(kpi):
    j = KPIS.index(kpi)
    real, reference = focal_kpis()["real"][:, j], focal_kpis()["reference"][:, j]
    assert_within_interval(real.mean(), reference, f"{kpi}: vectorised")
    assert_within_interval(reference.mean(), real, f"{kpi}: per-agent")


def test_reference_is_one_mesa_agent_per_customer_and_reproducible():
    first, second = ReferenceMarket(config(7, 300, 6)), ReferenceMarket(config(7, 300, 6))
    first.run()
    second.run()
    assert len(first.agents_by_type[Customer]) == 300 and len(first.agents_by_type[Employee]) > 0
    assert first.kpis() == second.kpis()
