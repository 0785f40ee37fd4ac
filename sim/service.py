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
from typing import TYPE_CHECKING

import numpy as np

from sim import customers as cu
from sim import firms as fm
from sim.choice import weekly_discount
from sim.config import BehaviourConfig, MarketConfig
from sim.customers import Customers
from sim.employees import Roster, Workforce, roster
from sim.firms import Firms
from sim.jit import kernel
from sim.rng import SHOCK_SCALE, UNIT, binomial_cutoffs, count, cutoff, poisson_cutoffs

if TYPE_CHECKING:
    from sim.model import EmpathyMarket, Week

F32 = np.float32
ZERO, ONE = F32(0), F32(1)


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

    @cached_property
    def kept_by_bot(self) -> np.ndarray:
        """A bot kept an emotional encounter to itself (asked for four times a step: computed once)."""
        return self.bot & self.emotional & ~self.handed

    def frustrated(self, b: BehaviourConfig) -> np.ndarray:
        """A bot kept an emotional encounter to itself and frustrated the customer (strength 0: the claim is off)."""
        return self.kept_by_bot if b.bot_frustration > 0 else np.zeros_like(self.kept_by_bot)


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
    visits, contacts = tables
    if contacts is None:  # every visit is a contact
        contacts = np.zeros((0, 0), np.int64)
    elif market.contacts_per_visit <= 0:  # no visit is: every row is out of reach
        contacts = np.full((len(visits) + 1, 1), SHOCK_SCALE, np.int64)
    calm = 1 - np.minimum(market.emotional_share + failure, 1)  # per firm: a contact is not emotional
    emotional_cut = cutoff(1 - calm[:, None] ** np.arange(len(visits) + 1)[None, :])  # (firm, contacts)
    bot_cut, handover_cut = cutoff(firms.automation), cutoff(firms.automation * firms.bot_handover)
    buyers, bought, shop, who, firm, n_contacts, emotional, bot, handed, server = meet(
        u, c.firm, visits, contacts, emotional_cut, bot_cut, handover_cut, team.order,
        team.start, team.count, w.n)
    routing = Routing(who=who, firm=firm, contacts=n_contacts, emotional=emotional, bot=bot, handed=handed,
                      server=server)
    return (buyers, bought, shop), routing


SHOCKS = 6  # per customer and week: visits, contacts, emotional, bot, staff member, recovery


def meet(u: np.ndarray, firm: np.ndarray, visit_cuts: np.ndarray, contact_cuts: np.ndarray,
         emotional_cut: np.ndarray, bot_cut: np.ndarray, handover_cut: np.ndarray, order: np.ndarray,
         start: np.ndarray, on_staff: np.ndarray, staff_slots: int) -> tuple[np.ndarray, ...]:
    """Every customer's week in the shop, from its first five shocks: its visits, and its encounter if any.

    Visits are Poisson by inverse CDF; contacts among them binomial (`contact_cuts`: a row per visit
    count, or empty: one contact per visit). A customer with contacts has one encounter: emotional or
    not, bot or person (nested: a bot hands an emotional encounter over if u_bot < automation *
    bot_handover), served by a uniformly chosen employee of its firm (none on staff: nobody, slot
    staff_slots + firms; a bot: slot staff_slots + firm).

    Returns buyers, their visits and firms, and per encounter: customer, firm, contacts, emotional,
    bot, handed over, server.
    """
    u_visit, u_contact, u_emotional, u_bot, u_staff = u[0], u[1], u[2], u[3], u[4]
    n, nf = len(firm), len(bot_cut)
    first = visit_cuts[0]  # a customer buys if u_visit >= the cutoff of 0 visits
    buyers = np.empty(n + 1, np.int64)
    n_buyers = 0
    for i in range(n):  # branch-free: whether a customer buys is a coin toss
        buyers[n_buyers] = i
        n_buyers += (firm[i] >= 0) & (u_visit[i] >= first)  # prospects buy nothing
    buyers = buyers[:n_buyers]
    bought, shop = np.empty(n_buyers, np.int64), np.empty(n_buyers, np.intp)
    who, contacts = np.empty(n_buyers, np.int64), np.empty(n_buyers, np.int64)
    encounter_firm = np.empty(n_buyers, np.intp)
    emotionals, bots, handovers = np.empty((3, n_buyers), np.bool_)
    server = np.empty(n_buyers, np.int64)
    n_encounters = 0
    for b in range(n_buyers):
        i = buyers[b]
        f = firm[i]
        k = count(u_visit[i], visit_cuts)
        bought[b], shop[b] = k, f
        c = count(u_contact[i], contact_cuts[k]) if contact_cuts.shape[0] else k
        emotional = u_emotional[i] < emotional_cut[f, c]
        bot = u_bot[i] < bot_cut[f]
        handed = emotional & (u_bot[i] < handover_cut[f])
        staffed = on_staff[f] > 0
        person = order[start[f] + ((np.int64(u_staff[i]) * on_staff[f]) >> 32)] if staffed else staff_slots + nf
        server[n_encounters] = staff_slots + f if bot & ~handed else person
        who[n_encounters], encounter_firm[n_encounters], contacts[n_encounters] = i, f, c
        emotionals[n_encounters], bots[n_encounters], handovers[n_encounters] = emotional, bot, handed
        n_encounters += c > 0  # a buyer without contacts has no encounter
    e = n_encounters
    return (buyers, bought, shop, who[:e], encounter_firm[:e], contacts[:e], emotionals[:e], bots[:e], handovers[:e],
            server[:e])

meet = kernel(meet)


def deliver(r: Routing, firms: Firms, w: Workforce, b: BehaviourConfig) -> tuple[np.ndarray, ...]:
    """Quality and empathy each encounter gets from its server, and each slot's routine and emotional contacts.

    A person gives q = competence * chain * (1 - overload_quality * overload), e = skill * chain *
    (1 - burnout); a hand-over costs `handover_penalty` of quality; a bot gives `bot_quality` and no
    empathy, and a frustrating bot `bot_quality * (1 - bot_frustration)`; nobody gives 0 and 0.
    """
    nf, nobody = firms.n, w.n + firms.n
    per_slot = load_per_slot(r.server, r.contacts, r.emotional, nobody + 1)
    routine_k, emotional_k = per_slot[:w.n, 0], per_slot[:w.n, 1]  # slots past w.n: bots, nobody
    load = (routine_k + emotional_k) / firms.per_firm("capacity")[w.firm]
    chain = w.service_factor(b)
    human_quality = w.competence(b) * chain * np.clip(1 - b.overload_quality * np.maximum(load - 1, 0), 0, 1)
    human_empathy = w.skill * chain * (1 - w.burnout)
    slot_quality = np.concatenate([human_quality, firms.bot_quality, [0]]).astype(F32)  # people, bots, nobody
    slot_empathy = np.concatenate([human_empathy, np.zeros(nf), [0]]).astype(F32)
    quality, empathy = served(r.server, r.handed, r.frustrated(b), slot_quality, slot_empathy,
                              F32(b.handover_penalty), F32(1 - b.bot_frustration))
    return quality, empathy, routine_k, emotional_k


def load_per_slot(server: np.ndarray, contacts: np.ndarray, emotional: np.ndarray, slots: int) -> np.ndarray:
    """Routine and emotional contacts each server slot took this week (slots, 2)."""
    out = np.zeros((slots, 2), np.int64)
    for k in range(len(server)):
        out[server[k], 0] += contacts[k] - emotional[k]
        out[server[k], 1] += emotional[k]
    return out


load_per_slot = kernel(load_per_slot)


def served(server: np.ndarray, handed: np.ndarray, frustrated: np.ndarray, slot_quality: np.ndarray,
           slot_empathy: np.ndarray, handover_penalty: float, frustrated_keeps: float) -> tuple[np.ndarray, np.ndarray]:
    """Each encounter's quality and empathy from its server's slot, less a hand-over's wait and a bot's frustration."""
    quality, empathy = np.empty(len(server), np.float32), np.empty(len(server), np.float32)
    for k in range(len(server)):
        q = slot_quality[server[k]]
        if handed[k]:
            q -= handover_penalty
        if frustrated[k]:
            q *= frustrated_keeps
        quality[k], empathy[k] = q, slot_empathy[server[k]]
    return quality, empathy


served = kernel(served)


def recover(r: Routing, quality: np.ndarray, empathy: np.ndarray, need: np.ndarray, nobody: int,
            b: BehaviourConfig, u_recover: np.ndarray) -> np.ndarray:
    """Emotional encounters a person served are recovered or not; returns each encounter's event.

    What wins an upset customer back depends on the customer (Smith, Bolton & Wagner 1999: outcome,
    procedure and interaction each count): one who needs empathy is won by being listened to, one
    who does not by the problem being fixed. p_recover = (1 - w) q + w e with w = recovery_empathy
    * need. Recovered: q + recovery_bonus; not: q * unrecovered_quality. Unserved encounters fail;
    frustrating bots are remembered.
    """
    return recover_each(r.who, r.server, r.emotional, r.human, r.frustrated(b), quality, empathy, need, u_recover,
                        nobody, F32(b.recovery_empathy), F32(b.recovery_bonus), F32(b.unrecovered_quality))


def recover_each(who: np.ndarray, server: np.ndarray, emotional: np.ndarray, human: np.ndarray,
                 frustrated: np.ndarray, quality: np.ndarray, empathy: np.ndarray, need: np.ndarray,
                 u_recover: np.ndarray, nobody: int, recovery_empathy: float, recovery_bonus: float,
                 unrecovered_quality: float) -> np.ndarray:
    """`recover` per encounter: its event, and its quality after recovery (in place, clipped to [0, 1])."""
    event = np.empty(len(who), np.int8)
    for k in range(len(who)):
        event[k] = cu.EVENT_BOT_FRUSTRATION if frustrated[k] else cu.EVENT_NONE
        if server[k] == nobody:
            event[k] = cu.EVENT_FAILED
        elif human[k] and emotional[k]:
            q = quality[k]
            p_recover = q + recovery_empathy * need[k] * (empathy[k] - q)
            if u_recover[who[k]] * UNIT < p_recover:
                quality[k], event[k] = q + recovery_bonus, cu.EVENT_RECOVERED
            else:
                quality[k], event[k] = q * unrecovered_quality, cu.EVENT_FAILED
        quality[k] = min(max(quality[k], ZERO), ONE)
    return event


recover_each = kernel(recover_each)


def perceive(c: Customers, r: Routing, purchases: tuple[np.ndarray, np.ndarray, np.ndarray], quality: np.ndarray,
             empathy: np.ndarray, event: np.ndarray, margin: np.ndarray, b: BehaviourConfig) -> np.ndarray:
    """Customers learn from their encounter and earn their firm its margin; returns each encounter's rating.

    Perceptions move towards what was delivered (felt empathy only when a person, or a frustrating
    bot, was involved: a routine bot contact says nothing about whether the firm cares). Attachment
    fades for all and grows with the empathy met. The rating (CSAT) is the satisfaction formula of the
    encounter; a routine bot contact disappoints by the missing person in proportion to need and
    `expect_person`: x = (1 - expect_person * need) q.
    """
    caring = r.human | r.frustrated(b)
    c.attachment *= F32(1 - b.attachment_decay)  # prospects hold 0, so all customers at once
    rating = learn(r.who, caring, quality, empathy, cu.felt_all(empathy, b.empathy_returns), event, c.quality,
                   c.felt_empathy, c.attachment, c.need, c.last_event, F32(b.learning_rate), F32(b.attachment_rate),
                   F32(b.expect_person))
    buyers, bought, shop = purchases
    earn(buyers, bought, margin.astype(F32)[shop], c.value)
    return rating


def learn(who: np.ndarray, caring: np.ndarray, quality: np.ndarray, empathy: np.ndarray, warmth: np.ndarray,
          event: np.ndarray, perceived: np.ndarray, felt_empathy: np.ndarray, attachment: np.ndarray,
          need: np.ndarray, last_event: np.ndarray, alpha: float, attachment_rate: float,
          expect_person: float) -> np.ndarray:
    """Each encounter's customer learns from it; returns each encounter's rating x (CSAT).

    Q += alpha (q - Q); E += alpha (e - E) if a person cared (or a bot frustrated);
    A += attachment_rate need e (1 - A).
    """
    rating = np.empty(len(who), np.float32)
    for k in range(len(who)):
        i, q, e, need_i = who[k], quality[k], empathy[k], need[who[k]]
        perceived[i] += alpha * (q - perceived[i])
        if caring[k]:
            felt_empathy[i] += alpha * (e - felt_empathy[i])
        attachment[i] += attachment_rate * need_i * e * (ONE - attachment[i])
        last_event[i] = event[k]
        rating[k] = cu.satisfaction_of(q, warmth[k], need_i) if caring[k] else (ONE - expect_person * need_i) * q
    return rating

learn = kernel(learn)


def earn(buyers: np.ndarray, visits: np.ndarray, margin: np.ndarray, value: np.ndarray) -> None:
    """Each buyer's relationship earns its visits times its firm's (discounted) margin."""
    for k in range(len(buyers)):
        value[buyers[k]] += np.float64(visits[k]) * np.float64(margin[k])

earn = kernel(earn)


def serve(m: EmpathyMarket, week: Week) -> None:
    """3. This week's visits and encounters (route, deliver, recover, perceive); customers learn from them.

    Each visit earns the firm's margin per visit discounted to step 0 (`margin_per_visit`); a contact
    goes wrong with the firm's failure rate this week (`sim.firms.failure_rate`); the week's `SHOCKS`
    rows of `service` decide visits, contacts, emotion, bot, server and recovery.
    """
    c, firms, w, cfg = m.customers, m.firms, m.workforce, m.cfg
    market, b = cfg.market, cfg.behaviour
    failure = fm.failure_rate(firms, m.calendar_week, market.failure_rate)
    u = m.shocks("service", week.t)
    nf = firms.n
    purchases, r = route(c, firms, roster(w, firms.n), w, m.visit_tables, market, failure, u[:5])
    quality, empathy, routine_k, emotional_k = deliver(r, firms, w, b)
    event = recover(r, quality, empathy, c.need[r.who], w.n + nf, b, u[5])
    rating = perceive(c, r, purchases, quality, empathy, event, margin_per_visit(m, week.t), b)

    buyers, bought, shop = purchases
    per_firm = tally(r.firm, r.contacts, r.emotional, r.bot, r.handed, r.frustrated(b), event, rating,
                     F32(b.csat_threshold), shop, bought, nf)
    week.enc = Encounters(*per_firm, routine_per_employee=routine_k, emotional_per_employee=emotional_k,
                          buyers=buyers, bought=bought)


def margin_per_visit(m: EmpathyMarket, t: int) -> np.ndarray:
    """Each firm's margin per visit in week t, discounted to step 0 (what a visit adds to realised CLTV)."""
    fs, market = m.firms, m.cfg.market
    return market.basket * (fs.price - fs.per_firm("unit_cost")) / (1 + weekly_discount(m.cfg)) ** t


def tally(firm: np.ndarray, contacts: np.ndarray, emotional: np.ndarray, bot: np.ndarray, handed: np.ndarray,
          frustrated: np.ndarray, event: np.ndarray, rating: np.ndarray, csat_threshold: float, shop: np.ndarray,
          bought: np.ndarray, firms: int) -> np.ndarray:
    """The week's service per firm, as `Encounters` lists it (rows of the result).

    Visits, contacts, encounters, bot and human contacts, emotional, frustrated, handed over,
    failed, recovered and satisfied encounters (rating >= threshold).
    """
    out = np.zeros((11, firms), np.int64)
    for k in range(len(shop)):
        out[0, shop[k]] += bought[k]
    for k in range(len(firm)):
        f, human = firm[k], not bot[k] or handed[k]
        out[1, f] += contacts[k]
        out[2, f] += 1
        out[3, f] += contacts[k] * bot[k]
        out[4, f] += contacts[k] * human
        out[5, f] += emotional[k]
        out[6, f] += frustrated[k]
        out[7, f] += handed[k]
        out[8, f] += event[k] == cu.EVENT_FAILED
        out[9, f] += event[k] == cu.EVENT_RECOVERED
        out[10, f] += rating[k] >= csat_threshold
    return out


tally = kernel(tally)
