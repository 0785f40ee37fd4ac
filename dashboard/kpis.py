"""Weekly headline KPIs per firm, derived from the metrics table, and the gap between two runs.

Stocks (market share, NPS, engagement, burnout) are read as they are each week. Rates need a
window to be readable live: retention is the annualised geometric mean of the last `WINDOW`
weekly retention rates (as `summary.json` annualises the whole run), and CLTV is the predicted
value m r / (1 + i - r) of `summary.json`'s `cltv_predicted`, with the weekly margin per customer
m and weekly retention r taken over the same window. Money is written in the scenario's currency
(`market.currency`, an ISO 4217 code), with its common symbol where it has one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

WINDOW = 8  # weeks behind the live retention and CLTV
SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF "}  # ISO 4217 code -> what an amount starts with
KPIS = {  # column -> label, in the tiles' order
    "customers": "Customers",
    "market_share": "Market share",
    "retention": "Retention / yr",
    "nps": "NPS",
    "cltv": "CLTV",
    "employees": "Employees",
    "engagement": "Engagement",
    "burnout": "Burnout",
    "profit_to_date": "Profit to date",
}
MONEY = ("cltv", "profit_to_date")  # amounts of the scenario's currency, written by `money`
FORMATS = {  # every other column -> (how to show a value, how to show a difference)
    "customers": ("{:,.0f}", "{:+,.0f}"),
    "market_share": ("{:.1%}", "{:+.1f} pts"),
    "retention": ("{:.0%}", "{:+.0f} pts"),
    "nps": ("{:+.0f}", "{:+.0f}"),
    "employees": ("{:,.0f}", "{:+,.0f}"),
    "engagement": ("{:.2f}", "{:+.2f}"),
    "burnout": ("{:.2f}", "{:+.2f}"),
}


def prefix(currency: str) -> str:
    """What an amount in this ISO 4217 currency starts with: its common symbol ('$'), else the code and a space."""
    return SYMBOLS.get(currency, currency + " ")


def money(value: float, currency: str, signed: bool = False) -> str:
    """A whole amount, e.g. '$1,234' or '-£56'; `signed` adds '+' to a gain. The sign goes before the symbol."""
    text = f"{value:+z,.0f}"
    return (text[0] if signed or text[0] == "-" else "") + prefix(currency) + text[1:]


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


def show(kpi: str, value: float, currency: str, diff: bool = False) -> str:
    """A KPI value (or a difference) as text, e.g. '24.6%', '$1,234', or a gap of shares in points, '+3.1 pts'."""
    if kpi in MONEY:
        return money(value, currency, signed=diff)
    shown, gap = FORMATS[kpi]
    points = diff and gap.endswith("pts")
    return (gap if diff else shown).format(100 * value if points else value)
