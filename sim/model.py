"""EmpathyMarket: the Mesa model that owns the state arrays and steps them in ODD schedule order.

State lives in arrays (customers, workforce, firms) stepped vectorised; Mesa `FirmAgent`s and
on-demand `CustomerAgent`/`EmployeeAgent` views are the readable face of that state.
One step is one week: the processes of `SCHEDULE`, in order, each one function of the ODD
(docs/ODD.md, section 3) taking the model (state, parameters, streams) and the week's context (`Week`).
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
    at_start: np.ndarray | None = None  # customers per firm and segment at the start of the week (set by step)
    moves: choice.Moves | None = None
    enc: service.Encounters | None = None
    workforce_rng: np.random.Generator | None = None
    work: employees.Work | None = None
    survey: survey.Survey | None = None
    talk: wom.Talk | None = None  # None when word of mouth is off
    adopted: acquisition.Adoptions | None = None

    @property
    def done(self) -> int:
        """Weeks completed when this one ends (the clock periodic reviews go by)."""
        return self.t + 1


# The weekly schedule: the ODD's processes in order, each a function of the market (its state,
# parameters and random streams) and the week's context, which it reads and adds its results to.
# docs/ODD.md section 3 lists the same functions in the same order (tests/test_odd.py checks it).
SCHEDULE: tuple[Callable[[EmpathyMarket, Week], None], ...] = (
    plan.apply,
    firms.set_prices,
    choice.reconsider,
    service.serve,
    employees.work,
    survey.survey,
    wom.spread,
    acquisition.adopt,
    metrics.account,
    employees.restaff,
    firms.adapt,
)


class EmpathyMarket(mesa.Model):
    """A local market: one focal small business and its competitors competing for customers.

    It is the context every process of `SCHEDULE` takes: the state (`customers`, `firms`,
    `workforce`, `graph`), the parameters (`cfg`) and the random streams (`streams`, `shocks`).
    """

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
        served = customers.per_firm(self.customers, n_firms)
        self.pay = employees.pay_ratio(self.firms.per_firm("wage"), cfg.market.market_wage)
        self.workforce = employees.create(self._staff_for(served), self.firms.empathy, self.pay, cfg.behaviour,
                                          self.streams.setup("workforce"))
        self.visit_tables = service.visit_tables(cfg.market)
        self._buyers = self._bought = np.zeros(0, dtype=np.int64)
        self.recorder = metrics.Recorder(self.firms.names)
        self.notes: list[str] = []
        self.recent_human_contacts = np.zeros(n_firms)  # since the last re-staffing (employees.restaff)
        self.customers_at_review = served.copy()  # at the last strategy review (firms.adapt)
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
        sized = employees.staff_needed(contacts, self.firms.per_firm("capacity"),
                                       self.cfg.behaviour.target_utilisation)
        return np.array([c.staff if c.staff is not None else s for c, s in zip(self.firms.configs, sized, strict=True)])

    def step(self) -> None:
        """One week: each process of the ODD schedule (`SCHEDULE`), in order, on this week's context."""
        week = Week(self.week, at_start=customers.per_segment(self.customers, self.firms.n))
        if self.week + 1 < self.cfg.run.burn_in + self.cfg.run.steps:
            self.streams.draw_ahead(self.week + 1, self.shocks_per_week, self.customers.n)
        for process in SCHEDULE:
            process(self, week)
        self._buyers, self._bought = week.enc.buyers, week.enc.bought
        self.week = week.done
        self.running = self.week < self.cfg.run.steps + self.cfg.run.burn_in  # Mesa's run_model() stops there

    @property
    def shocks_per_week(self) -> dict[str, int]:
        """Rows of customer shocks each stochastic customer process draws a week."""
        wanted = {"choice": choice.SHOCKS, "service": service.SHOCKS, "acquisition": acquisition.SHOCKS}
        return wanted | ({"wom": wom.SHOCKS} if self.cfg.wom.enabled else {})

    def shocks(self, process: str, t: int) -> np.ndarray:
        """The customer shocks of `process` in week `t` (`shocks_per_week` rows, one column per customer)."""
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
