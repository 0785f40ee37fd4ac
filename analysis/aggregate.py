"""Aggregate over seeds: means with t-based 95% confidence intervals, rankings and paired differences.

Every function takes tidy tables (as `analysis.gather` builds them: one row per run x firm, or per
run x step x firm, with `strategy` and `seed` columns) and returns a tidy table, so each can be
checked on a hand-made table without running the model. Strategies are compared on the focal
firm; seeds pair runs across strategies, which met the same customers, graph and shocks (common
random numbers), so a paired difference is much tighter than the difference of two means.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.gather import AnalysisError, value_text

LEVEL = 0.95
RANKING_KPIS = {
    "retention_rate": "retention (annual)",
    "cltv": "CLTV",
    "market_share": "market share",
    "profit": "profit",
    "nps": "NPS",
    "employee_turnover": "employee turnover",
}
LOWER_IS_BETTER = ("churn", "turnover", "burnout", "cac", "cost")  # KPI names containing these


def lower_is_better(kpi: str) -> bool:
    """Whether a smaller value of this KPI is the better one (churn, turnover, costs, ...)."""
    return any(word in kpi for word in LOWER_IS_BETTER)


def focal(table: pd.DataFrame) -> pd.DataFrame:
    """The focal firm's rows: strategies are the focal business's choices."""
    return table[table["role"] == "focal"]


def mean_ci(table: pd.DataFrame, by: list[str], values: list[str]) -> pd.DataFrame:
    """Per group and value column: n, mean, sd, and the 95% CI mean +- t(0.975, n-1) sd / sqrt(n).

    Long format: the `by` columns, then metric, n, mean, sd, half_width, ci_low, ci_high. Groups
    keep their order of appearance. With one observation the interval is undefined (NaN).
    """
    long = table.melt(id_vars=by, value_vars=values, var_name="metric").dropna(subset=["value"])
    out = long.groupby([*by, "metric"], sort=False)["value"].agg(n="count", mean="mean", sd="std").reset_index()
    t = stats.t.ppf(0.5 + LEVEL / 2, out["n"].where(out["n"] > 1) - 1)
    out["half_width"] = t * out["sd"] / np.sqrt(out["n"])
    out["ci_low"] = out["mean"] - out["half_width"]
    out["ci_high"] = out["mean"] + out["half_width"]
    return out


def check_kpi(kpi: str, allowed: list[str]) -> None:
    """Raise AnalysisError naming the allowed KPIs if `kpi` is not one of them."""
    if kpi not in allowed:
        raise AnalysisError(f"--kpi={kpi} is not a KPI of these runs: choose one of {', '.join(allowed)}")


def ranking(runs: pd.DataFrame, kpi: str = "profit", kpis: list[str] | None = None) -> pd.DataFrame:
    """Strategies ranked best first on `kpi` (focal firm, mean over seeds), with every ranking KPI's CI.

    One row per strategy: rank, strategy, n (seeds), then <kpi>_mean, <kpi>_ci_low, <kpi>_ci_high
    for `kpi` and each of `kpis` (default: retention, CLTV, market share, profit, NPS, turnover).
    """
    kpis = list(dict.fromkeys([kpi, *(kpis if kpis is not None else RANKING_KPIS)]))
    kpis = [k for k in kpis if k in runs]
    long = mean_ci(focal(runs), ["strategy"], kpis)
    wide = long.pivot(index="strategy", columns="metric", values=["mean", "ci_low", "ci_high"])
    table = pd.DataFrame({"strategy": wide.index})
    table["n"] = long.groupby("strategy")["n"].max().reindex(wide.index).to_numpy()
    for k in kpis:
        for stat in ("mean", "ci_low", "ci_high"):
            table[f"{k}_{stat}"] = wide[(stat, k)].to_numpy()
    table = table.sort_values(f"{kpi}_mean", ascending=lower_is_better(kpi), kind="stable", ignore_index=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def paired_differences(runs: pd.DataFrame, baseline: str, kpis: list[str]) -> pd.DataFrame:
    """Each strategy minus the baseline, paired by seed (focal firm): mean difference and 95% CI.

    Long format as `mean_ci` (strategy, metric, n pairs, mean, sd, half_width, ci_low, ci_high),
    plus `better`: the whole interval lies on the better side of zero (True), the worse (False),
    or it spans zero (None).
    """
    rows = focal(runs)[["strategy", "seed", *kpis]]
    if rows.duplicated(["strategy", "seed"]).any():
        dup = rows[rows.duplicated(["strategy", "seed"])].iloc[0]
        raise AnalysisError(f"several runs of strategy '{dup.strategy}' with seed {dup.seed}: "
                            "analyse one sweep at a time")
    base = rows[rows["strategy"] == baseline].drop(columns="strategy")
    pairs = rows[rows["strategy"] != baseline].merge(base, on="seed", suffixes=("", " baseline"))
    for k in kpis:
        pairs[k] = pairs[k] - pairs[f"{k} baseline"]
    out = mean_ci(pairs, ["strategy"], kpis)
    sign = np.where([lower_is_better(k) for k in out["metric"]], -1, 1)
    low, high = sign * out["ci_low"], sign * out["ci_high"]
    out["better"] = np.select([np.minimum(low, high) > 0, np.maximum(low, high) < 0], [True, False], None)
    return out


def find_strategy(runs: pd.DataFrame, swept: list[str], wanted: str | None) -> str:
    """The strategy named by `wanted`, e.g. 'firm.empathy=0,automation=0' (full or short keys, any order).

    None picks the first strategy (the lowest swept values). Raises AnalysisError unless exactly one
    strategy matches.
    """
    strategies = list(dict.fromkeys(runs["strategy"]))
    if wanted is None:
        return strategies[0]
    rows = runs.drop_duplicates("strategy")
    for pair in filter(None, (p.strip() for p in wanted.split(","))):
        key, _, value = pair.partition("=")
        column = next((c for c in swept if c == key or c.endswith(f".{key}")), None)
        if column is None:
            raise AnalysisError(f"--baseline={wanted}: '{key}' is not a swept parameter: "
                                f"choose from {', '.join(swept) or 'none (one strategy)'}")
        rows = rows[rows[column].map(value_text) == value_text(parse_value(value))]
    if len(rows) != 1:
        how = "matches no" if rows.empty else f"matches {len(rows)} strategies, not one"
        raise AnalysisError(f"--baseline={wanted} {how} strategy: choose one of {'; '.join(strategies)}")
    return str(rows["strategy"].iloc[0])


def parse_value(text: str) -> float | str:
    """A command-line value as a number when it reads as one, so '0.50' matches 0.5."""
    try:
        return float(text)
    except ValueError:
        return text


def churn_reasons(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean customers lost per strategy and reason (focal firm), and each reason's share of the loss."""
    columns = [c for c in runs.columns if c.startswith("churn_by_reason.")]
    means = focal(runs).groupby("strategy", sort=False)[columns].mean()
    means.columns = [c.split(".", 1)[1] for c in columns]
    shares = means.div(means.sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)
    return means.join(shares.add_suffix(" share")).reset_index()


def grid(runs: pd.DataFrame, kpi: str, rows: str, columns: str) -> pd.DataFrame:
    """Mean of `kpi` (focal firm) for each pair of two parameters' values: a heatmap's cells."""
    return focal(runs).pivot_table(index=rows, columns=columns, values=kpi, aggfunc="mean").sort_index(
        ascending=False)


def time_series(steps: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Mean and 95% CI of a weekly metric per strategy and step (focal firm)."""
    return mean_ci(focal(steps), ["strategy", "step"], [metric])
