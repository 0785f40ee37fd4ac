"""Customers: their state arrays, perceptions, willingness to recommend, and choice of firm.

One array entry per customer (a node of the word-of-mouth graph); `CustomerAgent` in
`sim.agents` is the per-customer view. Choice is a multinomial logit over the firms and an
outside option, written as shortfalls from an ideal firm so that every switch or churn can be
attributed to the shortfall that drove it (its reason).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config import BehaviourConfig, MarketConfig

NO_FIRM = -1
INITIAL_COHORT = -1  # `since` of the customers served at the start: they joined just before week 0
PRICE_DRIVEN, RELATIONSHIP_DRIVEN = 0, 1
SEGMENTS = ("price_driven", "relationship_driven")
# last service event of a customer, the memory behind "bot frustration" as a churn reason
EVENT_NONE, EVENT_BOT_FRUSTRATION, EVENT_FAILED, EVENT_RECOVERED = 0, 1, 2, 3
CHURN_REASONS = ("indifference", "price", "poor_service", "bot_frustration", "competitor_pull", "other")
INDIFFERENCE, PRICE, POOR_SERVICE, BOT_FRUSTRATION, COMPETITOR_PULL, OTHER = range(len(CHURN_REASONS))
CHANNELS = ("advertising", "referral", "switching")
ADVERTISING, REFERRAL, SWITCHING = range(len(CHANNELS))

F32 = np.float32


@dataclass
class Customers:
    """State of every customer; index i is node i of the graph."""

    segment: np.ndarray  # int8: PRICE_DRIVEN or RELATIONSHIP_DRIVEN
    need: np.ndarray  # float32 in [0,1]: how much empathy the customer needs
    firm: np.ndarray  # int8: index of the current firm, NO_FIRM for a prospect
    quality: np.ndarray  # float32 in [0,1]: perceived service quality of the current firm
    felt_empathy: np.ndarray  # float32 in [0,1]: how much the current firm seems to care
    attachment: np.ndarray  # float32 in [0,1]: emotional attachment to the current firm
    since: np.ndarray  # int32: step the current relationship started (INITIAL_COHORT: before step 0)
    value: np.ndarray  # float32: margin of the current relationship, discounted to step 0
    last_event: np.ndarray  # int8: EVENT_* of the latest encounter
    buzz: np.ndarray  # float32 (firms, n): remembered word of mouth about each firm
    response: np.ndarray  # float32: personal offset when rating a firm (response style); static

    @property
    def n(self) -> int:
        return len(self.firm)


def create(
    market: MarketConfig, initial_share: np.ndarray, reputation: tuple[np.ndarray, np.ndarray],
    rng: np.random.Generator,
) -> Customers:
    """Draw the population: segments, needs, and who is served by whom at the start."""
    n, firms = market.customers, len(initial_share)
    segment = np.where(rng.random(n) < market.price_driven_share, PRICE_DRIVEN, RELATIONSHIP_DRIVEN).astype(np.int8)
    mean_need = np.where(segment == PRICE_DRIVEN, market.price_driven_need, market.relationship_need)
    need = draw_need(mean_need, market.need_spread, rng)
    served = rng.random(n) < market.initial_adoption
    share = initial_share / initial_share.sum() if initial_share.sum() > 0 else np.full(firms, 1 / firms)
    pick = np.minimum(np.searchsorted(np.cumsum(share), rng.random(n), side="right"), firms - 1)
    firm = np.where(served, pick, NO_FIRM).astype(np.int8)
    rep_quality, rep_empathy = reputation
    known = np.maximum(firm, 0)
    attachment = np.where(served, 0.5 * rng.random(n), 0).astype(F32)
    return Customers(
        segment=segment,
        need=need,
        firm=firm,
        quality=np.where(served, rep_quality[known], 0).astype(F32),
        felt_empathy=np.where(served, rep_empathy[known], 0).astype(F32),
        attachment=attachment,
        since=np.full(n, INITIAL_COHORT, dtype=np.int32),
        value=np.zeros(n, dtype=F32),
        last_event=np.zeros(n, dtype=np.int8),
        buzz=np.zeros((firms, n), dtype=F32),
        response=(market.response_spread * rng.standard_normal(n)).astype(F32),
    )


def draw_need(mean: np.ndarray, spread: float, rng: np.random.Generator) -> np.ndarray:
    """Each customer's empathy need: Beta-distributed around its segment's mean.

    `spread` is the standard deviation at a mean of 1/2; like any share, a need's spread narrows
    towards 0 and 1 (sd = sqrt(m (1 - m) / (kappa + 1)), kappa = 1 / (4 spread^2) - 1), so a
    price-driven segment with a mean need near 0 has no tail of customers who want warmth.
    """
    inner = (mean > 0) & (mean < 1) & (spread > 0)
    kappa = 1 / (4 * spread**2) - 1 if spread > 0 else 0.0
    m = np.where(inner, mean, 0.5)
    drawn = rng.beta(m * kappa, (1 - m) * kappa) if spread > 0 else m
    return np.where(inner, drawn, mean).astype(F32)


def felt(empathy: np.ndarray, returns: float) -> np.ndarray:
    """How much felt empathy counts: empathy ** returns (returns < 1: diminishing returns).

    Computed as exp(returns * log(empathy)), exactly 0 at 0: the C library's powf takes a slow path
    on 0, and a third of a town (its prospects) feels no empathy from anyone; log and exp run in
    NumPy's vectorised kernels.
    """
    with np.errstate(divide="ignore"):  # log(0) = -inf, and exp(-inf) = 0
        x = np.log(np.asarray(empathy, dtype=F32))
    x *= F32(returns)
    return np.exp(x, out=x)


def satisfaction(c: Customers, idx: np.ndarray | slice, returns: float) -> np.ndarray:
    """Overall satisfaction: quality for the price-driven, felt empathy for the relationship-driven."""
    quality = c.quality[idx]
    s = felt(c.felt_empathy[idx], returns)
    s -= quality
    s *= c.need[idx]
    s += quality  # (1 - need) quality + need empathy^returns, without temporaries
    return s


def recommendation(c: Customers, satisfied: np.ndarray, b: BehaviourConfig) -> np.ndarray:
    """Willingness to recommend in [0,1] (the NPS question / 10): satisfaction lifted by attachment.

    recommend = clip(s + w a (1 - s) + rho, 0, 1), with s the satisfaction, a the attachment,
    w `nps_attachment` and rho the customer's response style: some rate every firm higher or lower
    than others would (`market.response_spread`; 0 turns it off).
    """
    r = F32(b.nps_attachment) * c.attachment
    r *= 1 - satisfied
    r += satisfied
    r += c.response
    return np.clip(r, 0, 1, out=r)


@dataclass
class Shortfalls:
    """How far each option falls short of an ideal firm, per utility component (options x rows).

    Options are the firms and, last, the outside option. Options run along the first axis so that
    every per-customer reduction over options is a handful of contiguous vector operations.
    """

    quality: np.ndarray
    empathy: np.ndarray
    price: np.ndarray
    buzz: np.ndarray

    def utility(self) -> np.ndarray:
        return self.buzz - self.quality - self.empathy - self.price


def shortfalls(
    c: Customers, idx: np.ndarray, price: np.ndarray, reputation: tuple[np.ndarray, np.ndarray],
    market: MarketConfig, b: BehaviourConfig, buzz_weight: float,
) -> Shortfalls:
    """Utility components of every firm, plus the outside option as the last row.

    The current firm is judged by the customer's own experience, others by their reputation.
    shortfall_quality = wq (1 - Q), shortfall_empathy = we need (1 - E^gamma),
    shortfall_price = wp sensitivity (price - 1), buzz = ww buzz. The outside option has no
    shortfalls; its utility `market.outside_utility` is added by the caller.
    """
    rep_quality, rep_empathy = (r.astype(F32) for r in reputation)
    rows, firms = len(idx), len(price)
    need = c.need[idx]
    by_segment = np.zeros(2, dtype=F32)
    by_segment[[PRICE_DRIVEN, RELATIONSHIP_DRIVEN]] = (market.price_driven_price_sensitivity,
                                                       market.relationship_price_sensitivity)
    sensitivity = by_segment[c.segment[idx]]
    s = Shortfalls(*(np.empty((firms + 1, rows), dtype=F32) for _ in range(4)))
    for part in (s.quality, s.empathy, s.price, s.buzz):
        part[firms] = 0  # the outside option falls short of nothing
    s.quality[:firms] = (F32(b.quality_weight) * (1 - rep_quality))[:, None]
    s.empathy[:firms] = (F32(b.empathy_weight) * (1 - felt(rep_empathy, b.empathy_returns)))[:, None] * need
    s.price[:firms] = (F32(b.price_weight) * (price.astype(F32) - 1))[:, None] * sensitivity
    np.take(c.buzz, idx, axis=1, out=s.buzz[:firms])
    s.buzz[:firms] *= F32(buzz_weight)
    own = np.flatnonzero(c.firm[idx] >= 0)  # judged by own experience, not reputation
    who = idx[own]
    at = c.firm[who].astype(np.intp) * rows + own  # flat position of (current firm, row)
    s.quality.reshape(-1)[at] = F32(b.quality_weight) * (1 - c.quality[who])
    s.empathy.reshape(-1)[at] = F32(b.empathy_weight) * need[own] * (1 - felt(c.felt_empathy[who], b.empathy_returns))
    return s


def logit_pick(utility: np.ndarray, noise: float, u: np.ndarray) -> np.ndarray:
    """Multinomial logit choice by inverse CDF: one uniform on [0, 1) per column picks a row (option)."""
    p = utility / F32(noise)
    p -= np.maximum.reduce(p, axis=0)
    np.exp(p, out=p)
    for j in range(1, len(p)):  # cumulative sum over options, row by row: contiguous and fast
        p[j] += p[j - 1]
    below = np.add.reduce(p < u * p[-1], axis=0, dtype=np.int8)
    return np.minimum(below, len(p) - 1)


def churn_reason(s: Shortfalls, rows: np.ndarray, cur: np.ndarray, dest: np.ndarray,
                 last_event: np.ndarray) -> np.ndarray:
    """The component that gained most by leaving `cur` for `dest` names the reason.

    Empathy shortfall -> indifference; price -> price; quality -> poor service, or bot
    frustration when the latest encounter was a bot failing an emotional contact; a rival's
    better word of mouth -> competitor pull (only when moving to a rival, not to doing
    without). A move no component explains (the logit's taste shock) -> other.
    """
    outside = len(s.quality) - 1
    gain = np.stack([
        s.empathy[cur, rows] - s.empathy[dest, rows],
        s.price[cur, rows] - s.price[dest, rows],
        s.quality[cur, rows] - s.quality[dest, rows],
        np.where(dest == outside, -np.inf, s.buzz[dest, rows] - s.buzz[cur, rows]),  # only a rival pulls
    ], axis=1)
    reason = np.array([INDIFFERENCE, PRICE, POOR_SERVICE, COMPETITOR_PULL])[gain.argmax(axis=1)]
    reason = np.where((reason == POOR_SERVICE) & (last_event == EVENT_BOT_FRUSTRATION), BOT_FRUSTRATION, reason)
    return np.where(gain.max(axis=1) > 0, reason, OTHER)  # no component gained: taste, not a reason


def start_relationship(c: Customers, idx: np.ndarray, firm: np.ndarray, step: int,
                       reputation: tuple[np.ndarray, np.ndarray]) -> None:
    """Customers idx join `firm` this step, expecting what its reputation promises."""
    c.firm[idx] = firm
    c.since[idx] = step
    c.value[idx] = 0
    c.attachment[idx] = 0
    c.last_event[idx] = EVENT_NONE
    c.quality[idx] = reputation[0][firm]
    c.felt_empathy[idx] = reputation[1][firm]


def end_relationship(c: Customers, idx: np.ndarray, discount: float) -> np.ndarray:
    """Customers idx leave their firm; return each relationship's value at its start."""
    value = c.value[idx] * np.power(1 + discount, c.since[idx], dtype=np.float64)
    c.firm[idx] = NO_FIRM
    c.attachment[idx] = 0
    return value
