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
from sim.rng import cutoff, shocks, unit

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
    visitors: np.ndarray  # customer index of every visit this week (one entry per purchase)


def serve(c: Customers, firms: Firms, w: Workforce, team: Roster, market: MarketConfig,
          b: BehaviourConfig, margin: np.ndarray, failure: np.ndarray, rng: np.random.Generator) -> Encounters:
    """Run this week's encounters; update perceptions, attachment and relationship value.

    `margin` is each firm's margin per visit, already discounted to step 0; `failure` each firm's
    chance this week that a contact goes wrong.
    """
    n, nf = c.n, firms.n
    # Nested shocks: a visit is emotional when its visit shock also falls below visit_rate * emotional
    # chance, a bot contact handed over when its bot shock also falls below automation * handover.
    u_visit, u_bot, u_staff, u_recover = shocks(rng, 4, n)
    visitors = np.flatnonzero((u_visit < cutoff(market.visit_rate)) & (c.firm >= 0))
    f = c.firm[visitors].astype(np.intp)
    u_visit, u_bot = u_visit[visitors], u_bot[visitors]
    emotional = u_visit < cutoff(market.visit_rate * np.minimum(market.emotional_share + failure, 1))[f]
    bot = u_bot < cutoff(firms.automation)[f]
    handed = emotional & (u_bot < cutoff(firms.automation * firms.bot_handover)[f])  # within the bot range
    frustrated = bot & emotional & ~handed & (b.bot_frustration > 0)  # strength 0: the claim is off
    human = ~bot | handed

    # Who serves each visitor: an employee slot, the firm's bot (w.n + firm), or nobody (w.n + nf).
    nobody = w.n + nf
    server = np.where(human, team.assign(f, u_staff[visitors]), w.n + f)
    unstaffed = server < 0
    server[unstaffed] = nobody
    staffed = human & ~unstaffed
    contacts = np.bincount(server * 2 + emotional, minlength=2 * (nobody + 1)).reshape(-1, 2)
    routine_k, emotional_k = contacts[:w.n, 0], contacts[:w.n, 1]  # slots past w.n: bots, nobody
    load = (routine_k + emotional_k) / firms.per_firm("capacity")[w.firm]
    chain = w.service_factor(b)
    human_quality = w.competence(b) * chain * np.clip(1 - b.overload_quality * np.maximum(load - 1, 0), 0, 1)
    human_empathy = w.skill * chain * (1 - w.burnout)

    def per_visitor(by_employee: np.ndarray, by_bot: np.ndarray) -> np.ndarray:
        return np.concatenate([by_employee, by_bot, [0]]).astype(F32)[server]  # nobody there: 0

    quality = per_visitor(human_quality, firms.bot_quality)
    empathy = per_visitor(human_empathy, np.zeros(nf))
    empathy_felt = per_visitor(cu.felt(human_empathy, b.empathy_returns), np.zeros(nf))

    quality -= F32(b.handover_penalty) * handed
    quality[frustrated] *= F32(1 - b.bot_frustration)
    event = np.where(frustrated, cu.EVENT_BOT_FRUSTRATION, cu.EVENT_NONE).astype(np.int8)
    event[unstaffed] = cu.EVENT_FAILED
    emo = np.flatnonzero(staffed & emotional)
    p_recover = F32(1 - b.recovery_empathy) * quality[emo] + F32(b.recovery_empathy) * empathy[emo]
    recovered = unit(u_recover[visitors[emo]]) < p_recover
    kept = quality[emo] * F32(b.unrecovered_quality)
    quality[emo] = np.where(recovered, quality[emo] + F32(b.recovery_bonus), kept)
    event[emo] = np.where(recovered, cu.EVENT_RECOVERED, cu.EVENT_FAILED)
    np.clip(quality, 0, 1, out=quality)

    alpha = F32(b.learning_rate)
    c.quality[visitors] += alpha * (quality - c.quality[visitors])
    caring = human | frustrated  # a routine bot contact says nothing about whether the firm cares
    felt_before = c.felt_empathy[visitors]
    c.felt_empathy[visitors] = felt_before + alpha * caring * (empathy - felt_before)
    need = c.need[visitors]
    c.attachment *= F32(1 - b.attachment_decay)  # prospects hold 0, so all customers at once
    c.attachment[visitors] += F32(b.attachment_rate) * need * empathy * (1 - c.attachment[visitors])
    c.last_event[visitors] = event
    c.value[visitors] += margin.astype(F32)[f]
    felt = (1 - need) * quality + need * empathy_felt
    experience = np.where(caring, felt, quality)

    counts = count_flags(f, nf, [bot, human, emotional, frustrated, event == cu.EVENT_FAILED,
                                 event == cu.EVENT_RECOVERED, experience >= b.csat_threshold])
    visits, bots, humans, emotionals, frustrations, failures, recoveries, satisfied = counts.T
    return Encounters(
        visits=visits, bot_contacts=bots, human_contacts=humans, emotional=emotionals, frustrated=frustrations,
        failed=failures, recovered=recoveries, satisfied=satisfied,
        routine_per_employee=routine_k, emotional_per_employee=emotional_k, visitors=visitors,
    )
