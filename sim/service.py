"""Service encounters: who buys, who needs service, bot or person, what the customer experiences.

Each week a served customer makes a Poisson number of visits (purchases, `market.visit_rate` a
week); each visit involves a service contact with probability `market.contacts_per_visit`. A
customer with at least one contact has one encounter that week (all its contacts taken together,
served by one person or one bot): it is emotionally charged (a complaint, or something that went
wrong; an incident raises the failure rate) when any of its contacts is. A share `automation` of
encounters reach a bot first: the bot solves routine ones at `bot_quality` and shows no empathy; on
an emotional one it hands the customer to a person with probability `bot_handover`, otherwise the
customer is left frustrated. People serve with the quality and empathy their state allows; an
emotional encounter served by a person is recovered with a chance rising with both.

The process is four steps, in order: `route` (who meets whom), `deliver` (what the server gives),
`recover` (emotional encounters), `perceive` (what the customer makes of it).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from sim import customers as cu
from sim.config import BehaviourConfig, MarketConfig
from sim.customers import Customers
from sim.employees import Roster, Workforce
from sim.firms import Firms
from sim.metrics import count_flags
from sim.rng import at_least_one, binomial_cutoffs, counts, cutoff, poisson_cutoffs, shocks, unit

F32 = np.float32


@dataclass
class Encounters:
    """What happened this week, per firm (arrays over firms), per employee slot and per customer."""

    visits: np.ndarray  # purchases
    contacts: np.ndarray  # service contacts
    encounters: np.ndarray  # customers with at least one contact
    bot_contacts: np.ndarray
    human_contacts: np.ndarray
    emotional: np.ndarray  # emotional encounters
    frustrated: np.ndarray
    handovers: np.ndarray  # emotional encounters a bot handed to a person
    failed: np.ndarray
    recovered: np.ndarray
    satisfied: np.ndarray  # encounters rated satisfied (CSAT)
    routine_per_employee: np.ndarray
    emotional_per_employee: np.ndarray
    buyers: np.ndarray  # customers who visited this week
    bought: np.ndarray  # their visits


@dataclass
class Routing:
    """This week's encounters: one row per customer with a contact, and who serves it."""

    who: np.ndarray  # customer index
    firm: np.ndarray  # the customer's firm (intp)
    contacts: np.ndarray  # contacts this week (>= 1)
    emotional: np.ndarray  # bool
    bot: np.ndarray  # bool: a bot met the customer first
    handed: np.ndarray  # bool: the bot handed an emotional encounter to a person
    server: np.ndarray  # employee slot, w.n + firm for the bot, w.n + firms for nobody

    @cached_property
    def human(self) -> np.ndarray:
        """A person served the encounter (asked for three times a step: computed once)."""
        return ~self.bot | self.handed

    def frustrated(self, b: BehaviourConfig) -> np.ndarray:
        """A bot kept an emotional encounter to itself (strength 0: the claim is off)."""
        return self.bot & self.emotional & ~self.handed & (b.bot_frustration > 0)


def visit_tables(market: MarketConfig) -> tuple[np.ndarray, np.ndarray | None]:
    """Cutoffs for the Poisson visit count, and for the contacts among them (None: every visit is one)."""
    visits = poisson_cutoffs(market.visit_rate)
    if market.contacts_per_visit >= 1:
        return visits, None
    return visits, binomial_cutoffs(len(visits), market.contacts_per_visit)


def route(c: Customers, firms: Firms, team: Roster, w: Workforce, tables: tuple[np.ndarray, np.ndarray | None],
          market: MarketConfig, failure: np.ndarray, u: np.ndarray
          ) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], Routing]:
    """This week's buyers (their visits and firms), and the week's encounters routed to a bot, a person or nobody.

    An encounter of C contacts is emotional with chance 1 - (1 - p_f)^C, p_f = emotional_share +
    failure rate. One shock decides bot and hand-over (nested): bot if u < automation, handed over
    if also emotional and u < automation * bot_handover.
    """
    u_visit, u_contact, u_emotional, u_bot, u_staff = u
    buyers = np.flatnonzero(at_least_one(u_visit, tables[0]) & (c.firm >= 0))  # prospects buy nothing
    bought = counts(u_visit[buyers], tables[0])
    shop = c.firm[buyers].astype(np.intp)  # each buyer's firm
    if tables[1] is None:
        contacts = bought
    elif market.contacts_per_visit <= 0:
        contacts = np.zeros_like(bought)
    else:
        contacts = (u_contact[buyers, None] >= tables[1][bought]).sum(axis=1)
    if tables[1] is None:  # every buyer has contacts
        who, f = buyers, shop
    else:
        has = contacts > 0
        who, contacts, f = buyers[has], contacts[has], shop[has]
    calm = 1 - np.minimum(market.emotional_share + failure, 1)  # per firm: a contact is not emotional
    emotional_cut = cutoff(1 - calm[:, None] ** np.arange(len(tables[0]) + 1)[None, :])  # (firm, contacts)
    emotional = u_emotional[who] < emotional_cut[f, contacts]
    u_b = u_bot[who]
    bot = u_b < cutoff(firms.automation)[f]
    handed = emotional & (u_b < cutoff(firms.automation * firms.bot_handover)[f])
    human = ~bot | handed
    server = np.where(human, team.assign(f, u_staff[who]), w.n + f)
    server[server < 0] = w.n + firms.n  # nobody works at the firm
    routing = Routing(who=who, firm=f, contacts=contacts, emotional=emotional, bot=bot, handed=handed, server=server)
    return (buyers, bought, shop), routing


def deliver(r: Routing, firms: Firms, w: Workforce, b: BehaviourConfig) -> tuple[np.ndarray, ...]:
    """Quality and empathy each encounter gets from its server, and each slot's routine and emotional contacts.

    A person gives q = competence * chain * (1 - overload_quality * overload), e = skill * chain *
    (1 - burnout); a hand-over costs `handover_penalty` of quality; a bot gives `bot_quality` and no
    empathy, and a frustrating bot `bot_quality * (1 - bot_frustration)`; nobody gives 0 and 0.
    """
    nf, nobody = firms.n, w.n + firms.n
    emotional_contacts = r.emotional.astype(np.int64)
    per_slot = np.bincount(r.server * 2, weights=r.contacts - emotional_contacts, minlength=2 * (nobody + 1))
    per_slot += np.bincount(r.server * 2 + 1, weights=emotional_contacts, minlength=2 * (nobody + 1))
    per_slot = per_slot.reshape(-1, 2).astype(np.int64)
    routine_k, emotional_k = per_slot[:w.n, 0], per_slot[:w.n, 1]  # slots past w.n: bots, nobody
    load = (routine_k + emotional_k) / firms.per_firm("capacity")[w.firm]
    chain = w.service_factor(b)
    human_quality = w.competence(b) * chain * np.clip(1 - b.overload_quality * np.maximum(load - 1, 0), 0, 1)
    human_empathy = w.skill * chain * (1 - w.burnout)

    def per_encounter(by_employee: np.ndarray, by_bot: np.ndarray) -> np.ndarray:
        return np.concatenate([by_employee, by_bot, [0]]).astype(F32)[r.server]

    quality = per_encounter(human_quality, firms.bot_quality)
    empathy = per_encounter(human_empathy, np.zeros(nf))
    quality -= F32(b.handover_penalty) * r.handed
    quality[r.frustrated(b)] *= F32(1 - b.bot_frustration)
    return quality, empathy, routine_k, emotional_k


def recover(r: Routing, quality: np.ndarray, empathy: np.ndarray, need: np.ndarray, nobody: int,
            b: BehaviourConfig, u_recover: np.ndarray) -> np.ndarray:
    """Emotional encounters a person served are recovered or not; returns each encounter's event.

    What wins an upset customer back depends on the customer (Smith, Bolton & Wagner 1999: outcome,
    procedure and interaction each count): one who needs empathy is won by being listened to, one
    who does not by the problem being fixed. p_recover = (1 - w) q + w e with w = recovery_empathy
    * need. Recovered: q + recovery_bonus; not: q * unrecovered_quality. Unserved encounters fail;
    frustrating bots are remembered.
    """
    event = np.where(r.frustrated(b), cu.EVENT_BOT_FRUSTRATION, cu.EVENT_NONE).astype(np.int8)
    unstaffed = r.server == nobody
    event[unstaffed] = cu.EVENT_FAILED
    emo = np.flatnonzero(r.human & ~unstaffed & r.emotional)
    weight = F32(b.recovery_empathy) * need[emo]
    p_recover = quality[emo] + weight * (empathy[emo] - quality[emo])
    recovered = unit(u_recover[r.who[emo]]) < p_recover
    kept = quality[emo] * F32(b.unrecovered_quality)
    quality[emo] = np.where(recovered, quality[emo] + F32(b.recovery_bonus), kept)
    event[emo] = np.where(recovered, cu.EVENT_RECOVERED, cu.EVENT_FAILED)
    np.clip(quality, 0, 1, out=quality)
    return event


def perceive(c: Customers, r: Routing, purchases: tuple[np.ndarray, np.ndarray, np.ndarray], quality: np.ndarray,
             empathy: np.ndarray, event: np.ndarray, margin: np.ndarray, b: BehaviourConfig) -> np.ndarray:
    """Customers learn from their encounter and earn their firm its margin; returns each encounter's rating.

    Perceptions move towards what was delivered (felt empathy only when a person, or a frustrating
    bot, was involved: a routine bot contact says nothing about whether the firm cares). Attachment
    fades for all and grows with the empathy met. The rating (CSAT) is the satisfaction formula of the
    encounter; a routine bot contact disappoints by the missing person in proportion to need and
    `expect_person`: x = (1 - expect_person * need) q.
    """
    who = r.who
    frustrated = r.frustrated(b)
    caring = r.human | frustrated
    alpha = F32(b.learning_rate)
    c.quality[who] += alpha * (quality - c.quality[who])
    felt_before = c.felt_empathy[who]
    c.felt_empathy[who] = felt_before + alpha * caring * (empathy - felt_before)
    need = c.need[who]
    c.attachment *= F32(1 - b.attachment_decay)  # prospects hold 0, so all customers at once
    c.attachment[who] += F32(b.attachment_rate) * need * empathy * (1 - c.attachment[who])
    c.last_event[who] = event
    buyers, bought, shop = purchases
    c.value[buyers] += bought * margin.astype(F32)[shop]
    felt = (1 - need) * quality + need * cu.felt(empathy, b.empathy_returns)
    return np.where(caring, felt, (1 - F32(b.expect_person) * need) * quality)


def serve(c: Customers, firms: Firms, w: Workforce, team: Roster, market: MarketConfig, b: BehaviourConfig,
          margin: np.ndarray, failure: np.ndarray, tables: tuple[np.ndarray, np.ndarray | None],
          rng: np.random.Generator) -> Encounters:
    """Run this week's encounters; update perceptions, attachment and relationship value.

    `margin` is each firm's margin per visit, already discounted to step 0; `failure` each firm's
    chance this week that a contact goes wrong; `tables` the visit and contact cutoffs (`visit_tables`).
    """
    nf = firms.n
    u = shocks(rng, 6, c.n)
    purchases, r = route(c, firms, team, w, tables, market, failure, u[:5])
    quality, empathy, routine_k, emotional_k = deliver(r, firms, w, b)
    event = recover(r, quality, empathy, c.need[r.who], w.n + nf, b, u[5])
    rating = perceive(c, r, purchases, quality, empathy, event, margin, b)

    flags = count_flags(r.firm, nf, [r.emotional, r.frustrated(b), r.handed, event == cu.EVENT_FAILED,
                                     event == cu.EVENT_RECOVERED,
                                     rating >= b.csat_threshold])
    encounters, emotionals, frustrations, handovers, failures, recoveries, satisfied = flags.T
    buyers, bought, shop = purchases
    return Encounters(
        visits=np.bincount(shop, weights=bought, minlength=nf).astype(np.int64),
        contacts=np.bincount(r.firm, weights=r.contacts, minlength=nf).astype(np.int64),
        encounters=encounters,
        bot_contacts=np.bincount(r.firm, weights=r.contacts * r.bot, minlength=nf).astype(np.int64),
        human_contacts=np.bincount(r.firm, weights=r.contacts * r.human, minlength=nf).astype(np.int64),
        emotional=emotionals, frustrated=frustrations, handovers=handovers, failed=failures, recovered=recoveries,
        satisfied=satisfied,
        routine_per_employee=routine_k, emotional_per_employee=emotional_k, buyers=buyers, bought=bought,
    )
