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

F32 = np.float32


@dataclass
class Adoptions:
    """This week's acquisitions per firm and channel, and the prospects reached by adverts."""

    by_channel: np.ndarray  # int (firms, 2): advertising, referral
    prospects: int


def adopt(c: Customers, firms: Firms, referrals: np.ndarray | None, cfg: SimConfig, step: int,
          rng: np.random.Generator) -> Adoptions:
    """Prospects adopt; new customers start their relationship."""
    nf, b = firms.n, cfg.behaviour
    u = rng.random(c.n, dtype=F32)
    prospects = np.flatnonzero(c.firm < 0)
    s = cu.shortfalls(c, prospects, firms.price, firms.reputation, cfg.market, b,
                      cfg.wom.buzz_weight if cfg.wom.enabled else 0.0)
    gap = (s.utility()[:, :nf] - F32(cfg.market.outside_utility)) / F32(b.choice_noise)
    convert = 1 / (1 + np.exp(-np.clip(gap, -50, 50)))
    advertised = firms.per_firm("advertising").astype(F32)[None, :] * convert
    if referrals is None:
        referred = np.zeros_like(advertised)
    else:
        referred = (1 - np.exp(-F32(cfg.wom.referral_strength) * referrals[prospects])) * convert
    hazard = np.hstack([advertised, referred])
    p_adopt = 1 - np.prod(1 - hazard, axis=1)
    adopting = u[prospects] < p_adopt
    rows = np.flatnonzero(adopting)
    cdf = np.cumsum(hazard[rows], axis=1)
    scaled = (u[prospects[rows]] / p_adopt[rows]) * cdf[:, -1]
    column = np.minimum((cdf < scaled[:, None]).sum(axis=1), 2 * nf - 1)
    firm, channel = column % nf, column // nf
    cu.start_relationship(c, prospects[rows], firm, step, firms.reputation)
    counts = np.bincount(firm * 2 + channel, minlength=nf * 2).reshape(nf, 2)
    return Adoptions(by_channel=counts, prospects=len(prospects))
