"""Aggregate over seeds: means with 95% confidence intervals, rankings, ties and paired differences.

Every function takes tidy tables (as `analysis.gather` builds them: one row per run x firm, or per
run x step x firm, with `strategy` and `seed` columns) and returns a tidy table, so each can be
checked on a hand-made table without running the model. Strategies are compared on the focal
firm; seeds pair runs across strategies, which met the same customers, graph and shocks (common
random numbers). Whether pairing narrows an interval depends on how strongly a seed's runs agree
across strategies, so the paired and unpaired half-widths are both reported, as measured.

Intervals. A mean's interval is Student's t. For a bounded KPI (rates and shares in [0, 1], NPS in
[-100, 100]) it is the t-interval on the logit scale of the mean (delta method: logit(m) +-
t * se / (m (1 - m)) after rescaling to [0, 1]), transformed back: it stays inside the bounds and
tends to the plain t-interval when the mean is away from them. Paired differences use t
intervals; their marks (better / worse) and the ties with the best strategy come from paired
t-tests, corrected for multiple comparisons (Holm by default when more than `FEW` strategies are
compared).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats

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
SHARES = ("retention_rate", "churn_rate", "cohort_retention", "market_share", "revenue_share", "csat",
          "employee_engagement", "employee_burnout", "employee_turnover",  # summary.json, per run
          "engagement", "burnout", "turnover", "satisfaction")  # metrics.parquet, per week
BOUNDS = {**dict.fromkeys(SHARES, (0.0, 1.0)), "nps": (-100.0, 100.0)}  # KPIs whose values cannot leave a range
CORRECTIONS = ("auto", "holm", "bonferroni", "none")
FEW = 3  # with more strategies than this, "auto" corrects for multiple comparisons (Holm)
ALPHA = 1 - LEVEL


def lower_is_better(kpi: str) -> bool:
    """Whether a smaller value of this KPI is the better one (churn, turnover, costs, ...)."""
    return any(word in kpi for word in LOWER_IS_BETTER)


def focal(table: pd.DataFrame) -> pd.DataFrame:
    """The focal firm's rows: strategies are the focal business's choices."""
    return table[table["role"] == "focal"]


def t_quantile(n: pd.Series | np.ndarray) -> np.ndarray:
    """t(0.975, n-1) for each sample size; NaN where n < 2."""
    n = np.asarray(n, dtype=float)
    return stats.t.ppf(0.5 + LEVEL / 2, np.where(n > 1, n - 1, np.nan))


def mean_ci(table: pd.DataFrame, by: list[str], values: list[str], bounded: bool = True) -> pd.DataFrame:
    """Per group and value column: n, mean, sd, and the 95% CI of the mean.

    Long format: the `by` columns, then metric, n, mean, sd, half_width, ci_low, ci_high. The CI is
    mean +- t(0.975, n-1) sd / sqrt(n), or for a metric of `BOUNDS` (when `bounded`) its logit-scale
    version (module docstring), whose half_width is half its width. Groups keep their order of
    appearance. With one observation the interval is undefined (NaN).
    """
    long = table.melt(id_vars=by, value_vars=values, var_name="metric").dropna(subset=["value"])
    out = long.groupby([*by, "metric"], sort=False)["value"].agg(n="count", mean="mean", sd="std").reset_index()
    t, se = t_quantile(out["n"]), out["sd"] / np.sqrt(out["n"])
    out["ci_low"] = out["mean"] - t * se
    out["ci_high"] = out["mean"] + t * se
    for metric, (lo, hi) in BOUNDS.items() if bounded else ():
        rows = (out["metric"] == metric).to_numpy()
        if rows.any():
            out.loc[rows, "ci_low"], out.loc[rows, "ci_high"] = logit_interval(
                out.loc[rows, "mean"].to_numpy(), se[rows].to_numpy(), t[rows], lo, hi)
    out["half_width"] = (out["ci_high"] - out["ci_low"]) / 2
    return out[[*by, "metric", "n", "mean", "sd", "half_width", "ci_low", "ci_high"]]


def logit_interval(mean: np.ndarray, se: np.ndarray, t: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, ...]:
    """The t-interval of a mean bounded to [lo, hi], built on the logit scale and transformed back.

    A mean on a bound (every value on it: sd 0) gets the interval [mean, mean].
    """
    p = np.clip((mean - lo) / (hi - lo), 0, 1)
    inside = (p > 0) & (p < 1)
    p_in = np.where(inside, p, 0.5)
    centre = special.logit(p_in)
    spread = t * se / (hi - lo) / (p_in * (1 - p_in))
    low = np.where(inside, special.expit(centre - spread), p)
    high = np.where(inside, special.expit(centre + spread), p)
    return lo + (hi - lo) * low, lo + (hi - lo) * high


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error), NaNs left as they are."""
    p = np.asarray(p, dtype=float)
    adjusted = np.full_like(p, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    order = ok[np.argsort(p[ok], kind="stable")]
    m = len(order)
    adjusted[order] = np.minimum(1, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    return adjusted


def adjust(p: np.ndarray, correction: str, strategies: int) -> np.ndarray:
    """p-values adjusted for the family they belong to; 'auto' is Holm with more than FEW strategies, else none."""
    if correction == "auto":
        correction = "holm" if strategies > FEW else "none"
    p = np.asarray(p, dtype=float)
    if correction == "holm":
        return holm(p)
    if correction == "bonferroni":
        return np.minimum(1, p * np.count_nonzero(~np.isnan(p)))
    return p


def correction_used(correction: str, strategies: int) -> str:
    """The correction 'auto' stands for with this many strategies."""
    return ("holm" if strategies > FEW else "none") if correction == "auto" else correction


def paired_test(diff_mean: np.ndarray, diff_sd: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Two-sided p-value of a paired t-test (mean difference 0); NaN below two pairs.

    A difference with no spread is certain: p = 0 if it is not zero, else 1.
    """
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.abs(diff_mean) / (diff_sd / np.sqrt(n))
    p = 2 * stats.t.sf(t, np.where(n > 1, n - 1, np.nan))
    exact = (diff_sd == 0) & (n > 1)
    return np.where(exact, np.where(diff_mean == 0, 1.0, 0.0), p)


def seeds_needed(sd: float, target: float) -> int | None:
    """The fewest seeds whose 95% t half-width t(0.975, n-1) sd / sqrt(n) is at most `target` (None if sd unknown)."""
    if not np.isfinite(sd) or target <= 0:
        return None
    n = max(2, int(np.ceil((stats.norm.ppf(0.5 + LEVEL / 2) * sd / target) ** 2)))
    while stats.t.ppf(0.5 + LEVEL / 2, n - 1) * sd / np.sqrt(n) > target:
        n += 1
    return n


def check_correction(correction: str) -> None:
    """Raise AnalysisError naming the allowed corrections."""
    if correction not in CORRECTIONS:
        raise AnalysisError(f"--correction={correction} is not allowed: choose one of {', '.join(CORRECTIONS)}")


def check_kpi(kpi: str, allowed: list[str]) -> None:
    """Raise AnalysisError naming the allowed KPIs if `kpi` is not one of them."""
    if kpi not in allowed:
        raise AnalysisError(f"--kpi={kpi} is not a KPI of these runs: choose one of {', '.join(allowed)}")


def ranking(runs: pd.DataFrame, kpi: str = "profit", kpis: list[str] | None = None,
            correction: str = "auto") -> pd.DataFrame:
    """Strategies ranked best first on `kpi` (focal firm, mean over seeds), with every ranking KPI's CI.

    One row per strategy: rank, strategy, n (seeds), then <kpi>_mean, <kpi>_ci_low, <kpi>_ci_high
    for `kpi` and each of `kpis` (default: retention, CLTV, market share, profit, NPS, turnover),
    then p_vs_best (paired t-test by seed against the best-ranked strategy, adjusted by
    `correction` over the comparisons) and tied_with_best (not told apart at the 5% level).
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
    versus = differences(focal(runs), str(table["strategy"].iloc[0]), [kpi]).set_index("strategy")
    p = adjust(versus["p"].reindex(table["strategy"]).to_numpy(), correction, len(table))
    table["p_vs_best"] = p
    table["tied_with_best"] = ~(p < ALPHA)  # untestable (one seed) counts as tied: nothing tells them apart
    table.loc[0, "tied_with_best"] = True
    return table


def paired_differences(runs: pd.DataFrame, baseline: str, kpis: list[str], correction: str = "auto") -> pd.DataFrame:
    """Each strategy minus the baseline, paired by seed (focal firm): mean difference and 95% t-interval.

    Long format as `mean_ci` (strategy, metric, n pairs, mean, sd, half_width, ci_low, ci_high), plus
    p (paired t-test), p_adjusted (by `correction` over every strategy x KPI of the table),
    unpaired_half_width (Welch's 95% half-width of the same difference of means, ignoring the
    pairing), seed_correlation (between a strategy's and the baseline's runs on the same seed) and
    `better`: significantly better after the correction (True), worse (False), or not told apart (None).
    """
    out = differences(focal(runs), baseline, kpis)
    out["p_adjusted"] = adjust(out["p"].to_numpy(), correction, out["strategy"].nunique() + 1)
    sign = np.where([lower_is_better(k) for k in out["metric"]], -1, 1) * np.sign(out["mean"])
    significant = (out["p_adjusted"] < ALPHA).to_numpy()
    out["better"] = np.select([significant & (sign > 0), significant & (sign < 0)], [True, False], None)
    return out


def differences(rows: pd.DataFrame, baseline: str, kpis: list[str]) -> pd.DataFrame:
    """The paired differences of `paired_differences`, before any correction."""
    rows = rows[["strategy", "seed", *kpis]]
    if rows.duplicated(["strategy", "seed"]).any():
        dup = rows[rows.duplicated(["strategy", "seed"])].iloc[0]
        raise AnalysisError(f"several runs of strategy '{dup.strategy}' with seed {dup.seed}: "
                            "analyse one sweep at a time")
    base = rows[rows["strategy"] == baseline].drop(columns="strategy")
    pairs = rows[rows["strategy"] != baseline].merge(base, on="seed", suffixes=("", " baseline"))
    spread = {}
    for k in kpis:
        for strategy, group in pairs.groupby("strategy", sort=False):
            a, b = group[k].to_numpy(dtype=float), group[f"{k} baseline"].to_numpy(dtype=float)
            spread[(strategy, k)] = (welch_half_width(a, b), correlation(a, b))
        pairs[k] = pairs[k] - pairs[f"{k} baseline"]
    out = mean_ci(pairs, ["strategy"], kpis, bounded=False)
    out["p"] = paired_test(out["mean"].to_numpy(), out["sd"].to_numpy(), out["n"].to_numpy())
    measured = [spread.get((s, k), (np.nan, np.nan)) for s, k in zip(out["strategy"], out["metric"], strict=True)]
    out["unpaired_half_width"] = [w for w, _ in measured]
    out["seed_correlation"] = [r for _, r in measured]
    return out


def welch_half_width(a: np.ndarray, b: np.ndarray) -> float:
    """Welch's 95% half-width for mean(a) - mean(b), as if the runs were not paired."""
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    if va + vb == 0:
        return 0.0
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return float(stats.t.ppf(0.5 + LEVEL / 2, df) * np.sqrt(va + vb))


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of paired values; NaN when either has no spread or there are fewer than 3 pairs."""
    if len(a) < 3 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


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


YEAR_FIGURES = ("revenue", "costs", "profit", "customers_end", "retention_rate", "employee_turnover")


def years(runs: pd.DataFrame) -> pd.DataFrame:
    """The focal business's year-by-year figures (summary.json `years`), mean over seeds, per strategy and year."""
    rows = []
    for _, run in focal(runs).iterrows():
        for year in run.get("years") if isinstance(run.get("years"), list | np.ndarray) else []:
            rows.append({"strategy": run["strategy"], "seed": run["seed"], "year": year["year"],
                         "weeks": year["weeks"], **{k: year.get(k) for k in YEAR_FIGURES}})
    if not rows:
        return pd.DataFrame(columns=["strategy", "year", "weeks", "seeds", *YEAR_FIGURES])
    table = pd.DataFrame(rows)
    for k in YEAR_FIGURES:
        table[k] = pd.to_numeric(table[k], errors="coerce")  # None (nothing to measure) -> NaN
    grouped = table.groupby(["strategy", "year"], sort=False)
    out = grouped[list(YEAR_FIGURES)].mean().reset_index()
    out.insert(2, "weeks", grouped["weeks"].min().to_numpy())
    out.insert(3, "seeds", grouped["seed"].nunique().to_numpy())
    return out
