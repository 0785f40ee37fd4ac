"""Firms: strategy levers as arrays over firms, pricing policies, competitor adaptation, accounts.

Index 0 is the focal business, then the competitors. `FirmAgent` in `sim.agents` is the
per-firm view.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim import customers as cu
from sim import employees
from sim.config import LOSS_RESPONSES, AdaptConfig, FirmConfig

if TYPE_CHECKING:
    from sim.model import EmpathyMarket, Week

LEVERS = ("empathy", "automation", "bot_handover", "bot_quality", "price")
COST_ITEMS = ("goods", "wages", "empathy_programme", "automation", "advertising", "hiring", "referral_bonus", "fixed",
              "one_off")


@dataclass
class Firms:
    """Strategy and state of every firm."""

    configs: list[FirmConfig]
    empathy: np.ndarray
    automation: np.ndarray
    bot_handover: np.ndarray
    bot_quality: np.ndarray
    base_price: np.ndarray
    price: np.ndarray
    reputation_quality: np.ndarray
    reputation_empathy: np.ndarray
    profit_since_review: np.ndarray = field(init=False)
    losing_reviews: np.ndarray = field(init=False)  # consecutive loss-making reviews since the last response
    loss_stage: np.ndarray = field(init=False)  # responses to losses taken so far (index into LOSS_RESPONSES)
    active: np.ndarray = field(init=False)  # False once a firm has left the market

    def __post_init__(self) -> None:
        self.profit_since_review = np.zeros(len(self.configs))
        self.losing_reviews = np.zeros(len(self.configs), dtype=np.int64)
        self.loss_stage = np.zeros(len(self.configs), dtype=np.int64)
        self.active = np.ones(len(self.configs), dtype=bool)

    @property
    def n(self) -> int:
        return len(self.configs)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.configs]

    def per_firm(self, attr: str) -> np.ndarray:
        """A FirmConfig attribute as an array over firms."""
        return np.array([getattr(c, attr) for c in self.configs], dtype=np.float64)

    @property
    def reputation(self) -> tuple[np.ndarray, np.ndarray]:
        return self.reputation_quality.astype(np.float32), self.reputation_empathy.astype(np.float32)


def create(configs: list[FirmConfig], initial_quality: float = 0.7) -> Firms:
    """Firms from their configs; reputations start at what their strategy promises.

    Reputed quality starts at `initial_quality` for all; reputed empathy at 0.3 + 0.4 empathy
    (1 - automation). The warm-up (run.burn_in) replaces both with what customers experience.
    """
    arr = {k: np.array([getattr(c, k) for c in configs], dtype=np.float64) for k in LEVERS}
    return Firms(
        configs=configs,
        empathy=arr["empathy"],
        automation=arr["automation"],
        bot_handover=arr["bot_handover"],
        bot_quality=arr["bot_quality"],
        base_price=arr["price"].copy(),
        price=arr["price"].copy(),
        reputation_quality=np.full(len(configs), initial_quality),
        reputation_empathy=0.3 + 0.4 * arr["empathy"] * (1 - arr["automation"]),
    )


def set_prices(m: EmpathyMarket, week: Week) -> None:
    """1. Each firm applies its pricing policy: fixed, periodic promotions, or match the cheapest rival."""
    firms, step = m.firms, week.t
    previous = firms.price.copy()
    for i, c in enumerate(firms.configs):
        if c.pricing == "promotions":
            on_promo = step % c.promo_every < c.promo_weeks
            firms.price[i] = firms.base_price[i] * (1 - c.promo_depth) if on_promo else firms.base_price[i]
        elif c.pricing == "match_cheapest" and rivals(firms, i).any():
            cheapest = previous[rivals(firms, i)].min()
            firms.price[i] = max(c.price_floor, min(firms.base_price[i], cheapest))
        else:
            firms.price[i] = firms.base_price[i]


def rivals(firms: Firms, i: int) -> np.ndarray:
    """Mask of the firms still in the market other than firm i."""
    mask = firms.active.copy()
    mask[i] = False
    return mask


def adapt(m: EmpathyMarket, week: Week) -> None:
    """10. Every `adapt.every` weeks (if `adapt.enabled`), adaptive firms review their strategy; notes say how.

    The warm-up's losses do not count (its start is artificial); a firm that left lays its staff off.
    """
    cfg, fs = m.cfg, m.firms
    if not cfg.adapt.enabled or week.done % cfg.adapt.every:
        return
    now = cu.per_firm(m.customers, fs.n)
    calendar_week = week.done - cfg.run.burn_in
    notes = review_strategies(fs, now, m.customers_at_review, cfg.adapt, losses_count=calendar_week > 0)
    m.workforce.status[~fs.active[m.workforce.firm]] = employees.CLOSED
    m.notes += [f"week {calendar_week}: {note}" for note in notes]
    m.customers_at_review = now


def review_strategies(firms: Firms, customers_now: np.ndarray, customers_before: np.ndarray, cfg: AdaptConfig,
                      losses_count: bool = True) -> list[str]:
    """Adaptive competitors review their strategy; returns plain-language notes of changes.

    Price matching: a firm that lost customers since its last review matches the cheapest rival
    (not below its floor). Imitation: it moves its automation part of the way towards the level
    of the most profitable rival over the same period. A firm that keeps losing money responds
    (`respond_to_losses`) unless `losses_count` is False (the warm-up, whose start is artificial).
    Firms that have left the market take no part.
    """
    notes = []
    profit = np.where(firms.active, firms.profit_since_review, -np.inf)
    best = int(np.argmax(profit))
    for i, c in enumerate(firms.configs):
        if not c.adapts or not firms.active[i]:
            continue
        if cfg.price_matching and customers_now[i] < customers_before[i] and rivals(firms, i).any():
            cheapest = firms.base_price[rivals(firms, i)].min()
            new = max(c.price_floor, min(firms.base_price[i], cheapest))
            if new < firms.base_price[i]:
                notes.append(f"{c.name} cut its price from {firms.base_price[i]:.2f} to {new:.2f} to match a rival")
                firms.base_price[i] = new
        if cfg.imitation and best != i:
            gap = firms.automation[best] - firms.automation[i]
            if abs(gap) > 1e-9:
                firms.automation[i] += cfg.imitation_rate * gap
                notes.append(
                    f"{c.name} moved automation to {firms.automation[i]:.2f}, imitating {firms.configs[best].name}"
                )
        if cfg.loss_response != "none" and losses_count:
            notes += respond_to_losses(firms, i, cfg)
    firms.profit_since_review[:] = 0
    return notes


def respond_to_losses(firms: Firms, i: int, cfg: AdaptConfig) -> list[str]:
    """A firm that lost money in `loss_reviews` reviews running takes its next step, as far as `loss_response`.

    First it cuts costs (advertising by `cost_cut`; a fixed headcount becomes staffed to demand),
    then it moves its price part of the way (`imitation_rate`) to the most profitable rival's (not
    below its floor), then it leaves the market. Each step restarts the count; a profitable review
    resets it. Why: small firms that keep losing money retrench, turn round or close.
    """
    if firms.profit_since_review[i] >= 0:
        firms.losing_reviews[i] = 0
        return []
    firms.losing_reviews[i] += 1
    stage = firms.loss_stage[i] + 1
    if firms.losing_reviews[i] < cfg.loss_reviews or stage > LOSS_RESPONSES.index(cfg.loss_response):
        return []
    firms.losing_reviews[i] = 0
    firms.loss_stage[i] = stage
    c, lost = firms.configs[i], f"after {cfg.loss_reviews} loss-making reviews running"
    if LOSS_RESPONSES[stage] == "cut":
        firms.configs[i] = dataclasses.replace(c, advertising=c.advertising * (1 - cfg.cost_cut), staff=None,
                                               staff_to_demand=True)
        return [f"{c.name} cut its advertising by {cfg.cost_cut:.0%} and staffs to demand, {lost}"]
    if LOSS_RESPONSES[stage] == "reprice":
        others = np.flatnonzero(rivals(firms, i))
        if not len(others):
            return [f"{c.name} kept its price {lost}: no rival to learn from"]
        best = others[np.argmax(firms.profit_since_review[others])]
        old = firms.base_price[i]
        firms.base_price[i] = max(c.price_floor, old + cfg.imitation_rate * (firms.base_price[best] - old))
        return [f"{c.name} moved its price from {old:.2f} to {firms.base_price[i]:.2f}, "
                f"towards {firms.configs[best].name}'s, {lost}"]
    firms.active[i] = False
    firms.configs[i] = dataclasses.replace(c, advertising=0.0, fixed_cost=0.0, automation_cost=0.0, staff=None)
    return [f"{c.name} left the market {lost}: its customers become prospects"]


def update_reputation(firms: Firms, customers: np.ndarray, quality: np.ndarray, empathy: np.ndarray) -> None:
    """A firm's public reputation is its customers' mean perception; kept while it has none."""
    has = customers > 0
    firms.reputation_quality[has] = quality[has]
    firms.reputation_empathy[has] = empathy[has]


def failure_rate(firms: Firms, step: int, base: float) -> np.ndarray:
    """Chance a contact goes wrong at each firm this week: the market's base, plus any incident."""
    rate = np.full(firms.n, base)
    for i, c in enumerate(firms.configs):
        if c.incident_week is not None and c.incident_week <= step < c.incident_week + c.incident_weeks:
            rate[i] = min(1.0, base + c.incident_failure_rate)
    return rate


def expected_human_share(firms: Firms, emotional: float) -> np.ndarray:
    """Share of encounters that reach a person: non-automated ones and emotional ones handed over."""
    return 1 - firms.automation * (1 - emotional * firms.bot_handover)
