"""The plan: dated changes of strategy, what each costs once, and how a new bot ramps up (ODD 7.17).

A lever set in the config acts as if it had always been in place: staff already trained,
reputation already earned, the bot already tuned. A plan instead changes levers at given calendar
weeks of a business that ran as it is (the status quo) through the warm-up. A change takes effect
at the start of its week, before prices are set, and works only through the model's mechanisms:

- empathy: the weekly programme cost and skill training (`behaviour.training_rate`) start at the new
  level, new hires are selected for it, engagement follows leadership, customers feel it encounter
  by encounter and reputation follows what they feel. A rise also costs a one-off course:
  staff x `plan.training_hours` x rise x (`plan.training_cost` + wage / `plan.hours_per_week`);
- automation: a rise costs `plan.bot_setup_cost` per unit added, and the bot lacks a share of its
  quality on the contacts it has just taken on (`plan.bot_launch_gap`, weighted by the share of its
  contacts that are new), a gap that shrinks by a factor e every `plan.bot_ramp_weeks` weeks;
- price: seen at once (the pricing policy applies it the same week);
- wage: pay relative to the market wage changes engagement and quits from that week;
- any other lever (advertising, promotions, fixed costs...) acts from that week;
- `cost`: an explicit one-off amount the focal firm pays that week.

With no change due and no bot ramping, nothing here touches the model: a plan that changes
nothing runs byte for byte as the status quo.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

import numpy as np

from sim import employees
from sim.config import PLAN_COST, SimConfig, plan_target

if TYPE_CHECKING:
    from sim.model import EmpathyMarket, Week


class Plan:
    """The dated changes of one run, by calendar week, and the plan's state: this week's one-off costs, bot gaps."""

    def __init__(self, cfg: SimConfig, n_firms: int) -> None:
        self.cfg = cfg.plan
        self.due: dict[int, list[tuple[int, str, object]]] = {}
        self.costs: dict[int, float] = {}
        for i, dated in enumerate(cfg.plan.changes):
            week = dated["week"]
            for key, value in dated.items():
                if key == PLAN_COST:
                    self.costs[week] = self.costs.get(week, 0.0) + value
                elif key != "week":
                    firm, lever = plan_target(cfg, key, f"plan.changes[{i}]")
                    self.due.setdefault(week, []).append((firm, lever, value))
        self.one_off = np.zeros(n_firms)  # this week's one-off costs per firm (cost line `one_off`)
        self.bot_gap = np.zeros(n_firms)  # share of each firm's bot quality still missing


def apply(m: EmpathyMarket, week: Week) -> None:
    """0. Start of a week: ramp the bots on, apply the changes due this calendar week, book their one-off costs."""
    fs, p, calendar_week = m.firms, m.plan, m.calendar_week
    p.one_off = np.zeros(fs.n)
    ramping = bool(p.bot_gap.any())
    if ramping:
        p.bot_gap *= math.exp(-1 / p.cfg.bot_ramp_weeks)
    for firm, lever, value in p.due.get(calendar_week, ()):
        change(m, firm, lever, value)
    p.one_off[0] += p.costs.get(calendar_week, 0.0)
    if ramping or calendar_week in p.due:
        fs.bot_quality[:] = fs.per_firm("bot_quality") * (1 - p.bot_gap)


def change(m: EmpathyMarket, i: int, lever: str, value: object) -> None:
    """One lever of firm i takes its new value; a rise in empathy or automation is paid for once."""
    fs, p, costs = m.firms, m.plan, m.plan.cfg
    fs.configs[i] = dataclasses.replace(fs.configs[i], **{lever: value})
    if lever == "empathy":
        rise = max(float(value) - fs.empathy[i], 0.0)
        staff = m.workforce.headcount(fs.n)[i]
        hourly = costs.training_cost + fs.configs[i].wage / costs.hours_per_week  # the course, the trainee's pay
        p.one_off[i] += staff * costs.training_hours * rise * hourly
        fs.empathy[i] = value
    elif lever == "automation":
        old, new = fs.automation[i], float(value)
        if new > old:
            p.one_off[i] += costs.bot_setup_cost * (new - old)
            p.bot_gap[i] = (p.bot_gap[i] * old + costs.bot_launch_gap * (new - old)) / new
        elif new == 0:
            p.bot_gap[i] = 0.0
        fs.automation[i] = new
    elif lever == "bot_handover":
        fs.bot_handover[i] = value
    elif lever == "price":
        fs.base_price[i] = value
    elif lever == "wage":
        m.pay = employees.pay_ratio(fs.per_firm("wage"), m.cfg.market.market_wage)
    # bot_quality is set from the configs with the ramp (apply); other levers are read from the configs
