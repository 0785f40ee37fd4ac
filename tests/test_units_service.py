"""Exact unit tests of the service process (route, deliver, recover, serve) on hand-built states with forced shocks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim import customers as cu
from sim import employees as em
from sim import firms as fm
from sim import service
from sim.config import BehaviourConfig, FirmConfig, MarketConfig, SimConfig
from tests.forced import F32, customers, rows, run_process, u32


def per_customer(purchases: tuple[np.ndarray, ...], n: int) -> np.ndarray:
    """route's (buyers, their visits, their firms) as visits per customer."""
    out = np.zeros(n, np.int64)
    out[purchases[0]] = purchases[1]
    return out


def per_buyer(visits: np.ndarray, firm: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Visits per customer as route's (buyers, their visits, their firms)."""
    buyers = np.flatnonzero(visits)
    return buyers, visits[buyers], (np.zeros(len(buyers), np.intp) if firm is None else firm[buyers])

def workforce(n: int, firm: list[int] | None = None, skill: float = 0.8, engagement: float = 1.0,
              burnout: float = 0.25, tenure: int = 10_000) -> em.Workforce:
    return em.Workforce(firm=np.array(firm if firm is not None else [0] * n, np.int16),
                        status=np.full(n, em.ACTIVE, np.int8), skill=np.full(n, skill, F32),
                        engagement=np.full(n, engagement, F32), disposition=np.zeros(n, F32),
                        burnout=np.full(n, burnout, F32), tenure=np.full(n, tenure, np.int32),
                        refill_at=np.zeros(n, np.int32))


def one_firm(**kw) -> fm.Firms:
    return fm.create([FirmConfig(**kw)])


def test_route_counts_visits_contacts_and_sends_each_encounter_to_bot_person_or_nobody():
    market = MarketConfig(visit_rate=1.0, contacts_per_visit=1.0, emotional_share=0.1)
    tables = service.visit_tables(market)
    c = customers([0.5] * 4, [0, 0, 0, -1])
    firms = one_firm(automation=0.5, bot_handover=0.5)
    w = workforce(3)
    w.status[0] = em.CLOSED  # the roster holds slots 1 and 2
    team = em.roster(w, 1)
    # Poisson(1) CDF: 0.368, 0.736, 0.920: shocks 0.1, 0.5, 0.8 buy 0, 1, 2; the prospect buys nothing
    u = np.array([u32(0.1, 0.5, 0.8, 0.9), u32(0, 0, 0, 0), u32(0, 0.3, 0.3, 0), u32(0, 0.4, 0.2, 0),
                  u32(0, 0, 0.6, 0)])
    bought, r = service.route(c, firms, team, w, tables, market, np.array([0.1]), u)
    purchases = per_customer(bought, c.n)
    assert purchases.tolist() == [0, 1, 2, 0]
    assert r.who.tolist() == [1, 2] and r.contacts.tolist() == [1, 2] and r.firm.tolist() == [0, 0]
    # p_emotional 0.2 per contact: one contact 0.2 (0.3 is not below), two contacts 1 - 0.8^2 = 0.36 (it is)
    assert r.emotional.tolist() == [False, True]
    # bot below automation 0.5 (both); handed over below 0.5 * 0.5 only if emotional: the second
    assert r.bot.tolist() == [True, True] and r.handed.tolist() == [False, True]
    assert r.human.tolist() == [False, True]
    assert r.server.tolist() == [w.n + 0, 2]  # bot slot of firm 0; person: 0.6 of a roster of two -> slot 2


def test_route_with_no_staff_sends_people_to_nobody_and_thins_visits_to_contacts():
    market = MarketConfig(visit_rate=3.0, contacts_per_visit=0.5, emotional_share=0.0)
    tables = service.visit_tables(market)
    c = customers([0.5] * 3, [0, 0, 0])
    w = workforce(1)
    w.status[:] = em.VACANT
    u = np.array([u32(0.9999, 0.9999, 0.01), u32(0.0, 0.99, 0.5), u32(0.5, 0.5, 0.5), u32(0.9, 0.9, 0.9),
                  u32(0.5, 0.5, 0.5)])
    bought, r = service.route(c, one_firm(automation=0.0), em.roster(w, 1), w, tables, market, np.zeros(1), u)
    purchases = per_customer(bought, c.n)
    assert purchases[2] == 0 and purchases[0] == purchases[1] >= 8
    # Binomial(v, 0.5): a shock near 0 gives no contact, near 1 gives nearly all; the same shock for every visit count
    p = purchases[0]
    assert r.who.tolist() == [1] and r.contacts[0] == (u[1][1] >= tables[1][p]).sum() and r.contacts[0] >= p - 4
    assert r.server.tolist() == [w.n + 1]  # nobody works at the firm
    assert not r.emotional.any()
    none = MarketConfig(visit_rate=3.0, contacts_per_visit=0.0)
    bought, r = service.route(c, one_firm(), em.roster(w, 1), w, service.visit_tables(none), none, np.zeros(1), u)
    purchases = per_customer(bought, c.n)
    assert purchases.sum() > 0 and len(r.who) == 0


def routing(server: list[int], emotional: list[bool], bot: list[bool], handed: list[bool],
            contacts: list[int]) -> service.Routing:
    n = len(server)
    return service.Routing(who=np.arange(n), firm=np.zeros(n, np.intp), contacts=np.array(contacts, np.int64),
                           emotional=np.array(emotional), bot=np.array(bot), handed=np.array(handed),
                           server=np.array(server))


def test_deliver_gives_each_server_its_quality_and_empathy_and_counts_each_slot_load():
    b = BehaviourConfig(new_hire_gap=0.0, service_profit_chain=0.5, overload_quality=0.5, handover_penalty=0.1,
                        bot_frustration=0.4)
    firms = one_firm(capacity=2.0, bot_quality=0.75)
    w = workforce(1, engagement=0.8, skill=0.8, burnout=0.25)  # chain 1 - 0.5 * 0.2 = 0.9
    nobody = w.n + 1
    r = routing(server=[0, 0, 1, 1, nobody], emotional=[False, True, False, True, True],
                bot=[False, True, True, True, False], handed=[False, True, False, False, False],
                contacts=[2, 1, 3, 1, 1])
    quality, empathy, routine, emotional = service.deliver(r, firms, w, b)
    assert routine.tolist() == [2] and emotional.tolist() == [1]  # load 3 / 2: overload 0.5
    person_q = 0.9 * (1 - 0.5 * 0.5)
    person_e = 0.8 * 0.9 * 0.75
    assert quality.tolist() == pytest.approx([person_q, person_q - 0.1, 0.75, 0.75 * 0.6, 0.0], abs=1e-6)
    assert empathy.tolist() == pytest.approx([person_e, person_e, 0, 0, 0], abs=1e-6)
    assert quality.dtype == F32 and routine.dtype == emotional.dtype == np.int64


def test_competence_and_service_factor():
    b = BehaviourConfig(new_hire_gap=0.3, learning_weeks=10.0, service_profit_chain=0.2)
    w = workforce(2, engagement=0.5)
    w.tenure[:] = [0, 10]
    assert w.competence(b).tolist() == pytest.approx([0.7, 1 - 0.3 * np.exp(-1)], abs=1e-6)
    assert w.service_factor(b).tolist() == pytest.approx([0.9, 0.9])
    w.engagement[:] = [1.0, 0.0]
    assert w.service_factor(b).tolist() == pytest.approx([1.0, 0.8])


def test_a_quiet_week_overload_does_not_lower_quality():
    b = BehaviourConfig(new_hire_gap=0.0, service_profit_chain=0.0, overload_quality=5.0)
    r = routing(server=[0], emotional=[False], bot=[False], handed=[False], contacts=[2])
    quality, _, _, _ = service.deliver(r, one_firm(capacity=2.0), workforce(1), b)
    assert quality.tolist() == [1.0]  # load exactly 1: no overload
    r.contacts[:] = 10
    quality, _, _, _ = service.deliver(r, one_firm(capacity=2.0), workforce(1), b)
    assert quality.tolist() == [0.0]  # deep overload is clipped at 0, not negative


def test_frustrated_only_when_bot_keeps_an_emotional_encounter_and_the_claim_is_on():
    r = routing(server=[0] * 4, emotional=[True, True, False, True], bot=[True, True, True, False],
                handed=[False, True, False, False], contacts=[1] * 4)
    assert r.frustrated(BehaviourConfig(bot_frustration=1.0)).tolist() == [True, False, False, False]
    assert not r.frustrated(BehaviourConfig(bot_frustration=0.0)).any()


def serve(shocks: np.ndarray, **state: object) -> service.Encounters:
    """The service process of week 0 (no warm-up) on a hand-built market."""
    cfg = state["cfg"]
    return run_process(service.serve, shocks, calendar_week=0, visit_tables=service.visit_tables(cfg.market),
                       **state).enc


def test_serve_counts_every_outcome_per_firm():
    """Two firms: firm 0 all bots (one routine, one frustrating), firm 1 one person (one recovered, one failed)."""
    # failure: firm 0's contacts go wrong half the time (emotional when the shock is below 1 - 0.5^C), firm 1's
    # always (an incident); margin per visit 10 x (1 - 0.7) and 10 x (1 - 0.6)
    market = MarketConfig(visit_rate=1.0, contacts_per_visit=1.0, emotional_share=0.0, failure_rate=0.5, basket=10.0)
    b = BehaviourConfig(new_hire_gap=0.0, service_profit_chain=0.0, recovery_empathy=0.0, recovery_bonus=0.1,
                        unrecovered_quality=0.5, csat_threshold=0.65, learning_rate=1.0, expect_person=0.0)
    firms = fm.create([FirmConfig(automation=1.0, bot_handover=0.0, bot_quality=0.8, capacity=100.0, unit_cost=0.7),
                       FirmConfig(automation=0.0, capacity=100.0, unit_cost=0.6, incident_week=0,
                                  incident_failure_rate=0.5)])
    c = customers([0.0] * 5, [0, 0, 1, 1, -1], firms=2)
    w = workforce(1, firm=[1], burnout=0.0, skill=0.5)
    # visits: 1, 2, 1, 1 (Poisson(1): 0.5 -> 1, 0.8 -> 2); the prospect's shock is ignored
    shocks = rows([0.5, 0.8, 0.5, 0.5, 0.99],  # visits
                  [0, 0, 0, 0, 0],  # contacts (every visit is one)
                  [0.5, 0.0, 0.0, 0.0, 0],  # emotional shocks
                  [0, 0, 0, 0, 0],  # bot shocks
                  [0, 0, 0, 0, 0],  # staff shocks
                  [0, 0, 0.5, 0.99, 0])  # recovery shocks
    enc = serve(shocks, customers=c, firms=firms, workforce=w, cfg=SimConfig(market=market, behaviour=b))
    assert per_customer((enc.buyers, enc.bought), 5).tolist() == [1, 2, 1, 1, 0]
    assert enc.visits.tolist() == [3, 2] and enc.contacts.tolist() == [3, 2]
    assert enc.encounters.tolist() == [2, 2]
    assert enc.bot_contacts.tolist() == [3, 0] and enc.human_contacts.tolist() == [0, 2]
    # customer 0: 0.5 < 1 - 0.5 = 0.5? no (routine); customer 1: 0.0 < 0.75 yes (frustrated)
    assert enc.emotional.tolist() == [1, 2] and enc.frustrated.tolist() == [1, 0] and enc.handovers.tolist() == [0, 0]
    # person quality 1.0: p_recover 1.0 recovers both shocks below 1; both are recovered
    assert enc.recovered.tolist() == [0, 2] and enc.failed.tolist() == [0, 0]
    # ratings: routine bot 0.8 (expect_person 0) satisfied; frustrated bot 0; recovered person q 1 -> satisfied
    assert enc.satisfied.tolist() == [1, 2]
    assert enc.routine_per_employee.tolist() == [0] and enc.emotional_per_employee.tolist() == [2]
    assert c.last_event[:4].tolist() == [cu.EVENT_NONE, cu.EVENT_BOT_FRUSTRATION, cu.EVENT_RECOVERED,
                                         cu.EVENT_RECOVERED]
    assert c.value.tolist() == pytest.approx([3.0, 6.0, 4.0, 4.0, 0.0])


def test_serve_fails_unstaffed_encounters_rates_at_the_threshold_and_counts_every_firm():
    """Firm 0: a routine bot rated exactly at the CSAT threshold (satisfied); firm 1: nobody works there; firm 2: no
    customers. Counts are integers over all three firms."""
    market = MarketConfig(visit_rate=1.0, contacts_per_visit=1.0, emotional_share=0.0)
    b = BehaviourConfig(csat_threshold=0.75, expect_person=0.0)
    firms = fm.create([FirmConfig(automation=1.0, bot_quality=0.75), FirmConfig(automation=0.0), FirmConfig()])
    c = customers([0.0] * 2, [0, 1], firms=3)
    w = workforce(1, firm=[2])
    shocks = rows([0.5, 0.5], [0, 0], [0.9, 0.9], [0, 0], [0, 0], [0, 0])
    market = dataclasses.replace(market, basket=0.0, failure_rate=0.0)
    enc = serve(shocks, customers=c, firms=firms, workforce=w, cfg=SimConfig(market=market, behaviour=b))
    assert enc.visits.tolist() == [1, 1, 0] and enc.contacts.tolist() == [1, 1, 0]
    assert enc.failed.tolist() == [0, 1, 0] and enc.satisfied.tolist() == [1, 0, 0]
    assert c.last_event.tolist() == [cu.EVENT_NONE, cu.EVENT_FAILED]
    for counts in (enc.visits, enc.contacts, enc.bot_contacts, enc.human_contacts, enc.encounters):
        assert counts.dtype == np.int64 and counts.shape == (3,)


def test_perceive_builds_attachment_with_empathy_met_and_rates_a_person_by_need():
    """Attachment decays for every customer and grows by rate * need * empathy * (1 - a); a person is rated
    (1 - need) q + need e^returns."""
    c = customers([1.0, 0.5, 0.5, 0.5], [0, 0, 0, -1], attachment=[0.5, 0.0, 0.5, 0.0])
    r = routing(server=[0, 0], emotional=[False, False], bot=[False, False], handed=[False, False], contacts=[1, 1])
    b = BehaviourConfig(attachment_decay=0.1, attachment_rate=0.5, empathy_returns=1.0, learning_rate=0.0)
    rating = service.perceive(c, r, per_buyer(np.zeros(4, np.int64)), np.array([0.6, 0.6], F32),
                              np.array([0.8, 0.4], F32), np.zeros(2, np.int8), np.zeros(1), b)
    assert c.attachment.tolist() == pytest.approx([0.45 + 0.5 * 0.8 * 0.55, 0.1, 0.45, 0.0], abs=1e-6)
    assert rating.tolist() == pytest.approx([0.8, 0.5], abs=1e-6)


def test_recover_clips_quality_to_the_unit_interval_and_recovers_strictly_below_p():
    b = BehaviourConfig(recovery_empathy=1.0, recovery_bonus=0.1, unrecovered_quality=0.5)
    r = routing(server=[0, 0, 0], emotional=[True, True, False], bot=[False] * 3, handed=[False] * 3,
                contacts=[1] * 3)
    quality, empathy = np.array([0.95, 0.75, -0.05], F32), np.array([0.95, 0.25, 0.0], F32)
    # customer 1: p = 0.75 + 0.5 (0.25 - 0.75) = 0.5 exactly, and its shock is exactly 0.5: not recovered
    event = service.recover(r, quality, empathy, np.array([0.0, 0.5, 0.0], F32), nobody=9, b=b,
                            u_recover=u32(0.5, 0.5, 0.0))
    assert event.tolist() == [cu.EVENT_RECOVERED, cu.EVENT_FAILED, cu.EVENT_NONE] and event.dtype == np.int8
    assert quality.tolist() == pytest.approx([1.0, 0.375, 0.0])


def test_route_caps_the_emotional_chance_and_sends_each_firms_bot_to_its_own_slot():
    market = MarketConfig(visit_rate=1.0, contacts_per_visit=1.0, emotional_share=0.5)
    c = customers([0.5] * 2, [0, 1], firms=2)
    firms = fm.create([FirmConfig(automation=0.0), FirmConfig(automation=1.0, bot_handover=0.0)])
    w = workforce(1)
    # two contacts each (Poisson(1): 0.8 -> 2); a failure rate of 0.7 makes p = 1, so the 0.97 shock is emotional
    u = np.array([u32(0.8, 0.8), u32(0, 0), u32(0.97, 0.97), u32(0.5, 0.5), u32(0, 0)])
    _, r = service.route(c, firms, em.roster(w, 2), w, service.visit_tables(market), market, np.array([0.7, 0.7]), u)
    assert r.contacts.tolist() == [2, 2] and r.emotional.tolist() == [True, True]
    assert r.server.tolist() == [0, w.n + 1]


def test_route_keeps_a_buyer_with_a_single_contact_and_the_largest_count():
    """Thinned contacts: one contact is an encounter. The largest visit count the table allows is routed too."""
    market = MarketConfig(visit_rate=1.0, contacts_per_visit=0.5, emotional_share=0.1)
    tables = service.visit_tables(market)
    c = customers([0.5] * 2, [0, 0])
    w = workforce(1)
    top = (tables[0][tables[0] < 2**32][-1] + 1) / 2**32  # a shock above every reachable cutoff: the largest count
    u = np.array([u32(0.5, top), u32(0.5, 0.9999999), u32(0, 0), u32(0.9, 0.9), u32(0, 0)])
    (buyers, bought, _), r = service.route(c, one_firm(automation=0.0), em.roster(w, 1), w, tables, market,
                                           np.zeros(1), u)
    assert bought.tolist()[0] == 1 and bought[1] == (tables[0] < 2**32).sum()
    assert r.who.tolist() == [0, 1] and r.contacts[0] == 1  # Binomial(1, 0.5) at 0.5: one contact
    assert r.contacts[1] == bought[1] and r.emotional.all()  # every contact, emotional at shock 0


def test_tally_counts_every_outcome_per_firm():
    yes, no = True, False
    per_firm = service.tally(
        firm=np.array([0, 1, 1, 2]), contacts=np.array([1, 2, 3, 1]), emotional=np.array([yes, yes, no, yes]),
        bot=np.array([no, yes, yes, yes]), handed=np.array([no, yes, no, no]),
        frustrated=np.array([no, no, no, yes]),
        event=np.array([cu.EVENT_FAILED, cu.EVENT_RECOVERED, cu.EVENT_NONE, cu.EVENT_BOT_FRUSTRATION], np.int8),
        rating=np.array([0.5, 0.7, 0.65, 0.1], F32), csat_threshold=F32(0.65),
        shop=np.array([0, 2, 2]), bought=np.array([1, 2, 4]), firms=3)
    assert per_firm.tolist() == [
        [1, 0, 6],  # visits
        [1, 5, 1],  # contacts
        [1, 2, 1],  # encounters
        [0, 5, 1],  # bot contacts: a handed-over encounter met a bot first
        [1, 2, 0],  # human contacts: a person, or a bot's hand-over
        [1, 1, 1], [0, 0, 1], [0, 1, 0],  # emotional, frustrated, handed over
        [1, 0, 0], [0, 1, 0],  # failed, recovered
        [0, 2, 0],  # satisfied: rating >= threshold, the threshold included
    ]
