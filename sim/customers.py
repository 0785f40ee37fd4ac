"""Customers: their state arrays, perceptions, willingness to recommend, and choice of firm.

One array entry per customer (a node of the word-of-mouth graph); `CustomerAgent` in
`sim.agents` is the per-customer view. Choice is a multinomial logit over the firms and an
outside option, written as shortfalls from an ideal firm so that every switch or churn can be
attributed to the shortfall that drove it (its reason).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from sim.config import BehaviourConfig, MarketConfig
from sim.jit import kernel, rule

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
ZERO, ONE = F32(0), F32(1)


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


def per_firm(c: Customers, firms: int) -> np.ndarray:
    """How many customers each firm serves now."""
    return per_segment(c, firms).sum(axis=1)


def per_segment(c: Customers, firms: int) -> np.ndarray:
    """How many customers of each segment each firm serves now: int (firms, segments)."""
    return census(c.firm, c.segment, firms, len(SEGMENTS))


def census(firm: np.ndarray, segment: np.ndarray, firms: int, segments: int) -> np.ndarray:
    """Customers per firm and segment, in one pass (prospects counted apart and dropped)."""
    count = np.zeros((firms + 1, segments), np.int64)  # row 0: prospects
    for i in range(len(firm)):
        count[firm[i] + 1, segment[i]] += 1
    return count[1:]


census = kernel(census)


def felt(empathy: float, returns: float) -> float:
    """How much felt empathy counts: empathy ** returns (returns < 1: diminishing returns), exactly 0 at 0.

    Written as exp(returns * log(empathy)): the C library's powf takes a slow path on 0, and a third
    of a town (its prospects) feels no empathy from anyone.
    """
    return np.exp(returns * np.log(empathy))

felt = rule(felt)


def felt_all(empathy: np.ndarray, returns: float) -> np.ndarray:
    """`felt` over an array, run by NumPy: its vectorised exp and log are several times faster than a loop's."""
    with np.errstate(divide="ignore"):  # log(0) = -inf, and exp(-inf) = 0
        return getattr(felt, "py_func", felt)(np.asarray(empathy, dtype=F32), F32(returns))  # the rule, in NumPy


def satisfaction_of(quality: float, warmth: float, need: float) -> float:
    """Overall satisfaction: (1 - need) quality + need warmth, with warmth = `felt`(felt empathy)."""
    return (warmth - quality) * need + quality

satisfaction_of = rule(satisfaction_of)


def recommend_of(satisfied: float, attachment: float, response: float, nps_attachment: float) -> float:
    """Willingness to recommend in [0,1] (the NPS question / 10): satisfaction lifted by attachment.

    recommend = clip(s + w a (1 - s) + rho, 0, 1), with s the satisfaction, a the attachment,
    w `nps_attachment` and rho the customer's response style: some rate every firm higher or lower
    than others would (`market.response_spread`; 0 turns it off).
    """
    return min(max(nps_attachment * attachment * (ONE - satisfied) + satisfied + response, ZERO), ONE)

recommend_of = rule(recommend_of)


def _satisfaction(quality: np.ndarray, warmth: np.ndarray, need: np.ndarray) -> np.ndarray:
    out = np.empty(len(quality), dtype=np.float32)
    for i in range(len(quality)):
        out[i] = satisfaction_of(quality[i], warmth[i], need[i])
    return out

_satisfaction = kernel(_satisfaction)


def _recommendation(satisfied: np.ndarray, attachment: np.ndarray, response: np.ndarray, weight: float) -> np.ndarray:
    out = np.empty(len(satisfied), dtype=np.float32)
    for i in range(len(satisfied)):
        out[i] = recommend_of(satisfied[i], attachment[i], response[i], weight)
    return out

_recommendation = kernel(_recommendation)


def satisfaction(c: Customers, idx: np.ndarray | slice, returns: float) -> np.ndarray:
    """`satisfaction_of` for the customers idx."""
    return _satisfaction(c.quality[idx], felt_all(c.felt_empathy[idx], returns), c.need[idx])


def recommendation(c: Customers, satisfied: np.ndarray, b: BehaviourConfig) -> np.ndarray:
    """`recommend_of` for every customer, given their satisfaction."""
    return _recommendation(satisfied.astype(F32), c.attachment, c.response, F32(b.nps_attachment))


class Taste(NamedTuple):
    """What choice weighs, as float32 for the kernels: the utility weights and the segments' price sensitivity."""

    quality: np.float32
    empathy: np.float32
    returns: np.float32
    price: np.float32
    buzz: np.float32
    habit: np.float32  # switching_cost: the current firm's habit bonus
    attachment: np.float32
    outside: np.float32  # utility of doing without
    noise: np.float32
    price_driven: np.float32  # price sensitivity of the price-driven segment
    relationship_driven: np.float32


def taste(market: MarketConfig, b: BehaviourConfig, buzz_weight: float) -> Taste:
    """The choice weights of a config (`buzz_weight` 0 when word of mouth is off)."""
    return Taste(*(F32(x) for x in (b.quality_weight, b.empathy_weight, b.empathy_returns, b.price_weight, buzz_weight,
                                   b.switching_cost, b.attachment_weight, market.outside_utility, b.choice_noise,
                                   market.price_driven_price_sensitivity, market.relationship_price_sensitivity)))


# the components of an option's utility, in the order `shortfalls` returns them
QUALITY_GAP, EMPATHY_GAP, PRICE_GAP, BUZZ = range(4)


def shortfalls(quality: float, warmth: float, need: float, price: float, segment: int, buzz: float,
               t: Taste) -> tuple[float, float, float, float]:
    """How far one firm falls short of an ideal one for one customer, by component, and its word of mouth.

    The current firm is judged by the customer's own experience, others by their reputation (the
    caller passes which; warmth is `felt` of the felt or reputed empathy E). shortfall_quality =
    wq (1 - Q), shortfall_empathy = we need (1 - E^gamma), shortfall_price = wp sensitivity (price - 1),
    buzz = ww buzz. Doing without has no shortfalls; its utility is `market.outside_utility`.
    """
    sensitivity = t.price_driven if segment == PRICE_DRIVEN else t.relationship_driven
    return (t.quality * (ONE - quality), t.empathy * need * (ONE - warmth), t.price * (price - ONE) * sensitivity,
            t.buzz * buzz)

shortfalls = rule(shortfalls)


def utility(s: np.ndarray) -> float:
    """Utility of an option from its components (`shortfalls`): buzz minus the shortfalls."""
    return s[BUZZ] - s[QUALITY_GAP] - s[EMPATHY_GAP] - s[PRICE_GAP]

utility = rule(utility)


def logit_pick(utility: np.ndarray, noise: float, u: float) -> int:
    """Multinomial logit choice by inverse CDF: a uniform u on [0, 1) picks an option (an index of `utility`).

    The utilities are overwritten by the cumulative choice weights (no scratch array per customer).
    """
    top = utility.max() / noise
    total = ZERO
    for j in range(len(utility)):
        total += np.exp(utility[j] / noise - top)
        utility[j] = total
    pick = 0  # the first option whose cumulative weight exceeds u * total (one of no weight is never picked)
    for j in range(len(utility)):
        pick += utility[j] <= u * total
    return min(pick, len(utility) - 1)


logit_pick = rule(logit_pick)


def churn_reason(current: np.ndarray, chosen: np.ndarray, to_rival: bool, last_event: int) -> int:
    """The component that gained most by leaving `current` for `chosen` names the reason.

    Empathy shortfall -> indifference; price -> price; quality -> poor service, or bot
    frustration when the latest encounter was a bot failing an emotional contact; a rival's
    better word of mouth -> competitor pull (only when moving to a rival, not to doing
    without). A move no component explains (the logit's taste shock) -> other.
    """
    gains = (current[EMPATHY_GAP] - chosen[EMPATHY_GAP], current[PRICE_GAP] - chosen[PRICE_GAP],
             current[QUALITY_GAP] - chosen[QUALITY_GAP], chosen[BUZZ] - current[BUZZ] if to_rival else -np.inf)
    best, reason = gains[0], INDIFFERENCE
    if gains[1] > best:
        best, reason = gains[1], PRICE
    if gains[2] > best:
        best, reason = gains[2], POOR_SERVICE
    if gains[3] > best:
        best, reason = gains[3], COMPETITOR_PULL
    if best <= 0:
        return OTHER  # no component gained: taste, not a reason
    if reason == POOR_SERVICE and last_event == EVENT_BOT_FRUSTRATION:
        return BOT_FRUSTRATION
    return reason

churn_reason = rule(churn_reason)


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
