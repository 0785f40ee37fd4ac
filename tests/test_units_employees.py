"""Exact unit tests of the employee processes: hiring, the starting staff, rostering, wellbeing, quits, re-staffing."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sim import employees as em
from sim import firms as fm
from sim.config import BehaviourConfig, FirmConfig, SimConfig
from sim.model import Week
from tests.forced import F32, Forced, run_process, u32

A, V, C = em.ACTIVE, em.VACANT, em.CLOSED


def slots(status: list[int], firm: list[int] | None = None, **state: list[float]) -> em.Workforce:
    n = len(status)
    s = {"skill": [0.5] * n, "engagement": [0.8] * n, "disposition": [0.0] * n, "burnout": [0.0] * n,
         "tenure": [5] * n, "refill_at": [0] * n, **state}
    return em.Workforce(firm=np.array(firm or [0] * n, np.int16), status=np.array(status, np.int8),
                        skill=np.array(s["skill"], F32), engagement=np.array(s["engagement"], F32),
                        disposition=np.array(s["disposition"], F32), burnout=np.array(s["burnout"], F32),
                        tenure=np.array(s["tenure"], np.int32), refill_at=np.array(s["refill_at"], np.int32))


def test_hire_skill_is_base_plus_empathetic_hiring_plus_spread_clipped():
    b = BehaviourConfig(hire_skill_base=0.3, hire_skill_empathy=0.4, hire_skill_spread=0.1)
    skill = em.hire_skill(np.array([0.0, 1.0, 1.0, 0.0]), b, Forced(normal=[0.0, 1.0, 10.0, -10.0]))
    assert skill.tolist() == pytest.approx([0.3, 0.8, 1.0, 0.0]) and skill.dtype == F32


def test_pay_ratio_is_relative_to_the_market_wage_and_floored():
    assert em.pay_ratio(np.array([0.0, 250.0, 500.0, 1000.0]), 500.0).tolist() == pytest.approx([1e-3, 0.5, 1, 2])


def test_the_starting_staff_has_trained_skill_and_engagement_at_rest():
    b = BehaviourConfig(training_rate=0.02, hire_skill_base=0.3, hire_skill_empathy=0.4, hire_skill_spread=0.1,
                        engagement_spread=0.1, engagement_base=0.6, leadership_effect=0.15, pay_engagement=0.1)
    rng = Forced(integers=[10, 0, 5], normal=[0.0, 0.0, 0.0, 1.0, 0.0, -1.0])
    w = em.create(np.array([2, 1]), np.array([0.5, 0.0]), np.array([1.0, np.e]), b, rng)
    assert rng.integers_range == (0, 156)
    assert w.firm.tolist() == [0, 0, 1] and (w.status == A).all() and w.tenure.tolist() == [10, 0, 5]
    assert w.skill.tolist() == pytest.approx([0.5 + 0.5 * (1 - 0.99**10), 0.5, 0.3], abs=1e-6)
    assert w.disposition.tolist() == pytest.approx([0.1, 0.0, -0.1])
    assert w.engagement.tolist() == pytest.approx([0.775, 0.675, 0.6], abs=1e-6)
    assert (w.burnout == 0).all() and (w.refill_at == 0).all() and w.n == 3
    assert w.headcount(3).tolist() == [2, 1, 0]


def test_the_roster_assigns_uniformly_among_a_firms_active_staff():
    w = slots([A, A, V, A], firm=[1, 0, 1, 0])
    team = em.roster(w, 3)
    assert team.order.tolist() == [1, 3, 0] and team.count.tolist() == [2, 1, 0] and team.start.tolist() == [0, 2, 3]
    got = team.assign(np.array([0, 0, 1, 2]), u32(0.1, 0.9, 0.99, 0.5).astype(np.int64))
    assert got.tolist() == [1, 3, 0, -1]  # firm 2 has nobody


def test_wellbeing_moves_burnout_engagement_skill_and_tenure_of_active_slots_only():
    b = BehaviourConfig(burnout_threshold=0.5, burnout_rate=0.5, overload_effect=0.6, burnout_drag=0.4,
                        engagement_rate=0.5, training_rate=0.1)
    w = slots([A, V], engagement=[0.8, 0.8], disposition=[0.1, 0.1])
    em.update_wellbeing(w, np.array([1.5, 1.5]), np.array([0.75, 0.75]), np.array([1.0, 1.0]),
                        np.array([0.8, 0.8]), b)
    # burnout towards (0.75 - 0.5) / 0.5 = 0.5 at rate 0.5; demands 0.6 * 0.5 + 0.4 * 0.25; target 0.8 - 0.4 + 0.1
    assert w.burnout.tolist() == pytest.approx([0.25, 0.0])
    assert w.engagement.tolist() == pytest.approx([0.8 + 0.5 * (0.5 - 0.8), 0.8], abs=1e-6)
    assert w.skill.tolist() == pytest.approx([0.55, 0.5]) and w.tenure.tolist() == [6, 5]
    w = slots([A], burnout=[0.5])
    em.update_wellbeing(w, np.array([0.5]), np.array([0.1]), np.zeros(1), np.array([0.6]), b)
    assert w.burnout.tolist() == pytest.approx([0.25])  # below the threshold it heals


def test_quits_open_vacancies_that_refill_after_a_geometric_wait():
    b = BehaviourConfig(base_quit=0.1, quit_disengaged=0.0, quit_burnout=0.0, pay_quit_elasticity=0.0, hire_weeks=3.0,
                        hire_skill_base=0.3, hire_skill_empathy=0.4, engagement_spread=0.1)
    w = slots([A, A, A, V, C], firm=[0, 0, 1, 0, 0], refill_at=[0, 0, 0, 7, 0], tenure=[9] * 5)
    rng = Forced(random=[0.05, 0.5, 0.09, 0.0, 0.0], geometric=[1, 3], normal=[0.0, 0.0, 1.0, -1.0])
    quits, hires = em.quit_and_hire(w, 7, np.array([1.0, 0.0]), np.ones(2), np.array([0.5, 0.4]), b, rng)
    assert rng.geometric_p == pytest.approx(0.25)
    assert quits.tolist() == [0, 2] and hires.tolist() == [0, 3]  # slot 0 refills at once, slot 2 in 2 weeks
    assert w.status.tolist() == [A, A, V, A, C] and w.refill_at.tolist() == [7, 0, 9, 7, 0]
    assert w.skill[[0, 3]].tolist() == pytest.approx([0.7, 0.7]) and w.tenure.tolist() == [0, 9, 9, 0, 9]
    assert w.disposition[[0, 3]].tolist() == pytest.approx([0.1, -0.1])
    assert w.engagement[[0, 3]].tolist() == pytest.approx([0.6, 0.4])


def test_work_returns_the_load_and_the_moves():
    b = BehaviourConfig(base_quit=0.0, quit_disengaged=0.0, quit_burnout=0.0)
    w = slots([A, A], firm=[0, 1])
    firms = fm.create([FirmConfig(capacity=40.0, empathy=0.5), FirmConfig(capacity=20.0, empathy=0.5)])
    contacts = SimpleNamespace(routine_per_employee=np.array([10, 30]), emotional_per_employee=np.array([10, 0]))
    week = Week(3, enc=contacts)
    out = run_process(em.work, week=week, rng=np.random.default_rng(0), workforce=w, firms=firms, pay=np.ones(2),
                      cfg=SimConfig(behaviour=b)).work
    assert out.load.tolist() == pytest.approx([0.5, 1.5]) and len(out.quits) == len(out.hires) == 0
    assert w.tenure.tolist() == [6, 6] and w.engagement[1] < w.engagement[0]  # the overloaded slot disengages


def test_resize_closes_vacancies_never_active_slots_and_opens_new_ones():
    b = BehaviourConfig(hire_weeks=1.0)
    w = slots([A, V, V, A, C], firm=[0, 0, 0, 1, 1])
    rng = Forced(geometric=[1, 2])
    out = em.resize(w, np.array([1, 3]), 10, b, rng)
    assert rng.geometric_p == pytest.approx(0.5)  # mean wait hire_weeks = 1: p = 1 / (1 + 1)
    assert out.status.tolist() == [A, C, C, A, C, V, V]
    assert out.firm.tolist() == [0, 0, 0, 1, 1, 1, 1] and out.refill_at[5:].tolist() == [10, 11]
    same = slots([A, V])
    assert em.resize(same, np.array([2]), 4, b, Forced()) is same
    assert same.status.tolist() == [A, V]


def test_resize_counts_a_firm_without_slots_and_opens_its_first():
    out = em.resize(slots([A]), np.array([1, 2]), 0, BehaviourConfig(hire_weeks=0.0), Forced(geometric=[1, 1]))
    assert out.firm.tolist() == [0, 1, 1] and out.status.tolist() == [A, V, V]
    assert out.burnout.dtype == np.float32 and out.status.dtype == np.int8


def test_engagement_rests_between_zero_and_one_however_poor_or_rich_the_job():
    assert em.engagement_target(np.array([-0.5, 0.5, 1.5]), np.array([0.1, 0.1, 0.1])).tolist() == \
        pytest.approx([0.0, 0.6, 1.0])


def test_burnout_heads_for_at_most_one_however_great_the_strain():
    b = BehaviourConfig(burnout_threshold=0.5, burnout_rate=1.0)
    w = slots([A])
    em.update_wellbeing(w, np.array([1.0]), np.array([10.0]), np.zeros(1), np.array([0.8]), b)
    assert w.burnout.tolist() == pytest.approx([1.0])


def test_the_quit_chance_is_at_most_one_and_a_shock_equal_to_it_stays():
    b = BehaviourConfig(base_quit=0.5, quit_disengaged=0.0, quit_burnout=0.0, pay_quit_elasticity=1.0)
    assert em.quit_chance(np.ones(1), np.zeros(1), np.array([0.25]), b).tolist() == [1.0]  # 0.5 / 0.25 capped
    w = slots([A])
    b = BehaviourConfig(base_quit=0.5, quit_disengaged=0.0, quit_burnout=0.0, pay_quit_elasticity=0.0)
    quits, _ = em.quit_and_hire(w, 0, np.zeros(1), np.ones(1), np.ones(1), b, Forced(random=[0.5]))
    assert quits.tolist() == []  # u < p quits; u == p does not


def test_a_new_hire_starts_rested():
    w = slots([V], burnout=[0.7])
    em.fill(w, np.array([0]), np.zeros(1), np.array([0.6]), BehaviourConfig(), Forced(normal=[0.0, 0.0]))
    assert w.burnout.tolist() == [0.0] and w.status.tolist() == [A]


def test_the_roster_keeps_slot_order_within_a_firm_for_large_teams():
    """A stable sort: with many colleagues an unstable one would reorder them and change who serves whom."""
    firm = [1, 0] * 20
    w = slots([A] * 40, firm=firm)
    r = em.roster(w, 2)
    assert r.order.tolist() == list(range(1, 40, 2)) + list(range(0, 40, 2))


def test_training_grows_skill_in_proportion_to_empathy():
    b = BehaviourConfig(training_rate=0.2)
    w = slots([A, A], firm=[0, 1], skill=[0.5, 0.5])
    em.update_wellbeing(w, np.zeros(2), np.zeros(2), np.array([0.5, 0.25]), np.array([0.6, 0.6]), b)
    assert w.skill.tolist() == pytest.approx([0.5 + 0.2 * 0.5 * 0.5, 0.5 + 0.2 * 0.25 * 0.5])


def test_a_hires_disposition_is_the_spread_times_a_normal_draw():
    w = slots([V, V])
    em.fill(w, np.array([0, 1]), np.zeros(1), np.array([0.5]), BehaviourConfig(engagement_spread=0.1),
            Forced(normal=[0.0, 0.0, 2.0, -1.0]))
    assert w.disposition.tolist() == pytest.approx([0.2, -0.1])
    assert w.engagement.tolist() == pytest.approx([0.7, 0.4])
