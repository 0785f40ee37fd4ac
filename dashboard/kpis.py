"""Weekly headline KPIs per firm, derived from the metrics table, and the gap between two runs.

Stocks (market share, NPS, engagement, burnout) are read as they are each week. Rates need a
window to be readable live: retention is the annualised geometric mean of the last `WINDOW`
weekly retention rates (as `summary.json` annualises the whole run), and CLTV is the predicted
value m r / (1 + i - r) of `summary.json`'s `cltv_predicted`, with the weekly margin per customer
m and weekly retention r taken over the same window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

WINDOW = 8  # weeks behind the live retention and CLTV
CURRENCY = "€"  # the model prices in one unnamed currency; the dashboard writes it as euros
KPIS = {  # column -> (label, how to show a value, how to show a difference)
    "customers": ("Customers", "{:,.0f}", "{:+,.0f}"),
    "market_share": ("Market share", "{:.1%}", "{:+.1f} pts"),
    "retention": ("Retention / yr", "{:.0%}", "{:+.0f} pts"),
    "nps": ("NPS", "{:+.0f}", "{:+.0f}"),
    "cltv": ("CLTV", CURRENCY + "{:,.0f}", "{:+,.0f} " + CURRENCY),
    "employees": ("Employees", "{:,.0f}", "{:+,.0f}"),
    "engagement": ("Engagement", "{:.2f}", "{:+.2f}"),
    "burnout": ("Burnout", "{:.2f}", "{:+.2f}"),
    "profit_to_date": ("Profit to date", CURRENCY + "{:,.0f}", "{:+,.0f} " + CURRENCY),
}


def weekly(table: pd.DataFrame, discount: float) -> pd.DataFrame:
    """One row per (step, firm) with the headline KPIs; `discount` is the weekly discount rate."""
    if table.empty:
        return pd.DataFrame(columns=["step", "firm", *KPIS])
    t = table.sort_values(["firm", "step"])
    by_firm = t.groupby("firm", sort=False)

    def recent(column: pd.Series) -> pd.Series:
        return column.groupby(t["firm"], sort=False).transform(lambda s: s.rolling(WINDOW, min_periods=1).mean())

    retention_week = np.exp(recent(np.log(t["retention_rate"].clip(1e-12, 1))))
    margin = recent(t["gross_margin"]) / recent(t["customers"]).clip(lower=1)
    out = pd.DataFrame({
        "step": t["step"],
        "firm": t["firm"],
        "customers": t["customers"],
        "market_share": t["market_share"],
        "retention": retention_week**52,
        "nps": t["nps"],
        "cltv": margin * retention_week / (1 + discount - retention_week),
        "employees": t["employees"],
        "engagement": t["engagement"],
        "burnout": t["burnout"],
        "profit_to_date": by_firm["profit"].cumsum(),
    })
    return out.sort_values(["step", "firm"]).reset_index(drop=True)


def latest(weekly_kpis: pd.DataFrame, firm: str) -> dict[str, float]:
    """A firm's KPIs in the latest week (empty before the first week)."""
    rows = weekly_kpis[weekly_kpis["firm"] == firm]
    return {} if rows.empty else {k: float(rows[k].iloc[-1]) for k in KPIS}


def difference(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    """B minus A for every KPI both have."""
    return {k: b[k] - a[k] for k in KPIS if k in a and k in b}


def show(kpi: str, value: float, diff: bool = False) -> str:
    """A KPI value (or a difference) as text, e.g. '24.6%', or a gap of shares in points, '+3.1 pts'."""
    points = diff and KPIS[kpi][2].endswith("pts")
    return KPIS[kpi][2 if diff else 1].format(100 * value if points else value)
