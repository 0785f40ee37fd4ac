"""Out-of-sample checks on a transaction log: turn a model of one customer's buying into the log's weekly figures.

A forecaster answers two questions about a customer whose first purchase was on day d of the
log: how many repeat purchases to expect in calendar weeks [w0, w1), and the chance of at least
one. Summed over the customers who first bought before the split, this gives the three figures
compared on both sides of the split:

- repeat purchases per week;
- active customers per week (customers buying at least once that week; a first purchase counts);
- cohort retention: the share of each cohort active k periods after its first (k >= 1).

As in Fader, Hardie & Lee (2005), the forecast takes the first-purchase dates as given and does
not use the customers' later histories, so a statistical model and the simulation are judged on
the same footing; customers who first buy after the split are left out of both sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from research.baselines import BGNBD
from research.transactions import DAYS_PER_WEEK, cohort_retention, weekly, weeks_covered, with_weeks
from sim.config import ConfigError

SERIES = ("repeat_purchases", "active_customers", "retention")


class Forecaster(Protocol):
    """Expected repeat purchases, and the chance of any, in calendar weeks [w0, w1) after a first purchase on day d."""

    def repeats(self, first_day: np.ndarray, w0: np.ndarray, w1: np.ndarray) -> np.ndarray: ...

    def active(self, first_day: np.ndarray, w0: np.ndarray, w1: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class ContinuousTime:
    """A fitted BG/NBD as a forecaster: ages in exact weeks since the first purchase's day."""

    model: BGNBD

    def _ages(self, first_day: np.ndarray, w0: np.ndarray, w1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        age = np.asarray(first_day, dtype=float) / DAYS_PER_WEEK
        return np.maximum(w0 - age, 0), np.maximum(w1 - age, 0)

    def repeats(self, first_day: np.ndarray, w0: np.ndarray, w1: np.ndarray) -> np.ndarray:
        s, e = self._ages(first_day, w0, w1)
        return self.model.expected(e) - self.model.expected(s)

    def active(self, first_day: np.ndarray, w0: np.ndarray, w1: np.ndarray) -> np.ndarray:
        s, e = self._ages(first_day, w0, w1)
        return np.where(e > s, self.model.p_active(s, e), 0.0)


@dataclass(frozen=True)
class Split:
    """A log cut at week `split`: customers who first bought before it, the figures observed, the period length."""

    log: pd.DataFrame
    split: int
    weeks: int
    period: int

    @classmethod
    def of(cls, log: pd.DataFrame, split: int, period: int) -> Split:
        """The log's calibration customers and its figures; the split must leave weeks on both sides."""
        weeks = weeks_covered(log)
        if not 1 <= split < weeks:
            raise ConfigError(f"--split={split} is not allowed: the log covers weeks 0..{weeks - 1}, "
                              f"so the split must lie in 1..{weeks - 1}")
        if not 1 <= period <= split:
            raise ConfigError(f"--period={period} is not allowed: need 1 <= period <= split ({split} weeks)")
        w = with_weeks(log)
        kept = w[w["first_day"] < split * DAYS_PER_WEEK]
        return cls(log[log["customer"].isin(kept["customer"])].reset_index(drop=True), split, weeks, period)

    @property
    def first_days(self) -> pd.Series:
        """How many calibration customers first bought on each day of the log."""
        return with_weeks(self.log).loc[lambda w: ~w["repeat"], "first_day"].value_counts().sort_index()

    def observed(self) -> dict[str, np.ndarray]:
        """The three figures in the log: weekly series over all weeks, retention as a cohort x k array."""
        table = weekly(self.log, self.weeks)
        periods = self.weeks // self.period  # whole periods only
        retention = cohort_retention(self.log, self.period, periods).drop(columns="customers").to_numpy(dtype=float)
        return {"repeat_purchases": table["repeat_purchases"].to_numpy(float),
                "active_customers": table["active_customers"].to_numpy(float), "retention": retention}

    def predicted(self, forecaster: Forecaster) -> dict[str, np.ndarray]:
        """The three figures a forecaster expects for the calibration customers, on both sides of the split."""
        counts = self.first_days
        day = counts.index.to_numpy(dtype=float)[:, None]
        n = counts.to_numpy(dtype=float)
        weeks = np.arange(self.weeks, dtype=float)[None, :]
        first_week = day // DAYS_PER_WEEK
        repeats = n @ forecaster.repeats(day, weeks, weeks + 1)
        later = first_week < weeks  # first purchases make the customer active in its own week
        active = n @ (later * forecaster.active(day, weeks, weeks + 1)) + n @ (first_week == weeks)

        periods = self.weeks // self.period
        cohort = (day[:, 0] // (DAYS_PER_WEEK * self.period)).astype(int)
        start = np.arange(periods, dtype=float)[None, :] * self.period
        share = forecaster.active(day, start, start + self.period)  # (first days, calendar periods)
        retention = np.full((periods, periods), np.nan)
        for c in np.unique(cohort[cohort < periods]):
            mine = cohort == c
            by_period = n[mine] @ share[mine] / n[mine].sum()
            retention[c, : periods - c] = by_period[c:]
            retention[c, 0] = 1.0
        return {"repeat_purchases": repeats, "active_customers": active, "retention": retention}

    def masks(self) -> dict[str, dict[str, np.ndarray]]:
        """Which entries of each figure lie before the split (calibration) and after it (holdout)."""
        week = np.arange(self.weeks)
        periods = self.weeks // self.period
        calendar = (np.arange(periods)[:, None] + np.arange(periods)[None, :]) * self.period  # first week of (c, k)
        inside = np.arange(periods)[None, :] >= 1
        weekly_masks = {"calibration": week < self.split, "holdout": week >= self.split}
        return {"repeat_purchases": weekly_masks, "active_customers": weekly_masks, "retention": {
            "calibration": inside & (calendar + self.period <= self.split),
            "holdout": inside & (calendar >= self.split) & (calendar + self.period <= self.weeks)}}


def errors(split: Split, predicted: dict[str, np.ndarray], observed: dict[str, np.ndarray], part: str) -> dict:
    """Error of a forecast on one side of the split, per figure.

    Weekly series: weighted absolute percentage error (WAPE = sum |predicted - observed| / sum observed
    over the weeks) and the relative error of their total; retention: mean absolute error in
    percentage points over the (cohort, k) cells.
    """
    masks, out = split.masks(), {}
    for name in SERIES:
        mask = masks[name][part] & np.isfinite(observed[name])
        p, o = predicted[name][mask], observed[name][mask]
        if name == "retention":
            out[name] = {"mae_points": float(np.mean(np.abs(p - o)) * 100) if o.size else float("nan")}
        else:
            out[name] = {"wape": float(np.sum(np.abs(p - o)) / max(o.sum(), 1)),
                         "total_error": float((p.sum() - o.sum()) / max(o.sum(), 1)),
                         "predicted_total": float(p.sum()), "observed_total": float(o.sum())}
    return out


def loss(split: Split, predicted: dict[str, np.ndarray], observed: dict[str, np.ndarray], part: str) -> float:
    """One number to fit to: the mean over the three figures of RMSE / mean observed value, on one side of the split."""
    masks, terms = split.masks(), []
    for name in SERIES:
        mask = masks[name][part] & np.isfinite(observed[name])
        if mask.any():
            p, o = predicted[name][mask], observed[name][mask]
            terms.append(np.sqrt(np.mean((p - o) ** 2)) / max(float(np.mean(o)), 1e-9))
    return float(np.mean(terms))
