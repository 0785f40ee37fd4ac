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
    from sim.model import EmpathyMarket


class Plan:
    """The dated changes of one run, by calendar week, and the plan's state: this week's one-off costs, bot gaps."""

    def __init__(self, cfg: SimConfig, n_firms: int) -> None:
        self.cfg = cfg.plan
        self.due: dict[int, list[tuple[int, str, object]]] = {}
        self.costs: dict[int, float] = {}
        for i, change in enumerate(cfg.plan.changes):
            week = change["week"]
            for key, value in change.items():
                if key == PLAN_COST:
                    self.costs[week] = self.costs.get(week, 0.0) + value
                elif key != "week":
                    firm, lever = plan_target(cfg, key, f"plan.changes[{i}]")
                    self.due.setdefault(week, []).append((firm, lever, value))
        self.one_off = np.zeros(n_firms)  # this week's one-off costs per firm (cost line `one_off`)
        self.bot_gap = np.zeros(n_firms)  # share of each firm's bot quality still missing

    def apply(self, model: EmpathyMarket) -> None:
        """Start of a week: ramp the bots on, apply the changes due this calendar week, book their one-off costs."""
        fs, week = model.firms, model.calendar_week
        self.one_off = np.zeros(fs.n)
        ramping = bool(self.bot_gap.any())
        if ramping:
            self.bot_gap *= math.exp(-1 / self.cfg.bot_ramp_weeks)
        for firm, lever, value in self.due.get(week, ()):
            self._change(model, firm, lever, value)
        self.one_off[0] += self.costs.get(week, 0.0)
        if ramping or week in self.due:
            fs.bot_quality[:] = fs.per_firm("bot_quality") * (1 - self.bot_gap)

    def _change(self, model: EmpathyMarket, i: int, lever: str, value: object) -> None:
        """One lever of firm i takes its new value; a rise in empathy or automation is paid for once."""
        fs, p = model.firms, self.cfg
        fs.configs[i] = dataclasses.replace(fs.configs[i], **{lever: value})
        if lever == "empathy":
            rise = max(float(value) - fs.empathy[i], 0.0)
            staff = model.workforce.headcount(fs.n)[i]
            hourly = p.training_cost + fs.configs[i].wage / p.hours_per_week  # the course, and the trainee's pay
            self.one_off[i] += staff * p.training_hours * rise * hourly
            fs.empathy[i] = value
        elif lever == "automation":
            old, new = fs.automation[i], float(value)
            if new > old:
                self.one_off[i] += p.bot_setup_cost * (new - old)
                self.bot_gap[i] = (self.bot_gap[i] * old + p.bot_launch_gap * (new - old)) / new
            elif new == 0:
                self.bot_gap[i] = 0.0
            fs.automation[i] = new
        elif lever == "bot_handover":
            fs.bot_handover[i] = value
        elif lever == "price":
            fs.base_price[i] = value
        elif lever == "wage":
            model.pay = employees.pay_ratio(fs.per_firm("wage"), model.cfg.market.market_wage)
        # bot_quality is set from the configs with the ramp (apply); other levers are read from the configs
