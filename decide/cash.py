"""Money over time from weekly cash series: cumulative difference, payback week, NPV and ROI.

Pure functions of arrays, so that each can be checked on a hand-made series. A cash series is
one number per recorded week (week 0 first): the profit of the week, in the model's currency.
Flows are booked at the end of their week and discounted to the start of week 0 at the weekly
rate equivalent to an annual rate, `(1 + annual)^(1/52) - 1`.
"""

from __future__ import annotations

import numpy as np

WEEKS_PER_YEAR = 52
MONTHS_PER_WEEK = 12 / 52


def weekly_rate(annual: float) -> float:
    """The weekly discount rate equivalent to an annual one."""
    return (1 + annual) ** (1 / WEEKS_PER_YEAR) - 1


def cumulative(difference: np.ndarray) -> np.ndarray:
    """Cumulative cash difference week by week, along the last axis (weeks)."""
    return np.cumsum(np.asarray(difference, dtype=float), axis=-1)


def payback_week(difference: np.ndarray) -> int | None:
    """The first week from which the cumulative difference stays >= 0 to the horizon; None if it ends below 0.

    A plan that never costs more than the status quo pays back in week 0. A cumulative difference
    that crosses 0 and falls back below it has not paid back yet: the week counted is the one after
    which it never falls below 0 again within the horizon (payback for good, not a lucky week).
    """
    cum = cumulative(difference)
    if cum.ndim != 1:
        raise ValueError(f"payback_week takes one series, got shape {cum.shape}")
    below = np.flatnonzero(cum < 0)
    if len(below) == 0:
        return 0
    last = int(below[-1])
    return None if last == len(cum) - 1 else last + 1


def npv(cash: np.ndarray, annual_rate: float) -> np.ndarray:
    """Net present value of weekly flows (along the last axis) booked at the end of each week."""
    cash = np.asarray(cash, dtype=float)
    weeks = np.arange(1, cash.shape[-1] + 1)
    return (cash / (1 + weekly_rate(annual_rate)) ** weeks).sum(axis=-1)


def cash_at_risk(difference: np.ndarray) -> np.ndarray:
    """The most cash a plan ties up: the deepest point of the cumulative difference (0 if it never dips)."""
    return np.maximum(-cumulative(difference).min(axis=-1), 0.0)


def roi(difference: np.ndarray) -> np.ndarray:
    """Return on the cash a plan ties up: net gain at the horizon / the deepest cumulative shortfall.

    NaN where the plan never falls behind (nothing invested: the ratio is undefined, not infinite).
    """
    risk = cash_at_risk(difference)
    gain = cumulative(difference)[..., -1]
    return np.divide(gain, risk, out=np.full(np.shape(gain), np.nan), where=risk > 0)


def paybacks(differences: np.ndarray) -> list[int | None]:
    """The payback week of each row (one row per seed)."""
    return [payback_week(row) for row in np.atleast_2d(differences)]
