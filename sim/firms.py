"""Firms: strategy levers as arrays over firms, pricing policies, competitor adaptation, accounts.

Index 0 is the focal business, then the competitors. `FirmAgent` in `sim.agents` is the
per-firm view.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sim.config import AdaptConfig, FirmConfig

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

    def __post_init__(self) -> None:
        self.profit_since_review = np.zeros(len(self.configs))

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


def set_prices(firms: Firms, step: int) -> None:
    """Apply each firm's pricing policy: fixed, periodic promotions, or match the cheapest rival."""
    previous = firms.price.copy()
    for i, c in enumerate(firms.configs):
        if c.pricing == "promotions":
            on_promo = step % c.promo_every < c.promo_weeks
            firms.price[i] = firms.base_price[i] * (1 - c.promo_depth) if on_promo else firms.base_price[i]
        elif c.pricing == "match_cheapest" and firms.n > 1:
            cheapest = np.delete(previous, i).min()
            firms.price[i] = max(c.price_floor, min(firms.base_price[i], cheapest))
        else:
            firms.price[i] = firms.base_price[i]


def adapt(firms: Firms, customers_now: np.ndarray, customers_before: np.ndarray, cfg: AdaptConfig) -> list[str]:
    """Adaptive competitors review their strategy; returns plain-language notes of changes.

    Price matching: a firm that lost customers since its last review matches the cheapest rival
    (not below its floor). Imitation: it moves its automation part of the way towards the level
    of the most profitable rival over the same period.
    """
    notes = []
    best = int(np.argmax(firms.profit_since_review))
    for i, c in enumerate(firms.configs):
        if not c.adapts:
            continue
        if cfg.price_matching and customers_now[i] < customers_before[i] and firms.n > 1:
            cheapest = np.delete(firms.base_price, i).min()
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
    firms.profit_since_review[:] = 0
    return notes


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


def staff_needed(human_contacts: np.ndarray, capacity: np.ndarray, utilisation: float) -> np.ndarray:
    """Headcount that serves the expected human contacts at the target utilisation (at least 1)."""
    return np.array([max(1, math.ceil(h / (c * utilisation))) for h, c in zip(human_contacts, capacity, strict=True)])


def expected_human_share(firms: Firms, emotional: float) -> np.ndarray:
    """Share of encounters that reach a person: non-automated ones and emotional ones handed over."""
    return 1 - firms.automation * (1 - emotional * firms.bot_handover)
