"""Run the status quo and each alternative on the same seeds, and compare them week by week and year by year.

Same seed, same warm-up: every option of a seed starts from the same town, staff and shocks, and
a plan's run is byte for byte the status quo's until its first change; every random stream is
drawn per week, so after the change the two runs still share their luck. A difference is then
the plan's doing, and the seeds give its spread.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from decide import cash
from research.evaluate import mean_ci
from sim.config import SimConfig
from sim.results import simulate

PATHS = ("profit", "cost_one_off", "customers", "churned", "customers_at_start", "surveyed", "promoters", "detractors",
         "quits", "employees")


@dataclass(frozen=True)
class Option:
    """One strategy: its name, its config, and how it was asked for."""

    name: str
    cfg: SimConfig
    how: str


def run_focal(cfg: SimConfig) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """One run: the focal firm's summary and its weekly paths (one array per metric of `PATHS`)."""
    result = simulate(dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, progress=False)))
    focal = result.model.firms.names[0]
    table = result.table[result.table["firm"] == focal]
    return result.summary["firms"][focal], {k: table[k].to_numpy(dtype=float) for k in PATHS}


@dataclass
class Runs:
    """Every option on every seed: summaries[option][seed index] and paths[option][metric] as (seed, week)."""

    options: list[Option]
    seeds: list[int]
    summaries: dict[str, list[dict[str, Any]]]
    paths: dict[str, dict[str, np.ndarray]]

    @property
    def status_quo(self) -> Option:
        return self.options[0]

    @property
    def alternatives(self) -> list[Option]:
        return self.options[1:]


def run_options(options: Sequence[Option], seeds: Sequence[int], n_jobs: int = -1) -> Runs:
    """The status quo (first) and the alternatives on the same seeds, in one parallel batch."""
    jobs = [(o, s) for o in options for s in seeds]
    done = Parallel(n_jobs=n_jobs)(delayed(run_focal)(dataclasses.replace(o.cfg, seed=s)) for o, s in jobs)
    k = len(seeds)
    summaries, paths = {}, {}
    for i, o in enumerate(options):
        part = done[i * k:(i + 1) * k]
        summaries[o.name] = [s for s, _ in part]
        paths[o.name] = {m: np.stack([p[m] for _, p in part]) for m in PATHS}
    return Runs(list(options), list(seeds), summaries, paths)


def interval(samples: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean over seeds and its Student-t interval (NaN bounds with one seed)."""
    mean, half = mean_ci(np.asarray(samples, dtype=float), level=level)
    return float(mean), float(mean - half), float(mean + half)


def quantiles(samples: Sequence[float], low: float = 0.1, high: float = 0.9) -> tuple[float, float, float]:
    """Median and the `low`..`high` quantiles (NaN when there is nothing)."""
    x = np.asarray([s for s in samples if s is not None and np.isfinite(s)], dtype=float)
    if not len(x):
        return (np.nan, np.nan, np.nan)
    return float(np.median(x)), float(np.quantile(x, low)), float(np.quantile(x, high))


@dataclass
class Verdict:
    """One alternative against the status quo, paired by seed: cash over time, payback, NPV, ROI, customers."""

    name: str
    difference: np.ndarray  # weekly profit difference (seed, week)
    paybacks: list[int | None]  # payback week per seed (None: not within the horizon)
    npv: np.ndarray  # per seed, at market.discount_rate
    gain: np.ndarray  # cumulative cash difference at the horizon, per seed
    roi: np.ndarray  # per seed (NaN where the plan never falls behind)
    at_risk: np.ndarray  # deepest cumulative shortfall, per seed
    customers: np.ndarray  # difference in customers at the horizon, per seed
    retention: np.ndarray  # difference in pooled annual retention, per seed
    nps: np.ndarray  # difference in pooled NPS, per seed
    turnover: np.ndarray  # difference in staff turnover (quits per employee-year), per seed
    one_off: np.ndarray  # one-off costs of the plan, per seed

    @property
    def cumulative(self) -> np.ndarray:
        return cash.cumulative(self.difference)

    @property
    def never(self) -> float:
        """Share of seeds that do not pay back within the horizon."""
        return sum(p is None for p in self.paybacks) / len(self.paybacks)

    @property
    def mean_payback(self) -> int | None:
        """Payback week of the mean cumulative difference over seeds."""
        return cash.payback_week(self.difference.mean(axis=0))


def _kpi(summaries: list[dict[str, Any]], key: str) -> np.ndarray:
    return np.array([np.nan if s[key] is None else s[key] for s in summaries], dtype=float)


def verdict(runs: Runs, option: Option, annual_rate: float) -> Verdict:
    """The alternative against the status quo, seed by seed."""
    sq, alt = runs.status_quo.name, option.name
    diff = runs.paths[alt]["profit"] - runs.paths[sq]["profit"]

    def delta(key: str) -> np.ndarray:
        return _kpi(runs.summaries[alt], key) - _kpi(runs.summaries[sq], key)

    return Verdict(
        name=alt, difference=diff, paybacks=cash.paybacks(diff), npv=cash.npv(diff, annual_rate),
        gain=cash.cumulative(diff)[:, -1], roi=cash.roi(diff), at_risk=cash.cash_at_risk(diff),
        customers=delta("customers"), retention=delta("retention_rate"), nps=delta("nps"),
        turnover=delta("employee_turnover"),
        one_off=runs.paths[alt]["cost_one_off"].sum(axis=1) - runs.paths[sq]["cost_one_off"].sum(axis=1),
    )


YEAR_COLUMNS = ("revenue", "costs", "profit", "customers_end", "retention_rate", "employee_turnover")


def years_table(runs: Runs) -> pd.DataFrame:
    """Year-by-year P&L of every option (means over seeds), with each alternative's profit gain and its interval."""
    rows = []
    sq = runs.status_quo.name
    for o in runs.options:
        per_seed = runs.summaries[o.name]
        for y, year in enumerate(per_seed[0]["years"]):
            row: dict[str, Any] = {"option": o.name, "year": year["year"], "weeks": year["weeks"]}
            for key in YEAR_COLUMNS:
                row[key] = float(np.nanmean([np.nan if s["years"][y][key] is None else s["years"][y][key]
                                             for s in per_seed]))
            gain = np.array([s["years"][y]["profit"] - b["years"][y]["profit"]
                             for s, b in zip(per_seed, runs.summaries[sq], strict=True)])
            mean, low, high = interval(gain) if o.name != sq else (np.nan, np.nan, np.nan)
            row |= {"profit_gain": mean, "gain_ci_low": low, "gain_ci_high": high}
            rows.append(row)
    return pd.DataFrame(rows)


def rolling_paths(runs: Runs, window: int = 13) -> dict[str, pd.DataFrame]:
    """Per option, weekly paths pooled over seeds and a trailing window: customers, retention, NPS, staff turnover.

    Rates pool counts over the seeds and the window (as the summary pools over the run) and are annual.
    """
    out = {}
    for o in runs.options:
        p = {k: pd.Series(v.sum(axis=0)).rolling(window, min_periods=1).sum() for k, v in runs.paths[o.name].items()}
        weekly_retention = 1 - p["churned"] / p["customers_at_start"]
        out[o.name] = pd.DataFrame({
            "customers": runs.paths[o.name]["customers"].mean(axis=0),
            "retention_rate": weekly_retention**52,
            "nps": 100 * (p["promoters"] - p["detractors"]) / p["surveyed"],
            "employee_turnover": 52 * p["quits"] / p["employees"],
        })
    return out
