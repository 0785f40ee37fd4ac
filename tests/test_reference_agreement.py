"""The per-agent Mesa model in benchmarks/reference.py and the vectorised model follow the same rules.

benchmarks/reference.py is the executable specification: every rule, the firms' pricing, staffing
and adaptation included, is written there again per agent. At each seed both start from the same
graph, population and workforce and then draw their own random numbers, so they agree
statistically. Each seed runs the focal firm at its own empathy (0.2 to 0.8), so both models face
the same twelve situations, and firms have ten-person teams (capacity 40) rather than two, so one
quit does not decide a run. The measures span every process: retention, market share and CLTV
(choice, service, acquisition), NPS (survey), burnout and staff turnover (workforce), referrals
(word of mouth), the shares of the focal firm's churn by reason (choice), its profit (accounts) and
end headcount (staffing), and each competitor's share, profit and automation (pricing, adaptation).
Two cases: the shipped market, and one where the policies bite (below). Per measure, the paired
differences (same seed, same start) must have a mean within their 99.5% t-interval of zero,
Bonferroni over the measures of a case (a family-wise level of about 3%). Measured: over these 12
seeds the largest |t| is 2.46 in the shipped case and 2.25 in the policy case (limit 5.00); over 30
fresh seeds (100 to 129) 2.04 and 2.56 (limit 4.00). A rule written differently fails it, e.g.
detractors praising instead of warning, felt empathy not learnt, churn reasons counted over the
warm-up, no promotions, no restaffing, imitation away from the best firm, or a losing firm exiting
one review late; smaller slips in the firms' policies are left to tests/test_reference_policies.py.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from scipy import stats

from benchmarks.reference import Customer, Employee, ReferenceMarket
from sim.app import load_config
from sim.customers import CHURN_REASONS
from sim.results import RunResult, simulate

SEEDS = range(12)
FOCAL = ("retention_rate", "market_share", "cltv", "nps", "employee_burnout", "employee_turnover", "referrals_sent",
         "profit", "employees")
RIVALS = {f: ("market_share", "profit", "automation", "mean_price", "weeks_in_market")
          for f in ("BigBox", "OnlineStore")}
MEASURES = (*FOCAL, *(f"churn share {r}" for r in CHURN_REASONS), *(f"{f} {k}" for f, ks in RIVALS.items() for k in ks))
TEN_PERSON_TEAMS = [f"{firm}.capacity=40" for firm in ("firm", "competitors.big_box", "competitors.online")]
CASES = {
    "shipped": ["market.customers=2000", "run.steps=52"],
    # A short warm-up and reviews every 8 weeks that count from week 0; BigBox runs promotions every six weeks
    # with a fixed headcount; OnlineStore matches the cheapest price and, with fixed costs of 5,000 a week, cuts
    # costs (and then staffs to demand), reprices and exits, one review apart (the weeks it stays in the market
    # then agree exactly); both imitate automation; the focal firm staffs to demand.
    "policies bite": ["market.customers=1500", "run.steps=52", "run.burn_in=26", "market.basket=100",
                      "adapt.every=8", "adapt.loss_reviews=1", "competitors.big_box.staff=8",
                      "competitors.big_box.promo_every=6", "competitors.online.fixed_cost=5000"],
}


def config(case: str, seed: int, customers: int | None = None, weeks: int | None = None):
    empathy = 0.2 + 0.6 * (seed % len(SEEDS)) / (len(SEEDS) - 1)
    size = [f"market.customers={customers}", f"run.steps={weeks}"] if customers else []
    return load_config([*CASES[case], *size, f"seed={seed}", "run.progress=false", f"firm.empathy={empathy:.3f}",
                        *TEN_PERSON_TEAMS])


def measures(firms: dict[str, dict]) -> list[float]:
    """The compared figures of one run, in the order of MEASURES (from the reference's kpis, or `real`)."""
    focal = firms["Focal"]
    churn = sum(focal["churn_by_reason"].values())
    return [*(focal[k] for k in FOCAL), *(focal["churn_by_reason"][r] / max(churn, 1) for r in CHURN_REASONS),
            *(firms[f][k] for f, ks in RIVALS.items() for k in ks)]


def real(result: RunResult) -> dict[str, dict]:
    """summary.json's firms, plus each firm's mean weekly price and weeks in the market (an exited firm's rows
    show no costs, ODD 7.11) from the weekly table."""
    by_firm = result.table.groupby("firm")
    prices, weeks = by_firm["price"].mean(), by_firm["costs"].agg(lambda costs: int((costs > 0).sum()))
    return {name: {**kpis, "mean_price": prices[name], "weeks_in_market": weeks[name]}
            for name, kpis in result.summary["firms"].items()}


@functools.cache
def paired(case: str, seeds: tuple[int, ...] = tuple(SEEDS)) -> tuple[np.ndarray, list[str]]:
    """Vectorised minus per-agent, one row per seed, one column per measure; and the reference's notes."""
    rows, notes = [], []
    for seed in seeds:
        vectorised = measures(real(simulate(config(case, seed))))
        model = ReferenceMarket(config(case, seed))
        model.run()
        difference = np.array(vectorised, dtype=float) - np.array(measures(model.kpis()), dtype=float)
        rows.append(np.round(difference, 9))  # the same sums added in another order differ in the last bits
        notes += model.notes
    return np.array(rows), notes


def t_statistic(d: np.ndarray) -> float:
    """Mean paired difference over its standard error; 0 when the two always agree exactly."""
    se = d.std(ddof=1) / np.sqrt(len(d))
    return float(d.mean() / se) if se > 0 else 0.0 if d.mean() == 0 else np.inf


@pytest.mark.parametrize("measure", MEASURES)
@pytest.mark.parametrize("case", CASES)
def test_paired_differences_between_the_models_are_noise(case, measure):
    d = paired(case)[0][:, MEASURES.index(measure)]
    limit = stats.t.ppf(1 - 0.005 / len(MEASURES), len(d) - 1)
    assert abs(t_statistic(d)) <= limit, f"{case}, {measure}: real - reference = {d.mean():.4g}, |t| > {limit:.2f}"


def test_the_policy_case_exercises_the_policies():
    """Across its seeds the policy case sees promotions, price matching, imitation, cuts, repricing and exits."""
    notes = paired("policies bite")[1]
    for change in ("cut its base price", "moved automation"):
        assert any(change in n for n in notes), change
    for response in ("cut", "reprice", "exit"):
        assert any(n.endswith(f"OnlineStore {response}") for n in notes), response


def test_reference_is_one_mesa_agent_per_customer_and_reproducible():
    first, second = ReferenceMarket(config("shipped", 7, 300, 6)), ReferenceMarket(config("shipped", 7, 300, 6))
    first.run()
    second.run()
    assert len(first.agents_by_type[Customer]) == 300 and len(first.agents_by_type[Employee]) > 0
    assert first.kpis() == second.kpis()
