"""Employees: a workforce of slots per firm, their skill, engagement and burnout, quits and hires.

A slot is active (someone works there), vacant (being re-filled) or closed. Employees serve the
human contacts the service process assigns them. Engagement is an outcome of the job, after the
Job Demands-Resources model (Bakker & Demerouti 2007): resources (empathetic leadership, pay
against the market wage, the person's own disposition) raise it; demands (overload, and burnout
from the strain of emotional labour) drain it. The disengaged, the burnt out and the underpaid quit.
`EmployeeAgent` in `sim.agents` is the per-employee view.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.config import BehaviourConfig
from sim.rng import SHOCK_BITS

if TYPE_CHECKING:
    from sim.model import EmpathyMarket, Week

CLOSED, ACTIVE, VACANT = 0, 1, 2
F32 = np.float32


@dataclass
class Workforce:
    """State of every employee slot of every firm."""

    firm: np.ndarray  # int16: employer
    status: np.ndarray  # int8: CLOSED, ACTIVE or VACANT
    skill: np.ndarray  # float32 in [0,1]: empathy skill (hiring, training)
    engagement: np.ndarray  # float32 in [0,1]
    disposition: np.ndarray  # float32: personal engagement offset, drawn at hire (trait engagement)
    burnout: np.ndarray  # float32 in [0,1]
    tenure: np.ndarray  # int32: weeks in the job
    refill_at: np.ndarray  # int32: step a vacancy is filled

    @property
    def n(self) -> int:
        return len(self.firm)

    def active(self) -> np.ndarray:
        return self.status == ACTIVE

    def headcount(self, firms: int) -> np.ndarray:
        return np.bincount(self.firm[self.active()], minlength=firms)

    def competence(self, b: BehaviourConfig) -> np.ndarray:
        """Job competence: new hires lack `new_hire_gap`, learnt over `learning_weeks`."""
        return (1 - b.new_hire_gap * np.exp(-self.tenure / b.learning_weeks)).astype(F32)

    def service_factor(self, b: BehaviourConfig) -> np.ndarray:
        """Service-profit chain: disengaged employees deliver less of what they can."""
        return (1 - b.service_profit_chain * (1 - self.engagement)).astype(F32)


def hire_skill(empathy: np.ndarray, b: BehaviourConfig, rng: np.random.Generator) -> np.ndarray:
    """Empathy skill of new hires: empathetic hiring selects for it."""
    mean = b.hire_skill_base + b.hire_skill_empathy * empathy
    return np.clip(mean + b.hire_skill_spread * rng.standard_normal(len(empathy)), 0, 1).astype(F32)


def pay_ratio(wage: np.ndarray, market_wage: float) -> np.ndarray:
    """Pay relative to the local market wage (1 = the going rate); floored so that unpaid work is finite."""
    return np.maximum(np.asarray(wage, dtype=np.float64), 1e-3 * market_wage) / market_wage


def resources(empathy: np.ndarray, pay: np.ndarray, b: BehaviourConfig) -> np.ndarray:
    """Engagement the job's resources support: base, empathetic leadership, pay against the market.

    resources = engagement_base + leadership_effect * empathy + pay_engagement * ln(pay ratio).
    """
    return b.engagement_base + b.leadership_effect * empathy + b.pay_engagement * np.log(pay)


def engagement_target(resources: np.ndarray, disposition: np.ndarray) -> np.ndarray:
    """Engagement an unstrained employee settles at: the job's resources plus the person's disposition."""
    return np.clip(resources + disposition, 0, 1)


def create(staff: np.ndarray, empathy: np.ndarray, pay: np.ndarray, b: BehaviourConfig,
           rng: np.random.Generator) -> Workforce:
    """The starting staff: a mix of tenures, skills grown by past training, engagement at its resting level."""
    firm = np.repeat(np.arange(len(staff)), staff).astype(np.int16)
    n = len(firm)
    tenure = rng.integers(0, 156, n).astype(np.int32)
    skill = hire_skill(empathy[firm], b, rng)
    trained = 1 - (1 - b.training_rate * empathy[firm]) ** tenure
    disposition = (b.engagement_spread * rng.standard_normal(n)).astype(F32)
    return Workforce(
        firm=firm,
        status=np.full(n, ACTIVE, dtype=np.int8),
        skill=(skill + (1 - skill) * trained).astype(F32),
        engagement=engagement_target(resources(empathy, pay, b)[firm], disposition).astype(F32),
        disposition=disposition,
        burnout=np.zeros(n, dtype=F32),
        tenure=tenure,
        refill_at=np.zeros(n, dtype=np.int32),
    )


@dataclass
class Roster:
    """Active employees grouped by firm, to assign contacts in one vectorised draw."""

    order: np.ndarray
    start: np.ndarray
    count: np.ndarray

    def assign(self, firm: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A uniformly chosen active employee of each contact's firm; -1 where a firm has none.

        `u` holds one 32-bit shock per contact (see `sim.rng.shocks`).
        """
        nobody = len(self.order)  # a firm without staff points past the roster, to -1
        start = np.where(self.count > 0, self.start, nobody)
        pos = start[firm] + (u * self.count[firm] >> SHOCK_BITS)
        return np.append(self.order, -1)[pos]


def roster(w: Workforce, firms: int) -> Roster:
    """This week's roster: active employees sorted by employer."""
    active = np.flatnonzero(w.active())
    order = active[np.argsort(w.firm[active], kind="stable")]
    count = np.bincount(w.firm[order], minlength=firms).astype(np.int64)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    return Roster(order=order, start=start, count=count)


def strain(routine: np.ndarray, emotional: np.ndarray, capacity: np.ndarray, empathy: np.ndarray,
           b: BehaviourConfig) -> np.ndarray:
    """Weekly strain of each employee: workload weighted by emotional labour.

    strain = (routine_effort * routine + emotional_labour * (emotional_strain_base + empathy) * emotional)
             / capacity.
    Empathy demanded by the firm makes each emotional contact heavier.
    """
    emotional_weight = b.emotional_labour * (b.emotional_strain_base + empathy)
    return (b.routine_effort * routine + emotional_weight * emotional) / capacity


def update_wellbeing(w: Workforce, load: np.ndarray, strain_now: np.ndarray, empathy: np.ndarray,
                     support: np.ndarray, b: BehaviourConfig) -> None:
    """Burnout follows strain above a threshold; engagement follows resources minus demands.

    `support` is each slot's job resources (see `resources`); demands are overload and burnout.
    """
    on = w.active()
    burn_target = np.clip((strain_now - b.burnout_threshold) / (1 - b.burnout_threshold), 0, 1)
    w.burnout[on] += (b.burnout_rate * (burn_target - w.burnout))[on].astype(F32)
    demands = b.overload_effect * np.maximum(load - 1, 0) + b.burnout_drag * w.burnout
    target = engagement_target(support - demands, w.disposition)
    w.engagement[on] += (b.engagement_rate * (target - w.engagement))[on].astype(F32)
    w.skill[on] += (b.training_rate * empathy * (1 - w.skill))[on].astype(F32)
    w.tenure[on] += 1


@dataclass
class Work:
    """This week's work per slot, and who quit and who was hired."""

    load: np.ndarray  # contacts served / capacity
    quits: np.ndarray  # slots whose employee quit
    hires: np.ndarray  # slots filled by a new hire


def work(m: EmpathyMarket, week: Week) -> None:
    """4. Employees absorb the week's contacts: wellbeing changes, some quit, vacancies refill.

    Each slot's routine and emotional contacts come from the week's encounters; capacity, empathy
    and pay (relative to the market wage) are its firm's.
    """
    w, b = m.workforce, m.cfg.behaviour
    routine, emotional = week.enc.routine_per_employee, week.enc.emotional_per_employee
    capacity, empathy, pay = m.firms.per_firm("capacity"), m.firms.empathy, m.pay
    week.workforce_rng = m.streams.step("workforce", week.t)  # restaff draws from it too, later in the week
    slot_capacity, slot_empathy = capacity[w.firm], empathy[w.firm]
    load = (routine + emotional) / slot_capacity
    support = resources(empathy, pay, b)
    update_wellbeing(w, load, strain(routine, emotional, slot_capacity, slot_empathy, b), slot_empathy,
                     support[w.firm], b)
    quits, hires = quit_and_hire(w, week.t, empathy, pay, support, b, week.workforce_rng)
    week.work = Work(load=load, quits=quits, hires=hires)


def quit_chance(engagement: np.ndarray, burnout: np.ndarray, pay: np.ndarray, b: BehaviourConfig) -> np.ndarray:
    """Weekly quit chance: disengagement and burnout push people out, pay above the market holds them.

    p_quit = min(1, (base_quit + quit_disengaged (1 - engagement)^2 + quit_burnout burnout^2)
                    * pay^-pay_quit_elasticity)
    (an efficiency-wage effect: quits fall as pay rises above the going rate).
    """
    push = b.base_quit + b.quit_disengaged * (1 - engagement) ** 2 + b.quit_burnout * burnout**2
    return np.minimum(push * pay ** -b.pay_quit_elasticity, 1)


def quit_and_hire(w: Workforce, step: int, empathy: np.ndarray, pay: np.ndarray, support: np.ndarray,
                  b: BehaviourConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Employees quit (`quit_chance`); vacancies refill.

    A vacancy stays open a geometric number of weeks (mean `hire_weeks`); the new hire is less
    competent (tenure 0) and has the skill the firm's hiring selects. Returns (quits, hires) slots.
    """
    on = w.active()
    p_quit = quit_chance(w.engagement, w.burnout, pay[w.firm], b)
    u = rng.random(w.n)
    quits = np.flatnonzero(on & (u < p_quit))
    w.status[quits] = VACANT
    delay = rng.geometric(1 / (1 + b.hire_weeks), len(quits)) - 1
    w.refill_at[quits] = step + delay
    hires = np.flatnonzero((w.status == VACANT) & (w.refill_at <= step))
    fill(w, hires, empathy, support, b, rng)
    return quits, hires


def fill(w: Workforce, slots: np.ndarray, empathy: np.ndarray, support: np.ndarray, b: BehaviourConfig,
         rng: np.random.Generator) -> None:
    """New hires take the slots: skill from the firm's hiring, their own disposition, rested."""
    w.status[slots] = ACTIVE
    w.skill[slots] = hire_skill(empathy[w.firm[slots]], b, rng)
    w.disposition[slots] = (b.engagement_spread * rng.standard_normal(len(slots))).astype(F32)
    w.engagement[slots] = engagement_target(support[w.firm[slots]], w.disposition[slots])
    w.burnout[slots] = 0
    w.tenure[slots] = 0


def staff_needed(human_contacts: np.ndarray, capacity: np.ndarray, utilisation: float) -> np.ndarray:
    """Headcount that serves the expected human contacts at the target utilisation (at least 1)."""
    return np.array([max(1, math.ceil(h / (c * utilisation))) for h, c in zip(human_contacts, capacity, strict=True)])


def restaff(m: EmpathyMarket, week: Week) -> None:
    """9. Every `restaff_every` weeks, firms that staff to demand re-size to the recent human contacts."""
    b, fs = m.cfg.behaviour, m.firms
    m.recent_human_contacts += week.enc.human_contacts
    if week.done % b.restaff_every:
        return
    needed = staff_needed(m.recent_human_contacts / b.restaff_every, fs.per_firm("capacity"), b.target_utilisation)
    current = np.bincount(m.workforce.firm[m.workforce.status != CLOSED], minlength=fs.n)
    target = np.where([c.staff_to_demand and c.staff is None for c in fs.configs], needed, current) * fs.active
    m.workforce = resize(m.workforce, target, week.done, b, week.workforce_rng)
    m.recent_human_contacts[:] = 0


def resize(w: Workforce, target: np.ndarray, step: int, b: BehaviourConfig, rng: np.random.Generator) -> Workforce:
    """Open vacancies where a firm needs more staff; close vacancies (no lay-offs) where fewer."""
    slots = np.bincount(w.firm[w.status != CLOSED], minlength=len(target))
    excess = np.maximum(slots - target, 0)
    for f in np.flatnonzero(excess):
        vacant = np.flatnonzero((w.firm == f) & (w.status == VACANT))[: excess[f]]
        w.status[vacant] = CLOSED
    missing = np.maximum(target - slots, 0)
    if not missing.any():
        return w
    firm = np.repeat(np.arange(len(target)), missing).astype(np.int16)
    n = len(firm)
    delay = (rng.geometric(1 / (1 + b.hire_weeks), n) - 1).astype(np.int32)
    extra = Workforce(
        firm=firm, status=np.full(n, VACANT, dtype=np.int8), skill=np.zeros(n, F32), engagement=np.zeros(n, F32),
        disposition=np.zeros(n, F32), burnout=np.zeros(n, F32), tenure=np.zeros(n, np.int32), refill_at=step + delay,
    )
    return Workforce(*(np.concatenate([getattr(w, k), getattr(extra, k)]) for k in w.__dataclass_fields__))
