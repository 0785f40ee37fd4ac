"""Validation against closed forms: in special configurations where theory gives the answer, the model must give it too.

Each check runs the model (`sim.results.simulate`: the checks read the weekly table and the
agents' state) in a configuration where a closed form holds, and compares within a stated
statistical tolerance, family-wise 99% over all comparisons of the check (Bonferroni):

* geometric retention and CLTV (Gupta & Lehmann 2003): constant churn, no word of mouth, no
  choice, no acquisitions;
* Bass diffusion (Bass 1969) on a complete graph: one firm, no churn, everyone a promoter;
* multinomial logit shares (McFadden 1974) of a heterogeneous population (mixed logit, Train
  2009): loyalty off, everyone reviews weekly, fixed perceptions.

    python -m research.validate --out outputs/validation
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from research import cli
from sim.app import load_config
from sim.customers import PRICE_DRIVEN
from sim.results import RunResult, simulate

FAMILY_LEVEL = 0.01  # chance that a correct model fails a check, over all of its comparisons


@dataclass
class Check:
    """One closed-form check: what theory says, how it was run, what was compared, and the verdict."""

    name: str
    closed_form: str
    source: str
    overrides: list[str]
    tolerance: str
    comparisons: pd.DataFrame  # quantity, closed_form, simulated, allowed (half-width or bound), ok
    curve: pd.DataFrame  # week, series, kind (simulated or a closed form), value: for the plot
    notes: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.comparisons["ok"].all())


def _run(overrides: list[str]) -> RunResult:
    return simulate(load_config([*overrides, "run.progress=false"]))


def _z(tests: int) -> float:
    """Two-sided normal quantile for a family-wise level over `tests` comparisons (Bonferroni)."""
    return float(stats.norm.ppf(1 - FAMILY_LEVEL / (2 * tests)))


def geometric_retention(customers: int = 20_000, weeks: int = 156, churn: float = 0.02, seed: int = 0,
                        extra: Sequence[str] = ()) -> Check:
    """Constant weekly churn: survival r^t, the churn hazard, and realised CLTV against the closed forms."""
    overrides = ["run.burn_in=0", "competitors=none", "wom.enabled=false", "behaviour.choice=false",
                 "firm.advertising=0",
                 "market.visit_rate=1", "market.initial_adoption=1", f"market.base_churn={churn}",
                 f"market.customers={customers}", f"run.steps={weeks}", f"seed={seed}", *extra]
    result = _run(overrides)
    cfg, t = result.model.cfg, result.table
    r, i = 1 - churn, (1 + cfg.market.discount_rate) ** (1 / 52) - 1
    m = cfg.market.basket * (cfg.firm.price - cfg.firm.unit_cost)  # visit_rate 1: one margin a week
    n0 = int(t["customers"].iloc[0] + t["churned"].iloc[0])
    week = t["step"].to_numpy()
    survival = t["customers"].to_numpy() / n0
    expected = r ** (week + 1)  # the churn draw comes first in a week
    z = _z(weeks + 2)
    band = z * np.sqrt(expected * (1 - expected) / n0)

    exposure, churned = float(t["churned"].sum() + t["customers"].sum()), float(t["churned"].sum())
    hazard_band = z * math.sqrt(churn * (1 - churn) / exposure)
    # one relationship, joined just before week 0, earns m at the end of each of the L weeks it survives
    # (L geometric, truncated at the horizon): value m * sum_{t=1..L} (1+i)^-t at the time it joined
    lengths = np.arange(weeks + 1)
    p_length = np.where(lengths < weeks, r**lengths * (1 - r), r**weeks)
    value = m * np.concatenate([[0.0], np.cumsum((1 + i) ** -np.arange(1, weeks + 1))])
    cltv, cltv_sd = float(p_length @ value), float(np.sqrt(p_length @ (value - p_length @ value) ** 2))
    cltv_band = z * cltv_sd / math.sqrt(n0)
    focal = result.summary["firms"][cfg.firm.name]
    comparisons = pd.DataFrame([
        ("largest |survival - r^(t+1)| in band units", 0.0, float(np.max(np.abs(survival - expected) / band)), 1.0),
        ("weekly churn hazard (pooled)", churn, churned / exposure, hazard_band),
        ("realised CLTV per relationship (summary cltv)", cltv, focal["cltv"], cltv_band),
    ], columns=["quantity", "closed_form", "simulated", "allowed"])
    comparisons["ok"] = np.abs(comparisons["simulated"] - comparisons["closed_form"]) <= comparisons["allowed"]
    infinite = m * r / (1 + i - r)
    return Check(
        name="Geometric retention and CLTV",
        closed_form="S(t) = r^(t+1); CLTV = m r/(1+i) (1 - (r/(1+i))^T) / (1 - r/(1+i)) -> m r / (1+i-r) "
                    f"(m = basket (price - unit_cost) = {m:g}, r = 1 - base_churn = {r:g}, "
                    f"i = (1+discount_rate)^(1/52) - 1 = {i:.5f}, T = {weeks} weeks)",
        source="Gupta & Lehmann (2003), J. Interactive Marketing 17(1): CLV = m r / (1 + i - r), margins at "
               "period ends; truncated at the horizon T, since open relationships count what they earned so far",
        overrides=overrides,
        tolerance=f"99% family-wise over {weeks + 2} comparisons (Bonferroni z = {z:.2f}): survival binomial "
                  f"with n = {n0} each week; hazard binomial over {exposure:.0f} customer-weeks; CLTV normal "
                  f"with the exact standard deviation of one relationship's value ({cltv_sd:.2f}) over {n0}",
        comparisons=comparisons,
        curve=_curve(week, "survival S(t)", simulated=survival, closed_form=expected),
        notes=f"Annualised retention in summary.json: {focal['retention_rate']:.4f} (r^52 = {r**52:.4f}). "
              f"Untruncated m r/(1+i-r) = {infinite:.2f}; summary's cltv_predicted (from the measured margin and "
              f"retention): {focal['cltv_predicted']:.2f}. Booking margins at week starts instead would raise "
              f"CLTV by the factor 1+i = {1 + i:.4f}, too little for this check to see.",
    )


def bass_diffusion(customers: int = 2_000, weeks: int = 30, p: float = 0.03, q: float = 0.38, seed: int = 0,
                   replicates: int = 2_000, extra: Sequence[str] = ()) -> Check:
    """Adoption on a complete graph against the discrete Bass model with the model's exponential referral hazard."""
    referral = q / customers
    overrides = ["run.burn_in=0", "competitors=none", "network.kind=complete", "market.initial_adoption=0",
                 "market.base_churn=0", "behaviour.choice=false", "market.outside_utility=-10",
                 "behaviour.promoter_threshold=0", "behaviour.detractor_threshold=0", "wom.talk_rate=1",
                 "wom.buzz_weight=0", f"wom.referral_strength={referral:.10g}", f"firm.advertising={p}",
                 f"market.customers={customers}", f"run.steps={weeks}", f"seed={seed}", *extra]
    t = _run(overrides).table
    adopted = (t["acquisitions_advertising"] + t["acquisitions_referral"]).to_numpy()
    after = t["customers"].to_numpy()
    before = after - adopted  # customers talking this week (this week's adopters talk from next week)
    hazard = 1 - (1 - p) * np.exp(-referral * before)  # every prospect hears every customer
    prospects = customers - before
    p_values = np.array([stats.binomtest(int(a), int(n), h).pvalue
                         for a, n, h in zip(adopted, prospects, hazard, strict=True) if n > 0])
    # adoptions minus their conditional expectations add up to a martingale: its total in standard deviations
    drift = float((adopted - prospects * hazard).sum() / np.sqrt((prospects * hazard * (1 - hazard)).sum()))
    level = FAMILY_LEVEL / 3  # three comparisons

    step = lambda f: f + (1 - f) * (1 - (1 - p) * np.exp(-q * f))  # noqa: E731 (the exact mean-field map)
    mean_field, bass = np.zeros(weeks + 1), np.zeros(weeks + 1)
    for k in range(weeks):
        mean_field[k + 1] = step(mean_field[k])
        bass[k + 1] = bass[k] + (p + q * bass[k]) * (1 - bass[k])
    simulated = np.concatenate([[before[0] / customers], after / customers])
    # the same statistic for the closed form's own stochastic chain: how far a correct path strays
    rng = np.random.default_rng(seed)
    chains = np.zeros((replicates, weeks + 1))
    for k in range(weeks):
        s = np.rint(chains[:, k] * customers)
        chains[:, k + 1] = (s + rng.binomial((customers - s).astype(np.int64),
                                             1 - (1 - p) * np.exp(-referral * s))) / customers
    stray = np.abs(chains - mean_field).max(axis=1)
    comparisons = pd.DataFrame([
        ("adoptions minus expected, summed over weeks, in SDs", 0.0, drift, float(stats.norm.ppf(1 - level / 2))),
        ("smallest weekly binomial p-value x tests (Bonferroni)", 1.0, min(1.0, p_values.min() * len(p_values)),
         level),
        ("largest |F(t) - mean-field F(t)|", 0.0, float(np.abs(simulated - mean_field).max()),
         float(np.quantile(stray, 1 - level))),
    ], columns=["quantity", "closed_form", "simulated", "allowed"])
    comparisons["ok"] = [abs(drift) <= comparisons["allowed"][0], comparisons["simulated"][1] >= level,
                         comparisons["simulated"][2] <= comparisons["allowed"][2]]
    return Check(
        name="Bass diffusion on a complete graph",
        closed_form=f"F(t+1) = F(t) + (1 - F(t)) h(F(t)), h(F) = 1 - (1 - p) exp(-q F): the discrete Bass model "
                    f"F(t+1) = F(t) + (p + q F(t))(1 - F(t)) with its hazard p + q F taken as independent "
                    f"advert and referral chances (p = firm.advertising = {p:g}, q = wom.referral_strength x N "
                    f"= {q:g}, N = {customers}); h ~ p + q F when p and q F are small",
        source="Bass (1969), Management Science 15(5); p = 0.03, q = 0.38: mean estimates over 213 applications "
               "(Sultan, Farley & Lehmann 1990). Mapping derived from sim/acquisition.py (hazard "
               "1 - (1-advertising)(1 - (1 - exp(-referral_strength m))) with m praise messages heard) and "
               "sim/wom.py (on a complete graph with talk_rate 1 and every customer a promoter, m = customers)",
        overrides=overrides,
        tolerance=f"99% family-wise over three comparisons (Bonferroni). Weekly adoptions given the week's "
                  f"customers are Binomial(prospects, h): their summed deviation from expectation in standard "
                  f"deviations (normal, martingale CLT: catches a biased hazard), and exact two-sided binomial "
                  f"tests each week with prospects left (Bonferroni over those weeks: catches a single odd "
                  f"week); the whole path's largest distance from the mean-field curve against the same "
                  f"distance in {replicates} simulated chains of the closed-form process",
        comparisons=comparisons,
        curve=_curve(np.arange(weeks + 1), "adopted share F(t)", simulated=simulated, closed_form=mean_field,
                     linear_Bass=bass),
        notes=f"Largest gap between the exact map and the linear discrete Bass curve with the same p, q: "
              f"{np.abs(mean_field - bass).max():.3f} (the exponential referral hazard saturates: "
              f"1 - exp(-q F) < q F).",
    )


def logit_shares(customers: int = 20_000, weeks: int = 8, outside: float = -0.9, seed: int = 0,
                 extra: Sequence[str] = ()) -> Check:
    """Customers per firm and week against the multinomial logit probabilities of each customer."""
    overrides = ["run.burn_in=0",
                 "behaviour.switching_cost=0", "behaviour.attachment_weight=0", "behaviour.review_rate=1",
                 "behaviour.learning_rate=0", "wom.enabled=false", "market.base_churn=0",
                 "market.initial_adoption=1", "adapt.enabled=false", "firm.advertising=0",
                 "competitors.big_box.pricing=fixed", "competitors.online.pricing=fixed",
                 "competitors.big_box.advertising=0", "competitors.online.advertising=0",
                 f"market.outside_utility={outside}", f"market.customers={customers}", f"run.steps={weeks}",
                 f"seed={seed}", *extra]
    result = _run(overrides)
    model, t = result.model, result.table
    b, mk = model.cfg.behaviour, model.cfg.market
    quality, empathy = model.firms.reputation  # perceptions never move with learning_rate 0
    c = model.customers
    sensitivity = np.where(c.segment == PRICE_DRIVEN, mk.price_driven_price_sensitivity,
                           mk.relationship_price_sensitivity)
    utility = np.column_stack([
        -b.quality_weight * (1 - quality[None, :]) - b.empathy_weight * c.need[:, None] * (
            1 - empathy[None, :] ** b.empathy_returns) - b.price_weight * sensitivity[:, None] * (
            model.firms.price[None, :] - 1),
        np.full(c.n, mk.outside_utility)])
    prob = np.exp(utility / b.choice_noise - (utility / b.choice_noise).max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    stay = 1 - prob[:, -1]
    names = model.firms.names
    z = _z(weeks * len(names))
    rows, counts, expected = [], np.zeros((weeks, len(names))), np.zeros((weeks, len(names)))
    for week in range(weeks):
        at_firm = stay[:, None] ** week * prob[:, :-1]  # never chose the outside option before, then chose j
        expected[week] = at_firm.sum(axis=0)
        band = z * np.sqrt((at_firm * (1 - at_firm)).sum(axis=0))
        counts[week] = t[t["step"] == week].set_index("firm").loc[names, "customers"].to_numpy()
        rows += [(f"week {week} {n}", e, k, w)
                 for n, e, k, w in zip(names, expected[week], counts[week], band, strict=True)]
    comparisons = pd.DataFrame(rows, columns=["quantity", "closed_form", "simulated", "allowed"])
    comparisons["ok"] = np.abs(comparisons["simulated"] - comparisons["closed_form"]) <= comparisons["allowed"]
    shares = prob.mean(axis=0)
    return Check(
        name="Multinomial logit market shares",
        closed_form="P_ij = exp(U_ij / s) / sum_k exp(U_ik / s) over the firms and the outside option, "
                    "U_ij = -wq (1 - Q_j) - we need_i (1 - E_j^gamma) - wp sens_i (price_j - 1), U_i0 = "
                    "outside_utility; customers at firm j after week t: E = sum_i (1 - P_i0)^t P_ij (a customer "
                    "who chooses the outside option stays out: no acquisitions)",
        source="McFadden (1974), Conditional logit analysis of qualitative choice behavior; Train (2009), Discrete "
               "Choice Methods with Simulation, ch. 6: a heterogeneous population's share is the mean of its "
               "members' logit probabilities",
        overrides=overrides,
        tolerance=f"each customer's firm is an independent draw, so a firm's count is Poisson-binomial with "
                  f"variance sum_i pi(1 - pi); normal bands, 99% family-wise over {weeks} weeks x {len(names)} "
                  f"firms (Bonferroni z = {z:.2f})",
        comparisons=comparisons,
        curve=pd.concat([_curve(np.arange(weeks), n, simulated=counts[:, j] / customers,
                                logit=expected[:, j] / customers) for j, n in enumerate(names)]),
        notes="Logit shares in week 0: " + ", ".join(f"{n} {s:.3f}" for n, s in zip(names, shares, strict=False))
              + f", outside {shares[-1]:.3f}.",
    )


CHECKS: dict[str, Callable[..., Check]] = {
    "retention": geometric_retention,
    "bass": bass_diffusion,
    "logit": logit_shares,
}


def _curve(week: np.ndarray, series: str, **kinds: np.ndarray) -> pd.DataFrame:
    """Curves in long form: one row per week and kind (simulated, or a closed form) of one series."""
    return pd.concat([pd.DataFrame({"week": week, "series": series, "kind": kind.replace("_", " "), "value": v})
                      for kind, v in kinds.items()])


def plot(checks: Sequence[Check]) -> Figure:
    """One panel per check: simulated points against the closed-form lines, one colour per series."""
    fig = Figure(figsize=(5 * len(checks), 4), layout="constrained")
    for ax, check in zip(fig.subplots(1, len(checks), squeeze=False)[0], checks, strict=True):
        for k, (series, part) in enumerate(check.curve.groupby("series", sort=False)):
            for j, (kind, line) in enumerate(part.groupby("kind", sort=False)):
                style = {"marker": "o", "linestyle": "none", "markersize": 3} if kind == "simulated" else {
                    "linestyle": ("--", ":")[j % 2]}
                ax.plot(line["week"], line["value"], color=f"C{k}", label=f"{series}: {kind}", **style)
        ax.set_title(f"{check.name}: {'pass' if check.passed else 'FAIL'}", fontsize="medium")
        ax.set_xlabel("week")
        ax.legend(fontsize="x-small")
    return fig


def report(checks: Sequence[Check], seconds: float) -> str:
    """The Markdown report: per check the closed form, configuration, tolerance, source and comparisons."""
    lines = ["# Validation against closed forms", "",
             f"{sum(c.passed for c in checks)} of {len(checks)} checks pass ({seconds:.0f} s).", ""]
    for c in checks:
        used = (c.comparisons["simulated"] - c.comparisons["closed_form"]).abs() / c.comparisons["allowed"]
        shown = c.comparisons.loc[used.sort_values(ascending=False).index[:12]]
        title = "Comparisons (the 12 nearest their bound):" if len(c.comparisons) > 12 else "Comparisons:"
        lines += [f"## {c.name}: {'pass' if c.passed else 'FAIL'}", "", f"Closed form: {c.closed_form}.", "",
                  f"Source: {c.source}.", "", f"Configuration: `{' '.join(c.overrides)}`", "",
                  f"Tolerance: {c.tolerance}.", "", title, "", cli.markdown_table(shown, digits=4), c.notes, ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> Path:
    """Command line: run the checks and write report.md, comparisons.csv and validation.png."""
    p = cli.parser("validate", __doc__.split("\n\n")[0])
    p.add_argument("--checks", nargs="+", choices=list(CHECKS), default=list(CHECKS))
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    started = time.perf_counter()
    checks = [CHECKS[name](seed=args.seed) for name in args.checks]
    out = cli.output_dir(args.out, "validate")
    seconds = time.perf_counter() - started
    cli.write_csv(out / "comparisons.csv", pd.concat([c.comparisons.assign(check=c.name) for c in checks]))
    cli.save_figure(plot(checks), out / "validation.png")
    text = report(checks, seconds)
    cli.write_text(out / "report.md", text)
    print(text)
    print(f"results: {out}")
    failed = [c.name for c in checks if not c.passed]
    if failed:
        raise cli.Failed(f"{', '.join(failed)} failed: see {out / 'report.md'}")
    return out


if __name__ == "__main__":
    sys.exit(cli.run("validate", main))
