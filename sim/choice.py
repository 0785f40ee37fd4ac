"""Churn and switching: customers reconsider their firm and leave with a recorded reason.

Each week a customer leaves for good reasons outside the model with probability `base_churn`
(reason "other"), and otherwise reconsiders with probability `review_rate` (both decided by one
shock, split into the two ranges): a multinomial logit
over all firms and the outside option, where the current firm is judged by the customer's own
experience and enjoys a habit bonus (`switching_cost`) plus its emotional attachment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import customers as cu
from sim.config import SimConfig
from sim.customers import Customers
from sim.firms import Firms
from sim.rng import cutoff, shocks, unit

F32 = np.float32


@dataclass
class Moves:
    """This week's churn and switching, per firm."""

    churn: np.ndarray  # int (firms, reasons): customers lost, by reason
    churn_by_segment: np.ndarray  # int (firms, segments, reasons): customers lost, by segment and reason
    switched_in: np.ndarray  # int (firms,): customers won from a rival
    closed_value: np.ndarray  # float (firms,): value of the relationships that ended
    closed: np.ndarray  # int (firms,): relationships that ended


def reconsider(c: Customers, firms: Firms, cfg: SimConfig, step: int, rng: np.random.Generator) -> Moves:
    """Exogenous churn, then logit choice by the customers under review."""
    n, nf, b = c.n, firms.n, cfg.behaviour
    u_fate, u_pick = shocks(rng, 2, n)
    # one shock: below p_exit the customer leaves, in the next (1 - p_exit) * review_rate it reviews
    exit_cut = cutoff(cfg.market.base_churn)
    review_cut = cutoff(cfg.market.base_churn + (1 - cfg.market.base_churn) * b.review_rate)
    served = c.firm >= 0
    closed = np.flatnonzero(~firms.active)  # customers of a firm that left the market leave it (reason other)
    leaving = (u_fate < exit_cut) | (np.isin(c.firm, closed) if len(closed) else False)
    exits = np.flatnonzero(served & leaving)
    reviewing = np.flatnonzero(served & ~leaving & (u_fate < review_cut))
    if not b.choice:
        reviewing = reviewing[:0]

    s = cu.shortfalls(c, reviewing, firms.price, firms.reputation, cfg.market, b,
                      cfg.wom.buzz_weight if cfg.wom.enabled else 0.0)
    utility = s.utility()
    rows = np.arange(len(reviewing))
    cur = c.firm[reviewing].astype(np.int64)
    habit = F32(b.switching_cost) + F32(b.attachment_weight) * c.attachment[reviewing]
    utility.reshape(-1)[cur * len(rows) + rows] += habit  # flat index of (current firm, row)
    utility[nf] += F32(cfg.market.outside_utility)
    utility[closed] = -np.inf  # nobody chooses a firm that left the market
    dest = cu.logit_pick(utility, b.choice_noise, unit(u_pick[reviewing]))
    moved = dest != cur
    reason = cu.churn_reason(s, rows[moved], cur[moved], dest[moved], c.last_event[reviewing[moved]])

    leavers = np.concatenate([exits, reviewing[moved]])
    from_firm = c.firm[leavers].astype(np.int64)
    reasons = np.concatenate([np.full(len(exits), cu.OTHER), reason])
    value = cu.end_relationship(c, leavers, weekly_discount(cfg))
    switchers = reviewing[moved][dest[moved] < nf]
    to_firm = dest[moved][dest[moved] < nf]
    cu.start_relationship(c, switchers, to_firm, step, firms.reputation)
    nr, ns = len(cu.CHURN_REASONS), len(cu.SEGMENTS)
    segment = c.segment[leavers].astype(np.int64)
    by_segment = np.bincount((from_firm * ns + segment) * nr + reasons, minlength=nf * ns * nr).reshape(nf, ns, nr)
    return Moves(
        churn=by_segment.sum(axis=1),
        churn_by_segment=by_segment,
        switched_in=np.bincount(to_firm, minlength=nf),
        closed_value=np.bincount(from_firm, weights=value, minlength=nf),
        closed=np.bincount(from_firm, minlength=nf),
    )


def weekly_discount(cfg: SimConfig) -> float:
    """The weekly rate equivalent to the annual `market.discount_rate`."""
    return (1 + cfg.market.discount_rate) ** (1 / 52) - 1
