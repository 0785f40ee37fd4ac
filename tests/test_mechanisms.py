"""Each behavioural mechanism, shown by a comparison that fails if it is removed or reversed.

Runs are paired on seeds (common random numbers): the same customers, graph and shocks under
both settings, so differences are caused by the setting alone.
"""

from __future__ import annotations

import numpy as np

from sim import customers as cu
from tests.conftest import run

SEEDS = range(4)


def focal(result, key):
    return result.summary["firms"]["Focal"][key]


def cohort_retention(result, segment):
    """Share of the focal firm's initial customers of a segment still with it at the end."""
    c = result.model.customers
    kept = (c.firm == 0) & (c.since == cu.INITIAL_COHORT) & (c.segment == segment)
    initial = initial_focal(result) & (c.segment == segment)
    return kept.sum() / initial.sum()


def initial_focal(result):
    """Customers the focal firm served at the start (the population draw is strategy-independent)."""
    from sim.customers import create
    from sim.rng import Streams

    m = result.model
    stream = Streams(m.cfg.seed).setup("population")
    first = create(m.cfg.market, m.firms.per_firm("initial_share"), m.firms.reputation, stream)
    return first.firm == 0


def test_empathy_raises_retention_of_relationship_driven_customers():
    gains = [
        cohort_retention(run("firm.empathy=0.9", seed=s), cu.RELATIONSHIP_DRIVEN)
        - cohort_retention(run("firm.empathy=0.1", seed=s), cu.RELATIONSHIP_DRIVEN)
        for s in SEEDS
    ]
    assert np.mean(gains) > 0.03 and min(gains) > 0


def test_empathy_matters_more_to_relationship_driven_customers():
    """At the defaults, all channels on: the log-odds gain in retention from empathy 0.1 -> 0.9 is at most
    half as large for price-driven customers; at price parity a cold firm keeps its price-driven customers
    within 5 points of a warm one (research.patterns measures the same on more seeds)."""
    def log_odds(p):
        return np.log(p / (1 - p))

    def segments(*overrides, s):
        return [focal(run(*overrides, seed=s), "segments")[g]["retention_rate"] for g in cu.SEGMENTS]

    gains = np.mean([log_odds(np.array(segments("firm.empathy=0.9", s=s)))
                     - log_odds(np.array(segments("firm.empathy=0.1", s=s))) for s in SEEDS], axis=0)
    price_driven, relationship = gains
    assert relationship > 0.5 and 0 < price_driven <= 0.5 * relationship
    parity = ["market.price_driven_share=0.9", "firm.price=0.9", "competitors.big_box.price=0.9",
              "competitors.online.price=0.9", "competitors.big_box.pricing=fixed",
              "competitors.online.pricing=fixed", "adapt.enabled=false"]
    warm = np.mean([segments(*parity, "firm.empathy=0.9", s=s)[0] for s in SEEDS])
    cold = np.mean([segments(*parity, "firm.empathy=0.1", s=s)[0] for s in SEEDS])
    assert abs(warm - cold) < 0.05


def test_retention_is_steady_after_the_warm_up():
    """Year 1 and year 2 after the default warm-up lie within 5 points, inside the retail band (0.63 +- 0.10)."""
    years = np.mean([[y["retention_rate"] for y in focal(run(seed=s, steps=104), "years")] for s in SEEDS], axis=0)
    assert abs(years[0] - years[1]) < 0.05
    assert all(0.53 <= r <= 0.73 for r in years)


def test_pay_above_the_market_engages_and_holds_staff():
    """Paired on seeds: the better paid team is more engaged and quits less; with pay's two effects off (and
    no rival watching profits), the wage changes nothing but the wage bill."""
    def workforce(wage, *more):  # teams of about 25 (capacity 20): a few people's dispositions would be all
        rs = [run(f"firm.wage={wage}", "firm.capacity=20", *more, seed=s) for s in SEEDS]
        return (np.mean([focal(r, "employee_engagement") for r in rs]), np.mean([focal(r, "employee_turnover")
                                                                                for r in rs]))

    low, high = workforce(400), workforce(650)
    assert high[0] > low[0] + 0.03 and high[1] < low[1]
    off = ("behaviour.pay_engagement=0", "behaviour.pay_quit_elasticity=0", "adapt.enabled=false")  # rivals
    # imitate the most profitable firm, and the wage bill moves profit
    a, b = run("firm.wage=400", *off), run("firm.wage=650", *off)
    assert a.table["quits"].sum() == b.table["quits"].sum()
    assert a.table["customers"].equals(b.table["customers"])


def test_engagement_is_an_outcome_not_the_lever():
    """Across firms that differ in empathy, pay, staffing and demand, engagement follows empathy only loosely
    and goes with CSAT and against staff turnover (research.patterns runs 200 firms; published r ~ .33, -.30)."""
    from research.patterns import engagement_links, firm_sample

    links = engagement_links(firm_sample(40, ["market.customers=1500", "run.steps=26", "run.burn_in=52"], n_jobs=1),
                             boot=50).set_index("with")["r"]
    assert links["empathy"] < 0.9
    assert 0.1 < links["csat"] < 0.7
    assert links["employee_turnover"] < 0


def test_a_bot_without_a_person_disappoints_those_who_want_one():
    """CSAT sees bots: full automation without hand-over rates far lower when customers expect a person."""
    bots = ("firm.automation=1", "firm.bot_handover=0")
    expecting = np.mean([focal(run(*bots, seed=s), "csat") for s in SEEDS])
    indifferent = np.mean([focal(run(*bots, "behaviour.expect_person=0", seed=s), "csat") for s in SEEDS])
    assert indifferent > expecting + 0.1


def test_indifference_churn_needs_the_empathy_weight():
    """Low empathy drives churn for indifference; with the claim turned off there is none."""
    low = "firm.empathy=0.1"
    assert focal(run(low), "churn_by_reason")["indifference"] > focal(run("firm.empathy=0.9"), "churn_by_reason")[
        "indifference"
    ]
    off = run(low, "behaviour.empathy_weight=0")
    assert all(f["churn_by_reason"]["indifference"] == 0 for f in off.summary["firms"].values())


def test_bots_without_handover_cause_bot_frustration_churn():
    auto = "firm.automation=0.8"
    without = [focal(run(auto, "firm.bot_handover=0", seed=s), "churn_by_reason")["bot_frustration"] for s in SEEDS]
    with_ = [focal(run(auto, "firm.bot_handover=1", seed=s), "churn_by_reason")["bot_frustration"] for s in SEEDS]
    assert min(np.subtract(without, with_)) > 0
    assert sum(with_) == 0  # a bot that always hands over never frustrates
    lost_without = np.mean([focal(run(auto, "firm.bot_handover=0", seed=s), "retention_rate") for s in SEEDS])
    lost_with = np.mean([focal(run(auto, "firm.bot_handover=1", seed=s), "retention_rate") for s in SEEDS])
    assert lost_without < lost_with


def test_higher_price_loses_price_driven_customers_first():
    """From the cheapest rival's price (0.85: no floor effect of price-driven customers already gone) up by 0.3."""
    for s in SEEDS:
        cheap, dear = run("firm.price=0.85", seed=s), run("firm.price=1.15", seed=s)
        loss_price = cohort_retention(cheap, cu.PRICE_DRIVEN) - cohort_retention(dear, cu.PRICE_DRIVEN)
        loss_rel = cohort_retention(cheap, cu.RELATIONSHIP_DRIVEN) - cohort_retention(dear, cu.RELATIONSHIP_DRIVEN)
        assert loss_price > loss_rel > -0.02
        assert focal(dear, "churn_by_reason")["price"] > focal(cheap, "churn_by_reason")["price"]


def test_word_of_mouth_off_means_no_referrals():
    on = run("wom.enabled=true")
    off = run("wom.enabled=false")
    assert sum(f["acquisitions_by_channel"]["referral"] for f in on.summary["firms"].values()) > 0
    assert sum(f["acquisitions_by_channel"]["referral"] for f in off.summary["firms"].values()) == 0
    assert off.table["referrals_sent"].sum() == 0


def test_denser_graph_spreads_referrals_faster():
    def referrals(degree, s):
        t = run(f"network.mean_degree={degree}", seed=s, steps=26).table
        return t["acquisitions_referral"].sum()

    for s in SEEDS:
        assert referrals(20, s) > referrals(4, s)


def test_overload_raises_burnout_and_turnover():
    def workforce(staff):
        rs = [run(f"firm.staff={staff}", "firm.automation=0", "market.customers=10000", seed=s) for s in SEEDS]
        return np.mean([focal(r, "employee_burnout") for r in rs]), np.mean([focal(r, "employee_turnover") for r in rs])

    burnout_lean, turnover_lean = workforce(4)
    burnout_ample, turnover_ample = workforce(16)
    assert burnout_lean > burnout_ample + 0.05
    assert turnover_lean > turnover_ample


def test_emotional_labour_strength_zero_removes_burnout():
    lean = ["firm.staff=3", "firm.automation=0", "firm.empathy=1"]
    with_labour = focal(run(*lean), "employee_burnout")
    without = focal(run(*lean, "behaviour.emotional_labour=0", "behaviour.routine_effort=0"), "employee_burnout")
    assert with_labour > 0.01 and without == 0


def test_empathy_pays_less_in_a_price_driven_market():
    """Raising empathy from 0.1 to 0.9 wins far more share, and more profit, where customers buy on relationship.

    Eight seeds: with two-person teams a single quit moves a small firm's wage bill, so profit is noisy;
    the share gained is the steadier measure of the diminishing return.
    """
    def gain(share, s):
        hi = run("firm.empathy=0.9", f"market.price_driven_share={share}", seed=s)
        lo = run("firm.empathy=0.1", f"market.price_driven_share={share}", seed=s)
        return [focal(hi, k) - focal(lo, k) for k in ("market_share", "profit")]

    relationship_market = np.mean([gain(0.1, s) for s in range(8)], axis=0)
    price_market = np.mean([gain(0.9, s) for s in range(8)], axis=0)
    assert relationship_market[0] > 1.5 * price_market[0] > 0
    assert relationship_market[1] > 1.1 * price_market[1]


def test_response_styles_keep_an_empathetic_shops_nps_below_saturation():
    """Without response styles nearly every satisfied customer of an empathetic shop is a promoter."""
    with_styles = np.mean([focal(run("firm.empathy=0.9", seed=s), "nps") for s in SEEDS])
    without = np.mean([focal(run("firm.empathy=0.9", "market.response_spread=0", seed=s), "nps") for s in SEEDS])
    assert without > with_styles + 10


def focal_rows(result):
    return result.table[result.table.firm == "Focal"]


def test_empathy_earns_more_referrals_per_customer():
    def praise_per_customer(empathy, s):
        t = focal_rows(run(f"firm.empathy={empathy}", seed=s))
        return t["referrals_sent"].sum() / t["customers"].sum()

    def referral_acquisitions(empathy):
        return np.mean([focal(run(f"firm.empathy={empathy}", seed=s), "acquisitions_by_channel")["referral"]
                        for s in SEEDS])

    for s in SEEDS:
        assert praise_per_customer(0.9, s) > 2 * praise_per_customer(0.1, s)
    assert referral_acquisitions(0.9) > referral_acquisitions(0.1)


def test_disengaged_staff_serve_worse_only_through_the_service_profit_chain():
    """Means over seeds: with few staff, a seed's quits and vacancies move CSAT as much as the chain does."""
    disengaged = ("behaviour.engagement_base=0.1", "behaviour.leadership_effect=0")
    chain = np.mean([focal(run(*disengaged, seed=s), "csat") for s in SEEDS])
    no_chain = np.mean([focal(run(*disengaged, "behaviour.service_profit_chain=0", seed=s), "csat") for s in SEEDS])
    engaged = np.mean([focal(run("behaviour.engagement_base=1", seed=s), "csat") for s in SEEDS])
    assert no_chain > chain + 0.03
    assert engaged > chain + 0.05


def test_automation_frees_staff_and_wages():
    for s in SEEDS:
        manual, automated = focal_rows(run("firm.automation=0", seed=s)), focal_rows(run("firm.automation=0.8", seed=s))
        assert automated["employees"].mean() < 0.6 * manual["employees"].mean()
        assert automated["cost_wages"].sum() < manual["cost_wages"].sum()
