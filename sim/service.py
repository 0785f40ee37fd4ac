"""Service encounters: who visits, bot or person, what the customer experiences.

A visiting customer's contact is emotionally charged with probability emotional_share + failure
rate (a complaint, or something that went wrong; an incident raises the failure rate). A share
`automation` of contacts reach a bot first: the bot solves routine contacts at `bot_quality` and shows no empathy; on an
emotional contact it hands the customer to a person with probability `bot_handover`, otherwise
the customer is left frustrated. People serve with the quality and empathy their state allows;
an emotional contact served by a person is recovered with a chance rising with both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import customers as cu
from sim.config import BehaviourConfig, MarketConfig
from sim.customers import Customers
from sim.employees import Roster, Workforce
from sim.firms import Firms
from sim.metrics import count_flags

F32 = np.float32


@dataclass
class Encounters:
    """What happened this week, per firm (arrays over firms) and per employee slot."""

    visits: np.ndarray
    bot_contacts: np.ndarray
    human_contacts: np.ndarray
    emotional: np.ndarray
    frustrated: np.ndarray
    failed: np.ndarray
    recovered: np.ndarray
    satisfied: np.ndarray
    routine_per_employee: np.ndarray
    emotional_per_employee: np.ndarray


def serve(c: Customers, firms: Firms, w: Workforce, team: Roster, market: MarketConfig,
          b: BehaviourConfig, margin: np.ndarray, failure: np.ndarray, rng: np.random.Generator) -> Encounters:
    """Run this week's encounters; update perceptions, attachment and relationship value.

    `margin` is each firm's margin per visit, already discounted to step 0; `failure` each firm's
    chance this week that a contact goes wrong.
    """
    n, nf = c.n, firms.n
    u_visit, u_emotional, u_bot, u_handover, u_staff, u_recover = (rng.random(n, dtype=F32) for _ in range(6))
    visitors = np.flatnonzero((c.firm >= 0) & (u_visit < market.visit_rate))
    f = c.firm[visitors].astype(np.int64)
    emotional = u_emotional[visitors] < (market.emotional_share + failure).astype(F32)[f]
    bot = u_bot[visitors] < firms.automation.astype(F32)[f]
    handed = bot & emotional & (u_handover[visitors] < firms.bot_handover.astype(F32)[f])
    frustrated = bot & emotional & ~handed & (b.bot_frustration > 0)  # strength 0: the claim is off
    human = ~bot | handed

    served_by = team.assign(f[human], u_staff[visitors[human]])
    staffed = served_by >= 0
    k = served_by[staffed]
    routine_k = np.bincount(k[~emotional[human][staffed]], minlength=w.n)
    emotional_k = np.bincount(k[emotional[human][staffed]], minlength=w.n)
    capacity = firms.per_firm("capacity")[w.firm]
    load = (routine_k + emotional_k) / capacity
    chain = w.service_factor(b)
    human_quality = w.competence(b) * chain * np.clip(1 - b.overload_quality * np.maximum(load - 1, 0), 0, 1)
    human_empathy = (w.skill * chain * (1 - w.burnout)).astype(F32)

    quality = firms.bot_quality.astype(F32)[f]
    quality[frustrated] *= F32(1 - b.bot_frustration)
    empathy = np.zeros(len(visitors), dtype=F32)
    event = np.where(frustrated, cu.EVENT_BOT_FRUSTRATION, cu.EVENT_NONE).astype(np.int8)

    h = np.flatnonzero(human)
    hs, hk = h[staffed], k
    quality[hs] = human_quality[hk] - F32(b.handover_penalty) * handed[hs]
    empathy[hs] = human_empathy[hk]
    quality[h[~staffed]] = 0  # nobody there to serve
    event[h[~staffed]] = cu.EVENT_FAILED
    emo = hs[emotional[hs]]
    p_recover = F32(1 - b.recovery_empathy) * quality[emo] + F32(b.recovery_empathy) * empathy[emo]
    recovered = u_recover[visitors[emo]] < p_recover
    kept = quality[emo] * F32(b.unrecovered_quality)
    quality[emo] = np.where(recovered, np.minimum(quality[emo] + F32(b.recovery_bonus), 1), kept)
    event[emo] = np.where(recovered, cu.EVENT_RECOVERED, cu.EVENT_FAILED)
    np.clip(quality, 0, 1, out=quality)

    alpha = F32(b.learning_rate)
    c.quality[visitors] += alpha * (quality - c.quality[visitors])
    caring = human | frustrated  # a routine bot contact says nothing about whether the firm cares
    cared = visitors[caring]
    c.felt_empathy[cared] += alpha * (empathy[caring] - c.felt_empathy[cared])
    need = c.need[visitors]
    c.attachment *= F32(1 - b.attachment_decay)  # prospects hold 0, so all customers at once
    c.attachment[visitors] += F32(b.attachment_rate) * need * empathy * (1 - c.attachment[visitors])
    c.last_event[visitors] = event
    c.value[visitors] += margin.astype(F32)[f]
    felt = (1 - need) * quality + need * empathy ** F32(b.empathy_returns)
    experience = np.where(caring, felt, quality)

    counts = count_flags(f, nf, [np.ones(len(f), dtype=bool), bot, human, emotional, frustrated,
                                 event == cu.EVENT_FAILED, event == cu.EVENT_RECOVERED,
                                 experience >= b.csat_threshold])
    visits, bots, humans, emotionals, frustrations, failures, recoveries, satisfied = counts.T
    return Encounters(
        visits=visits, bot_contacts=bots, human_contacts=humans, emotional=emotionals, frustrated=frustrations,
        failed=failures, recovered=recoveries, satisfied=satisfied,
        routine_per_employee=routine_k, emotional_per_employee=emotional_k,
    )
