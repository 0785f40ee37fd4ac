"""Exact unit tests of the compiled per-customer kernels, called directly: thresholds, boundaries, scratch sizes.

Each test passes both compiled and with NUMBA_DISABLE_JIT=1 (the mode mutation testing runs in, where
an undersized scratch array raises IndexError instead of writing past its end).
"""

from __future__ import annotations

import warnings

import numpy as np

from sim import acquisition, choice, network, service, wom
from sim import customers as cu
from sim import employees as em
from sim import firms as fm
from sim.config import BehaviourConfig, FirmConfig, MarketConfig, SimConfig, WomConfig
from sim.rng import cutoff
from tests.forced import Forced, customers, heard, rows, run_process

F32 = np.float32


def talk(edges: list[tuple[int, int]], firm: list[int], recommend: list[float], u: list[int], firms: int = 1,
         promoter: float = 0.75, detractor: float = 0.5, talk_rate: float = 0.5, negativity: float = 0.5):
    """`wom.talk` on a hand-built graph: returns (listeners, firms praised, praised, warned, buzz)."""
    n = len(firm)
    g = network.from_edges(n, np.array([a for a, _ in edges]), np.array([b for _, b in edges]))
    buzz = np.zeros((firms, n), F32)
    out = wom.talk(np.array(u, np.uint32), np.array(firm, np.int8), np.array(recommend, F32), g.indptr, g.indices,
                   buzz, F32(promoter), F32(detractor), int(cutoff(talk_rate)), int(cutoff(talk_rate * negativity)))
    return (*(x.tolist() for x in out), buzz.tolist())


def test_talkers_at_the_thresholds_and_shocks_at_the_cutoffs():
    praise, warn = int(cutoff(0.5)), int(cutoff(0.25))
    # each customer of firm 0 (0..4) has its own prospect (5..9); customer 0 also knows customer 2
    edges = [(0, 5), (1, 6), (2, 7), (3, 8), (4, 9), (0, 2)]
    firm = [0, 0, 0, 0, 0, -1, -1, -1, -1, -1]
    recommend = [0.75, 0.9, 0.25, 0.5, 0.1] + [1.0] * 5
    # 0 praises at the promoter threshold; 1 is silent at the praise cutoff; 2 warns (firm 0 counts);
    # 3 is passive at the detractor threshold; 4 is silent at the warning cutoff
    u = [praise - 1, praise, warn - 1, 0, warn] + [0] * 5
    listener, about, praised, warned, buzz = talk(edges, firm, recommend, u)
    assert praised == [2] and warned == [2]
    assert listener == [5] and about == [0]  # customer 2 heard the praise too, but it is no prospect
    assert buzz == [[-1, 0, 1, 0, 0, 1, 0, -1, 0, 0]]


def test_every_customer_praising_and_every_prospect_hearing_fit_the_scratch_arrays():
    # customers 0 and 1 of firm 0 praise each other and prospect 2: the most speakers and praise a kernel can hold
    listener, about, praised, warned, buzz = talk([(0, 1), (0, 2), (1, 2)], [0, 0, -1], [1.0, 1.0, 0.0], [0, 0, 0])
    assert listener == [2, 2] and about == [0, 0] and praised == [4] and warned == [0]
    assert buzz == [[1, 1, 2]]


def gaps(quality: float = 0.0, empathy: float = 0.0, price: float = 0.0, buzz: float = 0.0) -> np.ndarray:
    return np.array([quality, empathy, price, buzz], F32)


def test_churn_reason_weighs_the_gain_of_each_component_and_keeps_the_first_of_a_tie():
    # gains: empathy 0.5 - 0.4, price 0.2 - 0.15, quality 0.5 - 0.2 (the largest), buzz 0.5 - 0.4
    current, chosen = gaps(quality=0.5, empathy=0.5, price=0.2, buzz=0.4), gaps(quality=0.2, empathy=0.4,
                                                                                  price=0.15, buzz=0.5)
    assert cu.churn_reason(current, chosen, True, cu.EVENT_NONE) == cu.POOR_SERVICE
    # ties go to the component listed first: empathy, price, quality, buzz
    assert cu.churn_reason(gaps(empathy=0.25, price=0.25), gaps(), True, cu.EVENT_NONE) == cu.INDIFFERENCE
    assert cu.churn_reason(gaps(price=0.25, quality=0.25), gaps(), True, cu.EVENT_NONE) == cu.PRICE
    assert cu.churn_reason(gaps(quality=0.25), gaps(buzz=0.25), True, cu.EVENT_NONE) == cu.POOR_SERVICE


def test_customer_state_and_ratings_are_float32_and_compact_integers():
    market = MarketConfig(customers=2, initial_adoption=0.5, need_spread=0.0)
    c = cu.create(market, np.array([1.0]), (np.array([0.6]), np.array([0.4])),
                  Forced(random=[0.1, 0.9, 0.1, 0.9, 0.5, 0.5, 0.5, 0.5], normal=[0.0, 0.0]))
    dtypes = {k: str(getattr(c, k).dtype) for k in ("segment", "need", "firm", "quality", "felt_empathy",
                                                    "attachment", "since", "value", "last_event", "buzz", "response")}
    assert dtypes == {"segment": "int8", "need": "float32", "firm": "int8", "quality": "float32",
                      "felt_empathy": "float32", "attachment": "float32", "since": "int32", "value": "float32",
                      "last_event": "int8", "buzz": "float32", "response": "float32"}
    assert cu.satisfaction(c, slice(None), 0.5).dtype == np.float32


def test_recommendation_rounds_as_float32_arithmetic_does():
    # a satisfaction given in float64 is rounded to float32 before the response style is added, bit for bit
    s, response = 0.7535131086748066, F32(0.107628666)
    c = customers([0.5], [0], response=[response])
    r = cu.recommendation(c, np.array([s]), BehaviourConfig(nps_attachment=0.0))
    assert r.dtype == np.float32 and r[0] == F32(s) + response != F32(s + np.float64(response))


def test_the_population_splits_at_the_shares_and_picks_firms_by_their_cumulative_share():
    market = MarketConfig(customers=3, price_driven_share=0.5, initial_adoption=0.5, need_spread=0.0)
    rep = (np.array([0.6, 0.8]), np.array([0.4, 0.9]))
    rng = Forced(random=[0.5, 0.2, 0.2,  # segments: 0.5 is not below the price-driven share
                         0.5, 0.1, 0.1,  # served: 0.5 is not below the adoption rate
                         0.0, 0.25, 0.3,  # firms by cumulative shares 0.25 | 1 (right of a tie: the next firm)
                         0.0, 0.0, 0.0], normal=[0.0] * 3)
    c = cu.create(market, np.array([1.0, 3.0]), rep, rng)
    assert c.segment.tolist() == [cu.RELATIONSHIP_DRIVEN, cu.PRICE_DRIVEN, cu.PRICE_DRIVEN]
    assert c.firm.tolist() == [cu.NO_FIRM, 1, 1]
    small = cu.create(MarketConfig(customers=1, initial_adoption=1.0, need_spread=0.0), np.array([0.2, 0.6]), rep,
                      Forced(random=[0.0, 0.0, 0.3, 0.0], normal=[0.0]))
    assert small.firm.tolist() == [1]  # shares summing to 0.8 are normalised, not replaced by equal shares
    # seven equal shares sum to 1 - 2^-52: a uniform above that still picks the last firm
    seven = cu.create(MarketConfig(customers=1, initial_adoption=1.0, need_spread=0.0), np.ones(7),
                      (np.full(7, 0.5), np.full(7, 0.5)),
                      Forced(random=[0.0, 0.0, float(np.nextafter(1.0, 0.0)), 0.0], normal=[0.0]))
    assert seven.firm.tolist() == [6]


def acquisition_config(**wom_kw) -> SimConfig:
    """Utility 0 for the firm and for doing without: a prospect converts with chance 1/2 (more with buzz)."""
    return SimConfig(market=MarketConfig(outside_utility=0.0),
                     behaviour=BehaviourConfig(choice_noise=1.0, empathy_weight=0.0), wom=WomConfig(**wom_kw))


def test_every_firms_advertising_bounds_who_may_adopt():
    fs = fm.create([FirmConfig(advertising=0.5), FirmConfig(advertising=0.0)], 1.0)
    c = customers([0.0], [-1], firms=2)
    cfg = SimConfig(market=MarketConfig(outside_utility=-50.0), behaviour=BehaviourConfig(choice_noise=1.0),
                    wom=WomConfig(enabled=False))
    adopted = run_process(acquisition.adopt, rows([0.3]), customers=c, firms=fs, cfg=cfg).adopted  # firm 0's advert
    assert c.firm.tolist() == [0] and adopted.by_channel.tolist() == [[1, 0], [0, 0]]


def test_each_message_adds_its_hazard_and_buzz_lifts_conversion():
    fs = fm.create([FirmConfig(advertising=0.0)], 1.0)
    c = customers([0.0] * 3, [-1, -1, -1])
    c.buzz[0, 2] = 2 * np.log(4)  # buzz weight 0.5: utility ln 4, conversion 0.8
    praise = (np.array([0, 1, 2]), np.array([0, 0, 0]))  # one message each: referral hazard 1/2
    # adoption chances 0.25, 0.25 and 0.4
    cfg = acquisition_config(referral_strength=float(np.log(2)), buzz_weight=0.5)
    adopted = run_process(acquisition.adopt, rows([0.2, 0.3, 0.35]), heard(praise), customers=c, firms=fs,
                          cfg=cfg).adopted
    assert c.firm.tolist() == [0, -1, 0] and adopted.by_channel.tolist() == [[0, 2]]


def test_nobody_to_acquire():
    t = cu.taste(MarketConfig(), BehaviourConfig(), 0.0)
    none = np.zeros(0, np.int64)
    one = np.ones(1, F32)
    out = acquisition.prospects_adopt(np.zeros(0, np.uint32), np.zeros(0, np.int8), np.zeros(0, np.int8),
                                      np.zeros(0, F32), np.zeros((1, 0), F32), none, none, one, one, one, one,
                                      np.ones(1, bool), F32(0.5), t)
    assert [x.tolist() for x in out[:3]] == [[], [], []] and out[3] == 0


def adverts(*advertising: float, outside: float = 0.0, noise: float = 1.0, **market) -> tuple[fm.Firms, SimConfig]:
    """Firms of perfect reputed quality at price 1 that advertise, and a config without word of mouth."""
    cfg = SimConfig(market=MarketConfig(outside_utility=outside, **market), wom=WomConfig(enabled=False),
                    behaviour=BehaviourConfig(choice_noise=noise, empathy_weight=0.0))
    return fm.create([FirmConfig(advertising=a) for a in advertising], 1.0), cfg


def test_conversion_divides_the_utility_gap_by_the_noise_and_adopts_strictly_below_the_chance():
    fs, cfg = adverts(1.0, outside=-0.5 * float(np.log(3)), noise=0.5)  # gap ln 3 after the noise: converts 3/4
    c = customers([0.0] * 2, [-1, -1])
    run_process(acquisition.adopt, rows([0.7, 0.76]), customers=c, firms=fs, cfg=cfg)
    assert c.firm.tolist() == [0, -1]
    fs, cfg = adverts(1.0)  # converts 1/2 exactly
    c = customers([0.0] * 2, [-1, -1])
    run_process(acquisition.adopt, rows([0.4999, 0.5]), customers=c, firms=fs, cfg=cfg)
    assert c.firm.tolist() == [0, -1]


def test_a_price_driven_prospect_weighs_price_by_its_segments_sensitivity():
    fs, cfg = adverts(1.0, outside=-1.0, price_driven_price_sensitivity=2.0, relationship_price_sensitivity=0.5)
    fs.price[:] = 1.5  # price shortfall 0.5 * 2: utility -1, as doing without; converts 1/2
    c = customers([0.0], [-1])
    assert c.segment[0] == cu.PRICE_DRIVEN
    run_process(acquisition.adopt, rows([0.6]), customers=c, firms=fs, cfg=cfg)
    assert c.firm.tolist() == [-1]  # relationship-driven, it would have converted with chance 0.68


def test_a_firm_that_left_the_market_wins_nobody():
    fs, cfg = adverts(0.5, 0.5, outside=-50.0)
    fs.active[1] = False
    c = customers([0.0] * 2, [-1, -1], firms=2)
    adopted = run_process(acquisition.adopt, rows([0.6, 0.3]), customers=c, firms=fs, cfg=cfg).adopted  # below 1/2
    assert c.firm.tolist() == [-1, 0] and adopted.by_channel.tolist() == [[1, 0], [0, 0]]


def test_a_uniform_on_the_boundary_between_two_hazards_picks_the_later_one():
    fs, cfg = adverts(0.5, 0.5, outside=-50.0)  # hazards 1/2 and 1/2: adopts below 3/4, firm 0 below 3/8
    c = customers([0.0] * 2, [-1, -1], firms=2)
    run_process(acquisition.adopt, rows([0.375, 0.3749]), customers=c, firms=fs, cfg=cfg)
    assert c.firm.tolist() == [1, 0]


def test_the_review_range_is_the_review_rate_of_those_who_stay():
    cfg = SimConfig(market=MarketConfig(base_churn=0.1, outside_utility=10.0), wom=WomConfig(enabled=False),
                    behaviour=BehaviourConfig(review_rate=0.5))
    c = customers([0.0] * 2, [0, 0])
    # exit below 0.1, review below 0.1 + 0.9 * 0.5 = 0.55: a shock of 0.6 neither leaves nor reviews
    moves = run_process(choice.reconsider, rows([0.6, 0.5], [0.5, 0.5]), customers=c, firms=fm.create([FirmConfig()]),
                        cfg=cfg).moves
    assert c.firm.tolist() == [0, -1] and moves.churn.sum() == 1  # the reviewer leaves for the better outside


def test_a_reviewer_follows_the_buzz_to_a_rival():
    cfg = SimConfig(market=MarketConfig(base_churn=0.0, outside_utility=-10.0), wom=WomConfig(buzz_weight=1.0),
                    behaviour=BehaviourConfig(review_rate=1.0, choice_noise=0.01, switching_cost=0.0,
                                              attachment_weight=0.0, empathy_weight=0.0))
    c = customers([0.0], [0], firms=2, quality=[0.95])  # its own firm served it better than the rival's reputation
    c.buzz[1, 0] = 1.0
    moves = run_process(choice.reconsider, rows([0.5], [0.5]), customers=c,
                        firms=fm.create([FirmConfig(), FirmConfig()], 0.9), cfg=cfg).moves
    assert c.firm.tolist() == [1] and moves.churn[0, cu.COMPETITOR_PULL] == 1


def test_tally_adds_up_frustrated_and_failed_encounters_of_one_firm():
    yes, no = True, False
    per_firm = service.tally(
        firm=np.array([0, 0, 0, 0]), contacts=np.ones(4, np.int64), emotional=np.ones(4, bool),
        bot=np.array([yes, yes, no, no]), handed=np.zeros(4, bool), frustrated=np.array([yes, yes, no, no]),
        event=np.array([cu.EVENT_BOT_FRUSTRATION, cu.EVENT_BOT_FRUSTRATION, cu.EVENT_FAILED, cu.EVENT_FAILED],
                       np.int8),
        rating=np.zeros(4, F32), csat_threshold=F32(0.65), shop=np.zeros(0, np.int64), bought=np.zeros(0, np.int64),
        firms=1)
    assert per_firm[6].tolist() == [2] and per_firm[8].tolist() == [2]  # frustrated, failed


def review(c: cu.Customers, u_fate: list[int], t: cu.Taste, price: list[float], rep_quality: list[float],
           active: list[bool] | None = None, exit_cut: int = 0, review_cut: int = 2**32) -> list[list[int]]:
    """`choice.review` of a hand-built population (picks at 1/2; reputed warmth 0): exits, movers, dest, reason."""
    nf = len(price)
    out = choice.review(np.array(u_fate, np.uint32), np.full(c.n, 2**31, np.uint32), c.firm, c.segment, c.need,
                        c.quality, c.felt_empathy, c.attachment, c.last_event, c.buzz, np.array(price, F32),
                        np.array(rep_quality, F32), np.zeros(nf, F32),
                        np.array(active if active is not None else [True] * nf), exit_cut, review_cut, True, t)
    return [x.tolist() for x in out]


TASTE = cu.taste(MarketConfig(price_driven_price_sensitivity=2.0, relationship_price_sensitivity=0.0),
                 BehaviourConfig(quality_weight=1.0, empathy_weight=0.0, price_weight=1.0, switching_cost=0.0,
                                 attachment_weight=0.0, choice_noise=0.01), 1.0)


def test_review_exits_and_reviews_strictly_below_their_cutoffs_and_keeps_every_mover():
    c = customers([0.0] * 3, [0, 0, 0], quality=[1.0] * 3)
    # exit below 100, review below 200; doing without (utility 10) beats the firm
    exits, movers, dest, _ = review(c, [100, 200, 199], TASTE._replace(outside=F32(10)), [1.0], [1.0],
                                    exit_cut=100, review_cut=200)
    assert exits == [] and movers == [0, 2] and dest == [1, 1]


def test_a_price_driven_reviewer_weighs_price_by_its_segment():
    c = customers([0.0], [0], firms=2, quality=[0.95])  # better served than the rival's reputation 0.9
    assert c.segment[0] == cu.PRICE_DRIVEN
    # own price shortfall 0.5 * sensitivity 2 outweighs 0.05 of quality (relationship-driven: sensitivity 0)
    _, movers, dest, reason = review(c, [0], TASTE._replace(outside=F32(-100)), [1.5, 1.0], [0.9, 0.9])
    assert movers == [0] and dest == [1] and reason == [cu.PRICE]


def test_a_reviewer_never_picks_a_firm_that_left_the_market():
    c = customers([0.0], [1], firms=3, quality=[0.5])
    # firm 0 left (its reputation would win), firm 2 is worse than the own firm
    _, movers, _, _ = review(c, [0], TASTE._replace(outside=F32(-100)), [1.0, 1.0, 1.0], [1.0, 0.5, 0.1],
                             active=[False, True, True])
    assert movers == []


def test_leaving_for_doing_without_is_never_competitor_pull():
    c = customers([0.0], [0], quality=[1.0])
    c.buzz[0, 0] = -2.0  # warned about its firm: utility -2, below doing without (-1)
    _, movers, dest, reason = review(c, [0], TASTE._replace(outside=F32(-1)), [1.0], [1.0])
    assert movers == [0] and dest == [1] and reason == [cu.OTHER]


def route(market: MarketConfig, u_visit: list[int], u_staff: list[int] | None = None, staff: int = 1
          ) -> tuple[list[int], list[int], service.Routing]:
    """`service.route` for customers of one staffed firm without bots: buyers, their visits, and the encounters."""
    n = len(u_visit)
    w = em.Workforce(firm=np.zeros(staff, np.int16), status=np.full(staff, em.ACTIVE, np.int8),
                     skill=np.ones(staff, F32), engagement=np.ones(staff, F32), disposition=np.zeros(staff, F32),
                     burnout=np.zeros(staff, F32), tenure=np.full(staff, 10_000, np.int32),
                     refill_at=np.zeros(staff, np.int32))
    u = np.array([u_visit] + [[0] * n] * 3 + [u_staff or [0] * n], np.uint32)
    (buyers, bought, _), r = service.route(customers([0.5] * n, [0] * n), fm.create([FirmConfig(automation=0.0)]),
                                           em.roster(w, 1), w, service.visit_tables(market), market, np.zeros(1), u)
    assert bought.dtype == np.int64 and r.contacts.dtype == np.int64  # counts
    return buyers.tolist(), bought.tolist(), r


def test_a_customer_buys_from_each_visit_cutoff_on():
    market = MarketConfig(visit_rate=1.0, contacts_per_visit=1.0)
    first, second = (int(x) for x in service.visit_tables(market)[0][:2])
    buyers, bought, r = route(market, [first - 1, first, second - 1, second])  # a count from its cutoff on
    assert buyers == [1, 2, 3] and bought == [1, 1, 2] and r.contacts.tolist() == [1, 1, 2]


def test_no_visits_and_no_contacts():
    assert route(MarketConfig(visit_rate=0.0), [2**32 - 1])[:2] == ([], [])  # nobody ever buys
    market = MarketConfig(visit_rate=1.0, contacts_per_visit=0.0)
    buyers, bought, r = route(market, [2**32 - 1])  # the most visits a shock can give, none of them a contact
    assert bought == [(service.visit_tables(market)[0] < 2**32).sum()] and r.who.tolist() == []


def test_each_staff_member_serves_the_shocks_of_their_share():
    market = MarketConfig(visit_rate=1.0, contacts_per_visit=1.0)
    top = 2**32 - 1  # a visit for everyone
    # a roster of three: shocks in [0, 1/3) -> slot 0, [1/3, 2/3) -> slot 1, [2/3, 1) -> slot 2
    r = route(market, [top] * 3, u_staff=[0, 2**32 // 3 + 1, 2**32 - 1], staff=3)[2]
    assert r.server.tolist() == [0, 1, 2]


def test_felt_empathy_of_nobody_is_zero_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cu.felt_all(np.array([0.0, 1.0]), 0.7).tolist() == [0.0, 1.0]
