"""EmpathyMarket: the Mesa model that owns the state arrays and steps them in ODD schedule order.

State lives in arrays (customers, workforce, firms) stepped vectorised; Mesa `FirmAgent`s and
on-demand `CustomerAgent`/`EmployeeAgent` views are the readable face of that state.
One step is one week: the processes of `SCHEDULE`, in order, each a method over the week's context
(`Week`), each running one function of the ODD (docs/ODD.md, section 3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import mesa
import networkx as nx
import numpy as np

from sim import acquisition, choice, customers, employees, firms, metrics, network, plan, service, survey, wom
from sim.agents import CustomerAgent, EmployeeAgent, FirmAgent
from sim.config import SimConfig, all_firms, validate
from sim.rng import Streams


@dataclass
class Week:
    """One week's context: its number, and what each process hands the next (filled in schedule order)."""

    t: int  # the model's week, warm-up included
    at_start: np.ndarray | None = None  # customers per firm and segment at the start of the week
    moves: choice.Moves | None = None
    enc: service.Encounters | None = None
    workforce_rng: np.random.Generator | None = None
    work: employees.Work | None = None
    survey: survey.Survey | None = None
    talk: wom.Talk | None = None  # None when word of mouth is off
    adopted: acquisition.Adoptions | None = None


# The weekly schedule: (EmpathyMarket method, the sim function it runs), in order; docs/ODD.md section 3
# lists the same functions in the same order (tests/test_odd.py checks it).
SCHEDULE = (
    ("apply_plan", "sim.plan.Plan.apply"),
    ("set_prices", "sim.firms.set_prices"),
    ("reconsider", "sim.choice.reconsider"),
    ("serve", "sim.service.serve"),
    ("work", "sim.employees.work"),
    ("survey", "sim.survey.survey"),
    ("spread", "sim.wom.spread"),
    ("adopt", "sim.acquisition.adopt"),
    ("account", "sim.metrics.measure"),
    ("restaff", "sim.employees.restaff"),
    ("review", "sim.firms.adapt"),
)


class EmpathyMarket(mesa.Model):
    """A local market: one focal small business and its competitors competing for customers."""

    def __init__(self, cfg: SimConfig, graph: nx.Graph | network.Graph | None = None) -> None:
        cfg = validate(cfg)  # before Mesa seeds anything from it
        super().__init__(seed=cfg.seed)
        self.cfg = cfg
        self.streams = Streams(cfg.seed)
        self.week = 0
        self.firms = firms.create(all_firms(cfg), cfg.behaviour.initial_reputation_quality)
        n_firms = self.firms.n
        self.graph = network.prepare(graph, cfg.network, cfg.market.customers, self.streams.setup("graph"))
        self.customers = customers.create(
            cfg.market, self.firms.per_firm("initial_share"), self.firms.reputation, self.streams.setup("population")
        )
        served = metrics.customers_per_firm(self.customers, n_firms)
        self.pay = employees.pay_ratio(self.firms.per_firm("wage"), cfg.market.market_wage)
        self.workforce = employees.create(self._staff_for(served), self.firms.empathy, self.pay, cfg.behaviour,
                                          self.streams.setup("workforce"))
        self.visit_tables = service.visit_tables(cfg.market)
        self._buyers = self._bought = np.zeros(0, dtype=np.int64)
        self.recorder = metrics.Recorder(self.firms.names)
        self.notes: list[str] = []
        self._human_contacts = np.zeros(n_firms)
        self._customers_at_review = served.copy()
        self.start_customers = served.copy()  # customers when recording starts (after any burn-in)
        self.plan = plan.Plan(cfg, n_firms)  # dated changes of strategy after the warm-up (ODD 7.17)
        self.firm_agents = [FirmAgent(self, i) for i in range(n_firms)]
        self._views: dict[tuple[str, int], mesa.Agent] = {}
        self.running = True

    def _staff_for(self, customers_served: np.ndarray) -> np.ndarray:
        """Fixed headcounts where configured, else sized to the expected human contacts."""
        m = self.cfg.market
        contacts = customers_served * m.visit_rate * m.contacts_per_visit * firms.expected_human_share(
            self.firms, m.emotional_share + m.failure_rate
        )
        sized = firms.staff_needed(contacts, self.firms.per_firm("capacity"), self.cfg.behaviour.target_utilisation)
        return np.array([c.staff if c.staff is not None else s for c, s in zip(self.firms.configs, sized, strict=True)])

    def step(self) -> None:
        """One week: each process of the ODD schedule (`SCHEDULE`), in order, on this week's context."""
        week = Week(self.week)
        if self.week + 1 < self.cfg.run.burn_in + self.cfg.run.steps:
            self.streams.draw_ahead(self.week + 1, self.shocks_per_week, self.customers.n)
        for process, _ in SCHEDULE:
            getattr(self, process)(week)

    def apply_plan(self, week: Week) -> None:
        """0. A plan's changes due this week take effect, with their one-off costs, before prices are set."""
        self.plan.apply(self)

    def set_prices(self, week: Week) -> None:
        """1. Firms apply their pricing policies."""
        firms.set_prices(self.firms, week.t)

    def reconsider(self, week: Week) -> None:
        """2. Customers leave for reasons outside the model, or review their firm by logit choice."""
        week.at_start = metrics.customers_per_segment(self.customers, self.firms.n)
        week.moves = choice.reconsider(self.customers, self.firms, self.cfg, week.t, self._shocks("choice", week.t))

    def serve(self, week: Week) -> None:
        """3. Visits, and encounters with a bot or a person; customers learn from them."""
        cfg, fs = self.cfg, self.firms
        failure = firms.failure_rate(fs, self.calendar_week, cfg.market.failure_rate)
        week.enc = service.serve(self.customers, fs, self.workforce, employees.roster(self.workforce, fs.n),
                                 cfg.market, cfg.behaviour, self._discounted_margin(week.t), failure,
                                 self.visit_tables, self._shocks("service", week.t))
        self._buyers, self._bought = week.enc.buyers, week.enc.bought
        self._human_contacts += week.enc.human_contacts

    def work(self, week: Week) -> None:
        """4. Employees absorb the week's contacts: strain, burnout, engagement, training, quits, refills."""
        fs, enc = self.firms, week.enc
        week.workforce_rng = self.streams.step("workforce", week.t)
        week.work = employees.work(self.workforce, enc.routine_per_employee, enc.emotional_per_employee,
                                   fs.per_firm("capacity"), fs.empathy, self.pay, self.cfg.behaviour, week.t,
                                   week.workforce_rng)

    def survey(self, week: Week) -> None:
        """5. Every customer's satisfaction and willingness to recommend."""
        week.survey = survey.survey(self.customers, self.firms.n, self.cfg.behaviour)

    def spread(self, week: Week) -> None:
        """6. Promoters praise and detractors warn their neighbours (if word of mouth is on)."""
        cfg = self.cfg
        if cfg.wom.enabled:
            week.talk = wom.spread(self.customers, self.graph, week.survey.recommend, cfg.wom, cfg.behaviour,
                                   self._shocks("wom", week.t))

    def adopt(self, week: Week) -> None:
        """7. Prospects adopt a firm through its adverts or its customers' referrals."""
        praise = week.talk.praise if week.talk else None
        week.adopted = acquisition.adopt(self.customers, self.firms, praise, self.cfg, week.t,
                                         self._shocks("acquisition", week.t))

    def account(self, week: Week) -> None:
        """8. The week's accounts and metrics, reputations; the row is recorded after the warm-up."""
        cfg, fs, t = self.cfg, self.firms, week.t
        row = metrics.measure(self, week.at_start, week.moves, week.enc, week.work, week.survey, week.talk,
                              week.adopted)
        fs.profit_since_review += row["profit"]
        firms.update_reputation(fs, week.survey.customers, week.survey.quality, week.survey.felt_empathy)
        if t == cfg.run.burn_in:
            self.start_customers = week.at_start.sum(axis=1)
        if t >= cfg.run.burn_in:
            self.recorder.record(t - cfg.run.burn_in, row)
        self.week += 1
        if self.week >= cfg.run.steps + cfg.run.burn_in:
            self.running = False  # Mesa's run_model() stops at the horizon

    def restaff(self, week: Week) -> None:
        """9. Every `restaff_every` weeks, firms that staff to demand re-size to the recent human contacts."""
        if self.week % self.cfg.behaviour.restaff_every:
            return
        fs = self.firms
        needed = firms.staff_needed(self._human_contacts / self.cfg.behaviour.restaff_every, fs.per_firm("capacity"),
                                    self.cfg.behaviour.target_utilisation)
        current = np.bincount(self.workforce.firm[self.workforce.status != employees.CLOSED], minlength=fs.n)
        target = np.where([c.staff_to_demand and c.staff is None for c in fs.configs], needed, current) * fs.active
        self.workforce = employees.restaff(self.workforce, target, self.week, self.cfg.behaviour, week.workforce_rng)
        self._human_contacts[:] = 0

    def review(self, week: Week) -> None:
        """10. Every `adapt.every` weeks, adaptive firms review their strategy (and respond to losses)."""
        cfg, fs = self.cfg, self.firms
        if not cfg.adapt.enabled or self.week % cfg.adapt.every:
            return
        now = metrics.customers_per_firm(self.customers, fs.n)
        notes = firms.adapt(fs, now, self._customers_at_review, cfg.adapt, losses_count=self.calendar_week > 0)
        self.workforce.status[~fs.active[self.workforce.firm]] = employees.CLOSED  # a firm that left lays off
        self.notes += [f"week {self.calendar_week}: {note}" for note in notes]
        self._customers_at_review = now

    @property
    def shocks_per_week(self) -> dict[str, int]:
        """Rows of customer shocks each stochastic customer process draws a week."""
        wanted = {"choice": choice.SHOCKS, "service": service.SHOCKS, "acquisition": acquisition.SHOCKS}
        return wanted | ({"wom": wom.SHOCKS} if self.cfg.wom.enabled else {})

    def _shocks(self, process: str, t: int) -> np.ndarray:
        return self.streams.shocks(process, t, self.shocks_per_week[process], self.customers.n)

    @property
    def purchases(self) -> np.ndarray:
        """This week's visits (purchases) of every customer (built on demand: the step keeps only the buyers)."""
        out = np.zeros(self.customers.n, dtype=np.int64)
        out[self._buyers] = self._bought
        return out

    @property
    def calendar_week(self) -> int:
        """The week as the user counts it: 0 is the first recorded week, negative during the warm-up."""
        return self.week - self.cfg.run.burn_in

    def _discounted_margin(self, t: int) -> np.ndarray:
        """Each firm's margin per visit this week, discounted to step 0 (for realised CLTV)."""
        fs, m = self.firms, self.cfg.market
        return m.basket * (fs.price - fs.per_firm("unit_cost")) / (1 + choice.weekly_discount(self.cfg)) ** t

    def run(self, steps: int | None = None, progress: metrics.Progress | None = None,
            stop: Callable[[], bool] | None = None) -> None:
        """Step the model `steps` weeks (default: burn-in plus run.steps), or until `stop()` says so after a week."""
        total = steps if steps is not None else self.cfg.run.steps + self.cfg.run.burn_in
        for _ in range(total):
            self.step()
            if progress:
                progress.update(self.week, total)
            if stop is not None and stop():
                return

    def customer(self, i: int) -> CustomerAgent:
        """The Mesa agent view of customer i (created on first use)."""
        return self._view("customer", i, CustomerAgent)

    def employee(self, k: int) -> EmployeeAgent:
        """The Mesa agent view of employee slot k (created on first use)."""
        return self._view("employee", k, EmployeeAgent)

    def _view(self, kind: str, i: int, cls: type) -> mesa.Agent:
        if (kind, i) not in self._views:
            self._views[(kind, i)] = cls(self, i)
        return self._views[(kind, i)]
