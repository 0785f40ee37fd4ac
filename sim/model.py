"""EmpathyMarket: the Mesa model that owns the state arrays and steps them in ODD schedule order.

State lives in arrays (customers, workforce, firms) stepped vectorised; Mesa `FirmAgent`s and
on-demand `CustomerAgent`/`EmployeeAgent` views are the readable face of that state.
One step is one week:
    0. a plan's changes due     (sim.plan.Plan.apply)      dated changes of strategy, one-off costs
    1. firms set prices             (sim.firms.set_prices)
    2. customers reconsider         (sim.choice.reconsider)   churn and switching, with reasons
    3. service encounters           (sim.service.serve)       bot or person, experience, purchases
    4. employees work               (sim.employees)           strain, burnout, engagement, quits, hires
    5. word of mouth                (sim.wom.spread)           promoters refer, detractors warn
    6. prospects adopt              (sim.acquisition.adopt)    advertising and referrals
    7. accounts and metrics         (sim.metrics)
    8. firms re-size staff          (sim.employees.restaff)    every `behaviour.restaff_every` weeks
    9. adaptive competitors review  (sim.firms.adapt)          every `adapt.every` weeks
"""

from __future__ import annotations

import mesa
import networkx as nx
import numpy as np

from sim import acquisition, choice, customers, employees, firms, metrics, network, plan, service, wom
from sim.agents import CustomerAgent, EmployeeAgent, FirmAgent
from sim.config import SimConfig, all_firms, validate
from sim.rng import Streams


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
        """One week, in schedule order."""
        self.plan.apply(self)  # changes of strategy due this week take effect before prices are set
        cfg, t, b = self.cfg, self.week, self.cfg.behaviour
        c, fs = self.customers, self.firms
        firms.set_prices(fs, t)
        at_start = metrics.customers_per_segment(c, fs.n)
        moves = choice.reconsider(c, fs, cfg, t, self.streams.step("choice", t))
        enc = service.serve(c, fs, self.workforce, employees.roster(self.workforce, fs.n), cfg.market, b,
                            self._discounted_margin(t), firms.failure_rate(fs, self.calendar_week,
                                                                           cfg.market.failure_rate),
                            self.visit_tables, self.streams.step("service", t))
        self._buyers, self._bought = enc.buyers, enc.bought
        workforce_rng = self.streams.step("workforce", t)
        work = employees.work(self.workforce, enc.routine_per_employee, enc.emotional_per_employee,
                              fs.per_firm("capacity"), fs.empathy, self.pay, b, t, workforce_rng)
        self._human_contacts += enc.human_contacts
        survey = metrics.survey(c, fs.n, b)
        talk = wom.spread(c, self.graph, survey.recommend, cfg.wom, b, self.streams.step("wom", t)) \
            if cfg.wom.enabled else None
        adopted = acquisition.adopt(c, fs, talk.praise if talk else None, cfg, t, self.streams.step("acquisition", t))

        row = metrics.measure(self, at_start, moves, enc, work, survey, talk, adopted)
        fs.profit_since_review += row["profit"]
        firms.update_reputation(fs, survey.customers, survey.quality, survey.felt_empathy)
        if t == cfg.run.burn_in:
            self.start_customers = at_start.sum(axis=1)
        if t >= cfg.run.burn_in:
            self.recorder.record(t - cfg.run.burn_in, row)
        self.week += 1
        if self.week >= cfg.run.steps + cfg.run.burn_in:
            self.running = False  # Mesa's run_model() stops at the horizon
        if self.week % b.restaff_every == 0:
            self._restaff(workforce_rng)
        if cfg.adapt.enabled and self.week % cfg.adapt.every == 0:
            now = metrics.customers_per_firm(c, fs.n)
            notes = firms.adapt(fs, now, self._customers_at_review, cfg.adapt, losses_count=self.calendar_week > 0)
            self.workforce.status[~fs.active[self.workforce.firm]] = employees.CLOSED  # a firm that left lays off
            self.notes += [f"week {self.calendar_week}: {note}" for note in notes]
            self._customers_at_review = now

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

    def _restaff(self, rng: np.random.Generator) -> None:
        """Firms that staff to demand re-size their headcount to the recent human contacts."""
        fs = self.firms
        needed = firms.staff_needed(self._human_contacts / self.cfg.behaviour.restaff_every, fs.per_firm("capacity"),
                                    self.cfg.behaviour.target_utilisation)
        current = np.bincount(self.workforce.firm[self.workforce.status != employees.CLOSED], minlength=fs.n)
        target = np.where([c.staff_to_demand and c.staff is None for c in fs.configs], needed, current) * fs.active
        self.workforce = employees.restaff(self.workforce, target, self.week, self.cfg.behaviour, rng)
        self._human_contacts[:] = 0

    def run(self, steps: int | None = None, progress: metrics.Progress | None = None) -> None:
        """Step the model `steps` weeks (default: burn-in plus run.steps)."""
        total = steps if steps is not None else self.cfg.run.steps + self.cfg.run.burn_in
        for _ in range(total):
            self.step()
            if progress:
                progress.update(self.week, total)

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
