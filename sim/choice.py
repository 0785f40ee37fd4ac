"""Churn and switching: customers reconsider their firm and leave with a recorded reason.

Each week a customer leaves for good reasons outside the model with probability `base_churn`
(reason "other"), and otherwise reconsiders with probability `review_rate` (both decided by one
shock, split into the two ranges): a multinomial logit
over all firms and the outside option, where the current firm is judged by the customer's own
experience and enjoys a habit bonus (`switching_cost`) plus its emotional attachment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim import customers as cu
from sim.config import SimConfig
from sim.jit import kernel
from sim.rng import UNIT, cutoff

if TYPE_CHECKING:
    from sim.model import EmpathyMarket, Week

F32 = np.float32


@dataclass
class Moves:
    """This week's churn and switching, per firm."""

    churn: np.ndarray  # int (firms, reasons): customers lost, by reason
    churn_by_segment: np.ndarray  # int (firms, segments, reasons): customers lost, by segment and reason
    switched_in: np.ndarray  # int (firms,): customers won from a rival
    closed_value: np.ndarray  # float (firms,): value of the relationships that ended
    closed: np.ndarray  # int (firms,): relationships that ended


SHOCKS = 2  # per customer and week: its fate (exit, review or neither) and its pick


def reconsider(m: EmpathyMarket, week: Week) -> None:
    """2. Exogenous churn, then logit choice by the customers under review (the week's `SHOCKS` rows of `choice`)."""
    c, firms, cfg, step = m.customers, m.firms, m.cfg, week.t
    nf, b = firms.n, cfg.behaviour
    u_fate, u_pick = m.shocks("choice", step)
    # one shock: below p_exit the customer leaves, in the next (1 - p_exit) * review_rate it reviews
    exit_cut = cutoff(cfg.market.base_churn)
    review_cut = cutoff(cfg.market.base_churn + (1 - cfg.market.base_churn) * b.review_rate)
    rep_quality, rep_warmth = firms.reputation[0].astype(F32), cu.felt_all(firms.reputation[1], b.empathy_returns)
    t = cu.taste(cfg.market, b, cfg.wom.buzz_weight if cfg.wom.enabled else 0.0)
    exits, movers, dest, reason = review(u_fate, u_pick, c.firm, c.segment, c.need, c.quality, c.felt_empathy,
                                         c.attachment, c.last_event, c.buzz, firms.price.astype(F32), rep_quality,
                                         rep_warmth, firms.active, int(exit_cut), int(review_cut), b.choice, t)
    leavers = np.concatenate([exits, movers])
    from_firm = c.firm[leavers].astype(np.int64)
    reasons = np.concatenate([np.full(len(exits), cu.OTHER), reason])
    value = cu.end_relationship(c, leavers, weekly_discount(cfg))
    switchers = movers[dest < nf]
    to_firm = dest[dest < nf]
    cu.start_relationship(c, switchers, to_firm, step, firms.reputation)
    nr, ns = len(cu.CHURN_REASONS), len(cu.SEGMENTS)
    segment = c.segment[leavers].astype(np.int64)
    by_segment = np.bincount((from_firm * ns + segment) * nr + reasons, minlength=nf * ns * nr).reshape(nf, ns, nr)
    week.moves = Moves(
        churn=by_segment.sum(axis=1),
        churn_by_segment=by_segment,
        switched_in=np.bincount(to_firm, minlength=nf),
        closed_value=np.bincount(from_firm, weights=value, minlength=nf),
        closed=np.bincount(from_firm, minlength=nf),
    )


def review(u_fate: np.ndarray, u_pick: np.ndarray, firm: np.ndarray, segment: np.ndarray, need: np.ndarray,
           quality: np.ndarray, felt_empathy: np.ndarray, attachment: np.ndarray, last_event: np.ndarray,
           buzz: np.ndarray, price: np.ndarray, rep_quality: np.ndarray, rep_warmth: np.ndarray, active: np.ndarray,
           exit_cut: int, review_cut: int, reviews: bool, t: cu.Taste) -> tuple[np.ndarray, ...]:
    """Each served customer's week: leave, review its firm, or neither; the leavers, and the reviewers who moved.

    A customer leaves for reasons outside the model if u_fate < exit_cut (or its firm left the
    market), else reviews if u_fate < review_cut: a logit choice over the firms and doing without,
    judging its own firm by experience plus habit and attachment, the others by reputation. Returns
    the leavers, and the movers with their choice and reason.
    """
    n, nf = len(firm), len(price)
    exits, reviewers = np.empty(n + 1, np.int64), np.empty(n + 1, np.int64)
    n_exits = n_reviewers = 0
    for i in range(n):  # branch-free: the shocks make every branch a coin toss
        f = firm[i]
        served = f >= 0
        leaves = served & ((u_fate[i] < exit_cut) | ~active[max(f, 0)])
        exits[n_exits] = i
        n_exits += leaves
        reviewers[n_reviewers] = i
        n_reviewers += served & ~leaves & (u_fate[i] < review_cut) & reviews
    movers, dest, reason = np.empty((3, n_reviewers), np.int64)
    n_movers = 0
    terms = np.zeros((nf + 1, 4), np.float32)  # row nf: doing without, no shortfalls
    utilities = np.empty(nf + 1, np.float32)
    for i in reviewers[:n_reviewers]:
        f = firm[i]
        for j in range(nf):
            own = j == f
            warmth = cu.felt(felt_empathy[i], t.returns) if own else rep_warmth[j]
            gaps = cu.shortfalls(quality[i] if own else rep_quality[j], warmth, need[i], price[j], segment[i],
                                 buzz[j, i], t)
            for k in range(4):
                terms[j, k] = gaps[k]
            utilities[j] = cu.utility(terms[j]) if active[j] else -np.inf
            if own:
                utilities[j] += t.habit + t.attachment * attachment[i]
        utilities[nf] = t.outside
        d = cu.logit_pick(utilities, t.noise, u_pick[i] * UNIT)
        if d != f:
            movers[n_movers], dest[n_movers] = i, d
            reason[n_movers] = cu.churn_reason(terms[f], terms[d], d < nf, last_event[i])
            n_movers += 1
    return exits[:n_exits], movers[:n_movers], dest[:n_movers], reason[:n_movers]

review = kernel(review)


def weekly_discount(cfg: SimConfig) -> float:
    """The weekly rate equivalent to the annual `market.discount_rate`."""
    return (1 + cfg.market.discount_rate) ** (1 / 52) - 1
