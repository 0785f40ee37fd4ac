"""Metrics: per-firm KPIs measured from agent state every week, and the run's summary.

`measure` turns one week's events and state into a row per firm; `Recorder` keeps them as a
tidy table (step, firm, one column per metric); `summarise` reduces the table and the final
state to the public `summary.json` figures. Nothing here is set: every figure is counted.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim import customers as cu
from sim.choice import weekly_discount
from sim.config import BehaviourConfig
from sim.customers import Customers
from sim.employees import ACTIVE, VACANT, Work
from sim.firms import COST_ITEMS

if TYPE_CHECKING:
    from sim.acquisition import Adoptions
    from sim.choice import Moves
    from sim.model import EmpathyMarket
    from sim.service import Encounters
    from sim.wom import Talk

Row = dict[str, np.ndarray]


def _share(part: np.ndarray, whole: np.ndarray | float) -> np.ndarray:
    """Part / whole, 0 where the whole is 0 (a rate of nothing is reported as 0, never NaN)."""
    whole = np.broadcast_to(np.asarray(whole, dtype=float), np.shape(part))
    return np.divide(part, whole, out=np.zeros(np.shape(part)), where=whole > 0)


def customers_per_firm(c: Customers, firms: int) -> np.ndarray:
    """How many customers each firm serves now."""
    return np.array([np.count_nonzero(c.firm == f) for f in range(firms)])


def count_flags(group: np.ndarray, groups: int, flags: list[np.ndarray]) -> np.ndarray:
    """Per group, how many rows it has and how many have each flag set: one bincount over bit-packed flags.

    Returns an int array (groups, 1 + len(flags)): the group's size, then one column per flag.
    """
    k = len(flags)
    if k > 8:
        raise ValueError(f"count_flags packs at most 8 flags, got {k}")
    packed = np.zeros(len(group), dtype=np.uint8)
    for j, flag in enumerate(flags):
        packed |= flag.view(np.uint8) << np.uint8(j)
    code = (group.astype(np.intp) << k) | packed
    table = np.bincount(code, minlength=groups << k).reshape(groups, 1 << k)
    bits = (np.arange(1 << k)[:, None] >> np.arange(k)[None, :]) & 1
    return np.hstack([table.sum(axis=1, keepdims=True), table @ bits])


@dataclass
class Survey:
    """What the customers think this week, per customer and summed up per firm."""

    recommend: np.ndarray  # float32 (customers,): willingness to recommend
    customers: np.ndarray  # int (firms,)
    promoters: np.ndarray  # int (firms,)
    detractors: np.ndarray  # int (firms,)
    satisfaction: np.ndarray  # (firms,) mean over the firm's customers
    quality: np.ndarray  # (firms,) mean perceived quality
    felt_empathy: np.ndarray  # (firms,) mean felt empathy


def survey(c: Customers, firms: int, b: BehaviourConfig) -> Survey:
    """Satisfaction and willingness to recommend of every customer; NPS counts per firm."""
    slot = c.firm.astype(np.intp) + 1  # 0 for prospects, who are left out
    satisfied = cu.satisfaction(c, slice(None), b.empathy_returns)
    recommend = cu.recommendation(c, satisfied, b)
    counts = count_flags(slot, firms + 1, [recommend >= b.promoter_threshold,
                                          recommend < b.detractor_threshold])[1:]
    customers = counts[:, 0]

    def mean(x: np.ndarray) -> np.ndarray:
        return _share(np.bincount(slot, weights=x, minlength=firms + 1)[1:], customers)

    return Survey(recommend=recommend, customers=customers, promoters=counts[:, 1], detractors=counts[:, 2],
                  satisfaction=mean(satisfied), quality=mean(c.quality), felt_empathy=mean(c.felt_empathy))


def measure(model: EmpathyMarket, at_start: np.ndarray, moves: Moves, enc: Encounters, work: Work,
            survey: Survey, talk: Talk | None, adopted: Adoptions) -> Row:
    """One week's KPIs per firm, computed from what happened and the agents' state."""
    c, fs, w, cfg = model.customers, model.firms, model.workforce, model.cfg
    nf = fs.n
    customers = customers_per_firm(c, nf)
    revenue = enc.visits * cfg.market.basket * fs.price
    active = w.status == ACTIVE
    staff = np.bincount(w.firm[active], minlength=nf)
    hires = np.bincount(w.firm[work.hires], minlength=nf)
    per = fs.per_firm
    costs = {
        "goods": enc.visits * cfg.market.basket * per("unit_cost"),
        "wages": staff * per("wage"),
        "empathy_programme": staff * per("empathy_cost") * fs.empathy,
        "automation": fs.automation * per("automation_cost") + enc.bot_contacts * per("bot_contact_cost"),
        "advertising": per("advertising") * adopted.prospects * per("ad_cost"),
        "hiring": hires * per("hire_cost"),
        "referral_bonus": adopted.by_channel[:, cu.REFERRAL] * per("referral_bonus"),
        "fixed": per("fixed_cost"),
    }
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
        "retention_rate": 1 - _share(churned, at_start),
        "visits": enc.visits,
        "bot_contacts": enc.bot_contacts,
        "human_contacts": enc.human_contacts,
        "emotional_contacts": enc.emotional,
        "bot_frustrations": enc.frustrated,
        "service_failures": enc.failed,
        "service_recoveries": enc.recovered,
        "csat": _share(enc.satisfied, enc.visits),
        "promoters": survey.promoters,
        "detractors": survey.detractors,
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


def summarise(model: EmpathyMarket, table: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """The run's figures per firm (the public keys of summary.json, and more).

    retention_rate: annualised product of weekly retention, (prod r_t)^(52/T); churn_rate = 1 - it.
    cohort_retention: share of the customers a firm had when recording started still with it.
    cltv: realised value per relationship (discounted margin, to the relationship's start; open
    relationships count what they earned so far, including any burn-in); cltv_predicted =
    m r / (1 + i - r) per week, m the mean weekly margin per customer, r the mean weekly retention.
    employee_turnover: share of people employed during the run who quit. nps: mean weekly NPS.
    An empty table (a run stopped before its first recorded week) gives zeros, never NaN.
    """
    cfg, fs, c = model.cfg, model.firms, model.customers
    customers = customers_per_firm(c, fs.n)
    staff = model.workforce.headcount(fs.n)
    still_open = open_value(model)
    i_week = weekly_discount(cfg)
    total_revenue = float(table["revenue"].sum()) if len(table) else 0.0
    cohort = (c.since < cfg.run.burn_in)[:, None] & (c.firm[:, None] == np.arange(fs.n)[None, :])
    kept = cohort.sum(axis=0)
    out: dict[str, dict[str, Any]] = {}
    for idx, name in enumerate(fs.names):
        t = table[table.firm == name] if len(table) else table

        def total(col: str, t: pd.DataFrame = t) -> float:
            return float(t[col].sum()) if len(t) else 0.0

        def mean(col: str, t: pd.DataFrame = t) -> float:
            return float(t[col].mean()) if len(t) else 0.0

        weekly_r = np.clip(t["retention_rate"].to_numpy(), 1e-12, 1) if len(t) else np.ones(1)
        retention = float(np.exp(np.log(weekly_r).mean() * 52))
        r_w = float(weekly_r.mean())
        margin = total("gross_margin") / max(total("customers"), 1)
        acquisitions = {ch: int(total(f"acquisitions_{ch}")) for ch in cu.CHANNELS}
        start = int(model.start_customers[idx])
        relationships = start + sum(acquisitions.values())
        people = (int(t["employees"].iloc[0]) if len(t) else int(staff[idx])) + int(total("hires"))
        out[name] = {
            "role": "focal" if idx == 0 else "competitor",
            "customers": int(customers[idx]),
            "retention_rate": retention,
            "churn_rate": 1 - retention,
            "cohort_retention": int(kept[idx]) / start if start else 0.0,
            "cltv": (total("closed_value") + float(still_open[idx])) / max(relationships, 1),
            "cltv_predicted": margin * r_w / (1 + i_week - r_w),
            "market_share": int(customers[idx]) / max(int(customers.sum()), 1),
            "revenue_share": total("revenue") / total_revenue if total_revenue > 0 else 0.0,
            "nps": mean("nps"),
            "csat": float((t["csat"] * t["visits"]).sum()) / max(total("visits"), 1) if len(t) else 0.0,
            "revenue": total("revenue"),
            "costs": total("costs"),
            "profit": total("profit"),
            "cac": (total("cost_advertising") + total("cost_referral_bonus"))
            / max(acquisitions["advertising"] + acquisitions["referral"], 1),
            "employee_engagement": mean("engagement"),
            "employee_burnout": mean("burnout"),
            "employee_turnover": int(total("quits")) / max(people, 1),
            "employees": int(staff[idx]),
            "churn_by_reason": {r: int(total(f"churn_{r}")) for r in cu.CHURN_REASONS},
            "acquisitions_by_channel": acquisitions,
            "price": float(fs.price[idx]),
            "automation": float(fs.automation[idx]),
        }
    return out


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
