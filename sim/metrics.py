"""Metrics: per-firm KPIs measured from agent state every week, and the run's summary.

`measure` turns one week's events and state into a row per firm (the money from `sim.accounts`,
the answers from `sim.survey`); `Recorder` keeps them as a
tidy table (step, firm, one column per metric); `summarise` reduces the table and the final
state to the public `summary.json` figures. Nothing here is set: every figure is counted.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim import accounts
from sim import customers as cu
from sim.choice import weekly_discount
from sim.config import SimConfig
from sim.employees import ACTIVE, VACANT
from sim.firms import COST_ITEMS, update_reputation

if TYPE_CHECKING:
    from sim.model import EmpathyMarket, Week

Row = dict[str, np.ndarray]
F32 = np.float32


def _share(part: np.ndarray, whole: np.ndarray | float) -> np.ndarray:
    """Part / whole, 0 where the whole is 0 (a rate of nothing is reported as 0, never NaN)."""
    whole = np.broadcast_to(np.asarray(whole, dtype=float), np.shape(part))
    return np.divide(part, whole, out=np.zeros(np.shape(part)), where=whole > 0)


def account(m: EmpathyMarket, week: Week) -> None:
    """8. The week's accounts and metrics (`measure`), and reputations; the row is recorded after the warm-up."""
    burn_in, fs = m.cfg.run.burn_in, m.firms
    row = measure(m, week)
    fs.profit_since_review += row["profit"]
    update_reputation(fs, week.survey.customers, week.survey.quality, week.survey.felt_empathy)
    if week.t == burn_in:
        m.start_customers = week.at_start.sum(axis=1)
    if week.t >= burn_in:
        m.recorder.record(week.t - burn_in, row)


def measure(model: EmpathyMarket, week: Week) -> Row:
    """One week's KPIs per firm, computed from what happened (the week's context) and the agents' state.

    `week.at_start` holds each firm's customers per segment at the start of the week (firms, segments).
    """
    at_start, moves, enc, work, survey, talk, adopted = (week.at_start, week.moves, week.enc, week.work, week.survey,
                                                         week.talk, week.adopted)
    c, fs, w = model.customers, model.firms, model.workforce
    nf = fs.n
    customers = cu.per_firm(c, nf)
    started = at_start.sum(axis=1)
    revenue = accounts.revenue(model, enc)
    active = w.status == ACTIVE
    staff = np.bincount(w.firm[active], minlength=nf)
    hires = np.bincount(w.firm[work.hires], minlength=nf)
    costs = accounts.costs(model, enc, staff, hires, adopted)
    total_cost = sum(costs[k] for k in COST_ITEMS)
    churned = moves.churn.sum(axis=1)
    quits = np.bincount(w.firm[work.quits], minlength=nf)

    def staff_mean(x: np.ndarray) -> np.ndarray:
        return _share(np.bincount(w.firm[active], weights=x[active], minlength=nf), staff)

    row: Row = {
        "customers": customers,
        "market_share": _share(customers, customers.sum()),
        "prospects": np.full(nf, c.n - customers.sum()),
        "acquisitions_advertising": adopted.by_channel[:, cu.ADVERTISING],
        "acquisitions_referral": adopted.by_channel[:, cu.REFERRAL],
        "acquisitions_switching": moves.switched_in,
        **{f"churn_{r}": moves.churn[:, i] for i, r in enumerate(cu.CHURN_REASONS)},
        "churned": churned,
        "customers_at_start": started,
        **{f"customers_at_start_{g}": at_start[:, j] for j, g in enumerate(cu.SEGMENTS)},
        **{f"churn_{g}_{r}": moves.churn_by_segment[:, j, i] for j, g in enumerate(cu.SEGMENTS)
           for i, r in enumerate(cu.CHURN_REASONS)},
        "retention_rate": 1 - _share(churned, started),
        "visits": enc.visits,
        "contacts": enc.contacts,
        "encounters": enc.encounters,
        "bot_contacts": enc.bot_contacts,
        "human_contacts": enc.human_contacts,
        "emotional_contacts": enc.emotional,
        "bot_frustrations": enc.frustrated,
        "handovers": enc.handovers,
        "service_failures": enc.failed,
        "service_recoveries": enc.recovered,
        "satisfied_encounters": enc.satisfied,
        "csat": _share(enc.satisfied, enc.encounters),
        "promoters": survey.promoters,
        "detractors": survey.detractors,
        "surveyed": survey.customers,
        "nps": 100 * _share(survey.promoters - survey.detractors, survey.customers),
        "satisfaction": survey.satisfaction,
        "perceived_quality": survey.quality,
        "felt_empathy": survey.felt_empathy,
        "referrals_sent": talk.praised if talk else np.zeros(nf, dtype=np.int64),
        "warnings_sent": talk.warned if talk else np.zeros(nf, dtype=np.int64),
        "price": fs.price.copy(),
        "empathy": fs.empathy.copy(),
        "automation": fs.automation.copy(),
        "revenue": revenue,
        **{f"cost_{k}": v for k, v in costs.items()},
        "costs": total_cost,
        "profit": revenue - total_cost,
        "gross_margin": revenue - costs["goods"],
        "closed_value": moves.closed_value,
        "closed_relationships": moves.closed,
        "employees": staff,
        "vacancies": np.bincount(w.firm[w.status == VACANT], minlength=nf),
        "engagement": staff_mean(w.engagement),
        "burnout": staff_mean(w.burnout),
        "utilisation": staff_mean(work.load),
        "quits": quits,
        "hires": hires,
        "turnover": _share(quits, staff),
    }
    return row


def open_value(model: EmpathyMarket) -> np.ndarray:
    """Value so far of each firm's open relationships, discounted to their start."""
    c = model.customers
    served = c.firm >= 0
    growth = np.power(1 + weekly_discount(model.cfg), c.since[served], dtype=np.float64)
    return np.bincount(c.firm[served], weights=c.value[served] * growth, minlength=model.firms.n)


class Recorder:
    """Collects the weekly rows into a tidy table."""

    def __init__(self, firm_names: list[str]) -> None:
        self.firm_names = firm_names
        self.rows: list[tuple[int, Row]] = []

    def record(self, step: int, row: Row) -> None:
        self.rows.append((step, row))

    def table(self) -> pd.DataFrame:
        """One row per (step, firm), one column per metric."""
        nf = len(self.firm_names)
        if not self.rows:
            return pd.DataFrame(columns=["step", "firm"])
        columns: dict[str, Any] = {
            "step": np.repeat([s for s, _ in self.rows], nf),
            "firm": np.tile(self.firm_names, len(self.rows)),
        }
        for key in self.rows[0][1]:
            columns[key] = np.concatenate([r[key] for _, r in self.rows])
        return pd.DataFrame(columns)


def ratio(part: float, whole: float) -> float | None:
    """Part / whole, or None (null in JSON) when there is nothing to measure."""
    return part / whole if whole > 0 else None


def annual_retention(churned: float, customer_weeks: float) -> float | None:
    """Retention pooled over customer-weeks, annualised: (1 - churned / customer-weeks)^52."""
    weekly = ratio(customer_weeks - churned, customer_weeks)
    return None if weekly is None else weekly**52


def annual_turnover(quits: float, employee_weeks: float) -> float | None:
    """Staff turnover as an annual rate: quits per employee-year (BLS's separations / average employment)."""
    rate = ratio(quits, employee_weeks)
    return None if rate is None else 52 * rate


def years(t: pd.DataFrame) -> list[dict[str, Any]]:
    """One firm's year-by-year figures: accounts, customers at year end, retention, staff turnover.

    Year k holds recorded weeks 52(k-1) .. 52k-1; a last, shorter year says how many weeks it has.
    """
    out = []
    for k, year in t.groupby(t["step"] // 52, sort=True):
        out.append({
            "year": int(k) + 1, "weeks": len(year), **accounts.totals(year),
            "customers_end": int(year["customers"].iloc[-1]),
            "retention_rate": annual_retention(year["churned"].sum(), year["customers_at_start"].sum()),
            "employee_turnover": annual_turnover(year["quits"].sum(), year["employees"].sum()),
        })
    return out


def summarise(model: EmpathyMarket, table: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """The run's figures per firm (the public keys of summary.json, and more).

    Rates are pooled over the run, never means of weekly rates: retention over customer-weeks,
    annualised; staff turnover per employee-year; NPS over survey answers; CSAT over encounters.
    cohort_retention: share of the customers a firm had when recording started still with it.
    cltv: realised value per relationship (discounted margin, to the relationship's start; open
    relationships count what they earned so far, including any burn-in); cltv_predicted =
    m r / (1 + i - r) per week, m the gross margin per customer-week, r the pooled weekly retention.
    A figure with nothing to measure (no customers, no staff, no encounters) is None, never 0 or 1.
    """
    cfg, fs, c = model.cfg, model.firms, model.customers
    customers = cu.per_firm(c, fs.n)
    staff = model.workforce.headcount(fs.n)
    still_open = open_value(model)
    i_week = weekly_discount(cfg)
    cohort = (c.since < cfg.run.burn_in)[:, None] & (c.firm[:, None] == np.arange(fs.n)[None, :])
    kept = cohort.sum(axis=0)
    by_firm = {name: table[table.firm == name] for name in fs.names} if len(table) else {}
    revenues = {name: float(t["revenue"].sum()) for name, t in by_firm.items()}
    total_revenue = sum(revenues.values())
    all_customers = int(customers.sum())
    out: dict[str, dict[str, Any]] = {}
    for idx, name in enumerate(fs.names):
        t = by_firm.get(name)

        def total(col: str, t: pd.DataFrame | None = t) -> float:
            return float(t[col].sum()) if t is not None and len(t) else 0.0

        def staff_weighted(col: str, t: pd.DataFrame | None = t) -> float:
            """Sum over weeks of a staff mean times the staff: a mean over employee-weeks once divided."""
            return float((t[col] * t["employees"]).sum()) if t is not None and len(t) else 0.0

        customer_weeks, churned = total("customers_at_start"), total("churned")
        r_week = ratio(customer_weeks - churned, customer_weeks)
        margin = ratio(total("gross_margin"), total("customers"))
        acquisitions = {ch: int(total(f"acquisitions_{ch}")) for ch in cu.CHANNELS}
        start = int(model.start_customers[idx])
        relationships = start + sum(acquisitions.values())
        paid = acquisitions["advertising"] + acquisitions["referral"]
        employee_weeks = total("employees")
        segments = {}
        for g in cu.SEGMENTS:
            reasons = {r: int(total(f"churn_{g}_{r}")) for r in cu.CHURN_REASONS}
            segments[g] = {"retention_rate": annual_retention(sum(reasons.values()), total(f"customers_at_start_{g}")),
                           "churn_by_reason": reasons}
        out[name] = {
            "role": "focal" if idx == 0 else "competitor",
            "customers": int(customers[idx]),
            "retention_rate": None if r_week is None else r_week**52,
            "churn_rate": None if r_week is None else 1 - r_week**52,
            "cohort_retention": ratio(int(kept[idx]), start),
            "cltv": ratio(total("closed_value") + float(still_open[idx]), relationships),
            "cltv_predicted": None if r_week is None or margin is None or r_week >= 1 + i_week  # no churn, no
            else margin * r_week / (1 + i_week - r_week),  # discount: a customer is worth margins for ever
            "market_share": ratio(int(customers[idx]), all_customers),
            "revenue_share": ratio(revenues.get(name, 0.0), total_revenue),
            "nps": ratio(100 * (total("promoters") - total("detractors")), total("surveyed")),
            "csat": ratio(total("satisfied_encounters"), total("encounters")),
            "revenue": total("revenue"),
            "costs": total("costs"),
            "profit": total("profit"),
            "costs_by_category": {k: total(f"cost_{k}") for k in COST_ITEMS},
            "cac": ratio(total("cost_advertising") + total("cost_referral_bonus"), paid),
            "employee_engagement": ratio(staff_weighted("engagement"), employee_weeks),
            "employee_burnout": ratio(staff_weighted("burnout"), employee_weeks),
            "employee_turnover": annual_turnover(total("quits"), employee_weeks),
            "employees": int(staff[idx]),
            "churn_by_reason": {r: int(total(f"churn_{r}")) for r in cu.CHURN_REASONS},
            "segments": segments,
            "acquisitions_by_channel": acquisitions,
            "referrals_sent": int(total("referrals_sent")),
            "visits_per_customer_week": ratio(total("visits"), total("customers_at_start")),
            "price": float(fs.price[idx]),
            "automation": float(fs.automation[idx]),
            "years": years(t) if t is not None and len(t) else [],
        }
    return out


def units(cfg: SimConfig, weeks: int) -> dict[str, str]:
    """What each summary figure is measured in: money with its currency and period, rates with theirs."""
    money, run = cfg.market.currency, f"over the {weeks} recorded weeks"
    return {
        "currency": money,
        "revenue": f"{money} {run}", "costs": f"{money} {run}", "profit": f"{money} {run}",
        "costs_by_category": f"{money} {run}",
        "years": f"{money} per year of 52 recorded weeks (rates per year)",
        "cltv": f"{money} per relationship, discounted to its start at market.discount_rate a year",
        "cltv_predicted": f"{money} per customer, discounted",
        "cac": f"{money} per paid acquisition (advertising and referral bonus)",
        "retention_rate": "share of customers kept per year (pooled over customer-weeks)",
        "churn_rate": "share of customers lost per year",
        "employee_turnover": "quits per employee-year",
        "nps": "points, -100..100, pooled over weekly survey answers",
        "csat": "share of encounters rated satisfied",
        "visits_per_customer_week": "purchases per customer per week",
    }


class Progress:
    """Prints steps per second and the expected finish to stderr, at most once a second."""

    def __init__(self, stream: Any = sys.stderr, every: float = 1.0) -> None:
        self.stream, self.every = stream, every
        self.start = self.last = time.perf_counter()

    def update(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - self.last < self.every and done < total:
            return
        self.last = now
        rate = done / max(now - self.start, 1e-9)
        eta = (total - done) / rate if rate > 0 else float("inf")
        self.stream.write(f"\rweek {done}/{total}  {rate:.1f} steps/s  about {eta:.0f}s left   ")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()
