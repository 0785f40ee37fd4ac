"""Acquisition: prospects adopt a firm through its advertising or its customers' referrals.

A Bass-like process per prospect and firm f: advertising reaches the prospect with probability
`advertising_f` (innovation), and each praise message heard about f is a referral with hazard
`referral_strength` (imitation). Either converts with the chance the prospect prefers f to doing
without: sigmoid((U_f - U_outside) / choice_noise). One uniform per prospect decides whether it
adopts and, in proportion to the hazards, through which firm and channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim import customers as cu
from sim.jit import kernel
from sim.rng import UNIT

if TYPE_CHECKING:
    from sim.model import EmpathyMarket, Week

F32 = np.float32


@dataclass
class Adoptions:
    """This week's acquisitions per firm and channel, and the prospects reached by adverts."""

    by_channel: np.ndarray  # int (firms, 2): advertising, referral
    prospects: int


SHOCKS = 1  # per customer and week: whether and how a prospect adopts


def adopt(m: EmpathyMarket, week: Week) -> None:
    """7. Prospects adopt through adverts or the praise they heard this week; new customers start their relationship.

    One uniform per prospect (the week's `SHOCKS` row of `acquisition`) decides whether and how.
    """
    c, firms, cfg, step = m.customers, m.firms, m.cfg, week.t
    nf = firms.n
    u = m.shocks("acquisition", step)[0]
    listener, about = week.talk.praise if week.talk else (np.zeros(0, np.int64), np.zeros(0, np.int64))
    rep_quality = firms.reputation[0].astype(F32)
    rep_warmth = cu.felt_all(firms.reputation[1], cfg.behaviour.empathy_returns)
    t = cu.taste(cfg.market, cfg.behaviour, cfg.wom.buzz_weight if cfg.wom.enabled else 0.0)
    adopters, firm, channel, prospects = prospects_adopt(
        u, c.firm, c.segment, c.need, c.buzz, listener, about, firms.per_firm("advertising").astype(F32),
        firms.price.astype(F32), rep_quality, rep_warmth, firms.active, F32(cfg.wom.referral_strength), t)
    cu.start_relationship(c, adopters, firm, step, firms.reputation)
    counts = np.bincount(firm * 2 + channel, minlength=nf * 2).reshape(nf, 2)
    week.adopted = Adoptions(by_channel=counts, prospects=prospects)


def prospects_adopt(u: np.ndarray, firm: np.ndarray, segment: np.ndarray, need: np.ndarray, buzz: np.ndarray,
                    listener: np.ndarray, about: np.ndarray, advertising: np.ndarray, price: np.ndarray,
                    rep_quality: np.ndarray, rep_warmth: np.ndarray, active: np.ndarray, referral_strength: float,
                    t: cu.Taste) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Which prospects adopt which firm, through which channel (advertising 0, referral 1); and how many prospects.

    Hazards per firm f: h_ad = advertising_f c_f and h_ref = (1 - exp(-r m_f)) c_f, with m_f the
    praise messages about f the prospect heard and c_f = sigmoid((U_f - U_outside) / choice_noise)
    its chance of preferring f to doing without (0 if f left the market). The prospect adopts with
    p = 1 - prod (1 - h); its uniform u < p picks the hazard it falls in, in proportion to the hazards.
    Conversion is at most 1, so only prospects with u < 1 - prod_f (1 - advertising_f) exp(-r m)
    can adopt: the utilities are computed for those alone, with the same outcome.
    """
    n, nf = len(firm), len(price)
    heard = np.zeros(n, np.int32)  # praise messages each customer heard
    for m in range(len(listener)):
        heard[listener[m]] += 1
    missed_ads = np.float32(1)
    for f in range(nf):
        missed_ads *= np.float32(1) - advertising[f]
    reach = np.empty(heard.max() + 1 if n else 1)  # the bound for a prospect that heard h messages
    for h in range(len(reach)):
        reach[h] = 1 - missed_ads * np.exp(-referral_strength * np.float64(h))
    # of a prospect who may adopt: its number in customer order, else -1; written over `heard` once
    # read (an n-sized array fewer to allocate and fill: at 1,000,000 customers, most of this kernel's time)
    row = heard
    reached = np.empty(n + 1, np.int64)
    n_prospects = n_reached = 0
    for i in range(n):  # branch-free: whether a prospect is reached is a coin toss
        prospect = firm[i] < 0
        may_adopt = prospect & (u[i] * UNIT < reach[heard[i]])
        row[i] = n_reached if may_adopt else -1
        reached[n_reached] = i
        n_reached += may_adopt
        n_prospects += prospect
    messages = np.zeros((n_reached, nf), np.float32)
    for m in range(len(listener)):
        if row[listener[m]] >= 0:
            messages[row[listener[m]], about[m]] += 1
    adopters, chosen, channel = np.empty((3, n_reached), np.int64)
    hazard, cdf = np.empty(2 * nf, np.float32), np.empty(2 * nf, np.float32)
    n_adopters = 0
    for k in range(n_reached):
        i = reached[k]
        stay_out = np.float32(1)
        for f in range(nf):
            gaps = cu.shortfalls(rep_quality[f], rep_warmth[f], need[i], price[f], segment[i], buzz[f, i], t)
            gap = (cu.utility(gaps) - t.outside) / t.noise
            convert = np.float32(1) / (np.float32(1) + np.exp(-min(max(gap, np.float32(-50)), np.float32(50))))
            if not active[f]:
                convert = np.float32(0)  # a firm that left the market wins nobody
            hazard[f] = advertising[f] * convert
            hazard[nf + f] = (np.float32(1) - np.exp(-referral_strength * messages[k, f])) * convert
        for h in range(2 * nf):
            stay_out *= np.float32(1) - hazard[h]
        p_adopt = np.float32(1) - stay_out
        uk = u[i] * UNIT
        if uk >= p_adopt:
            continue
        total = np.float32(0)
        for h in range(2 * nf):
            total += hazard[h]
            cdf[h] = total
        target = uk / p_adopt * total
        column = 0  # the first hazard whose cumulative sum exceeds the target (one of no weight is never picked)
        for h in range(2 * nf):
            column += cdf[h] <= target
        column = min(column, 2 * nf - 1)
        adopters[n_adopters], chosen[n_adopters], channel[n_adopters] = i, column % nf, column // nf
        n_adopters += 1
    return adopters[:n_adopters], chosen[:n_adopters], channel[:n_adopters], n_prospects

prospects_adopt = kernel(prospects_adopt)

