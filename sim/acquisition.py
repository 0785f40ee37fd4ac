"""Acquisition: prospects adopt a firm through its advertising or its customers' referrals.

A Bass-like process per prospect and firm f: advertising reaches the prospect with probability
`advertising_f` (innovation), and each praise message heard about f is a referral with hazard
`referral_strength` (imitation). Either converts with the chance the prospect prefers f to doing
without: sigmoid((U_f - U_outside) / choice_noise). One uniform per prospect decides whether it
adopts and, in proportion to the hazards, through which firm and channel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import customers as cu
from sim.config import SimConfig
from sim.customers import Customers
from sim.firms import Firms
from sim.rng import shocks, unit

F32 = np.float32


@dataclass
class Adoptions:
    """This week's acquisitions per firm and channel, and the prospects reached by adverts."""

    by_channel: np.ndarray  # int (firms, 2): advertising, referral
    prospects: int


def adopt(c: Customers, firms: Firms, praise: tuple[np.ndarray, np.ndarray] | None, cfg: SimConfig, step: int,
          rng: np.random.Generator) -> Adoptions:
    """Prospects adopt; new customers start their relationship.

    `praise` holds this week's praise messages as (listener, firm talked about). Conversion is
    at most 1, so only prospects whose uniform falls below the no-conversion bound
    1 - prod_f (1 - advertising_f) * exp(-referral_strength * messages heard) can adopt; the
    utilities are computed for those alone, with the same outcome as computing them for all.
    """
    nf, b, r = firms.n, cfg.behaviour, F32(cfg.wom.referral_strength)
    prospects = np.flatnonzero(c.firm < 0)
    u = unit(shocks(rng, 1, c.n)[0][prospects])
    advertising = firms.per_firm("advertising").astype(F32)
    heard = np.bincount(praise[0], minlength=c.n)[prospects] if praise else np.zeros(len(prospects))
    bound = 1 - np.prod(1 - advertising) * np.exp(-r * heard)
    reached = np.flatnonzero(u < bound)
    candidates, u = prospects[reached], u[reached]

    s = cu.shortfalls(c, candidates, firms.price, firms.reputation, cfg.market, b,
                      cfg.wom.buzz_weight if cfg.wom.enabled else 0.0)
    gap = (s.utility()[:nf] - F32(cfg.market.outside_utility)) / F32(b.choice_noise)
    convert = 1 / (1 + np.exp(-np.clip(gap, -50, 50))) * firms.active[:, None]  # (firms, candidates); 0: firm left
    referrals = np.zeros((nf, len(candidates)), dtype=F32)
    if praise:
        row = np.full(c.n, -1, dtype=np.int64)
        row[candidates] = np.arange(len(candidates))
        listener_row, about = row[praise[0]], praise[1]
        keep = listener_row >= 0
        referrals += np.bincount(about[keep] * len(candidates) + listener_row[keep],
                                 minlength=nf * len(candidates)).reshape(nf, -1)
    hazard = np.vstack([advertising[:, None] * convert, (1 - np.exp(-r * referrals)) * convert])
    p_adopt = 1 - np.prod(1 - hazard, axis=0)
    rows = np.flatnonzero(u < p_adopt)
    cdf = np.cumsum(hazard[:, rows], axis=0)
    scaled = u[rows] / p_adopt[rows] * cdf[-1]
    column = np.minimum((cdf < scaled).sum(axis=0), 2 * nf - 1)
    firm, channel = column % nf, column // nf
    cu.start_relationship(c, candidates[rows], firm, step, firms.reputation)
    counts = np.bincount(firm * 2 + channel, minlength=nf * 2).reshape(nf, 2)
    return Adoptions(by_channel=counts, prospects=len(prospects))
