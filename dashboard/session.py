"""Dashboard sessions: build models from the config tree, step them, change strategy levers live.

No UI here, so everything the page does is testable without a browser. A `Session` runs one
strategy ("A"), or up to four ("A".."D") side by side on the same seed: the same customers, graph
and random draws (the model draws from named streams per purpose and week), so any gap between
runs is caused by the strategy alone. A strategy is the levers (changeable live) plus settings
fixed at a reset (any config key: the incident, the price-driven share, a competitor's pricing
policy), so any setting can be posed as A/B. `Frame` is an immutable snapshot the page renders
while the models step on in another thread.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from dashboard import events, kpis, network_view
from sim.app import CONFIG_DIR, load_config
from sim.choice import weekly_discount
from sim.config import SimConfig, all_firms, check_value
from sim.employees import CLOSED
from sim.model import EmpathyMarket

DEFAULT_SCENARIO = "default"
FOCAL_LEVERS = ("empathy", "automation", "bot_handover", "price")
COMPETITOR_LEVERS = ("empathy", "automation", "price")
RUN_LABELS = ("A", "B", "C", "D")
MIN_STAFF = 5  # below this many posts a firm's workforce charts move a whole person at a time
ARRAY_OF = {"price": "base_price"}  # a live price change moves the firm's list price, policies act on it

Levers = dict[str, dict[str, float]]  # firm's config key ("firm", "competitors.big_box") -> lever -> value
Settings = dict[str, str]  # config key -> value as Hydra reads it, e.g. {"firm.incident_failure_rate": "0"}

_compose_lock = threading.Lock()  # Hydra's global state is not safe for two browser tabs composing at once


def scenarios() -> list[str]:
    """The scenario picker's options: no scenario, then every file in configs/scenario/."""
    return [DEFAULT_SCENARIO] + sorted(p.stem for p in (CONFIG_DIR / "scenario").glob("*.yaml"))


@dataclass(frozen=True)
class Market:
    """What a reset builds from, besides the strategies: scenario, market size and seed.

    `customers` None is the scenario's own market size (its `market.customers`): a scenario's
    staff, fixed costs and prices are set for that size, so only there does it make its money.
    """

    scenario: str = DEFAULT_SCENARIO
    customers: int | None = None
    seed: int = 0

    def overrides(self) -> list[str]:
        picked = [] if self.scenario == DEFAULT_SCENARIO else [f"scenario={self.scenario}"]
        size = [] if self.customers is None else [f"market.customers={self.customers}"]
        return picked + size + [f"seed={self.seed}", "run.progress=false"]


def compose(market: Market, levers: Levers | None = None, settings: Settings | None = None) -> SimConfig:
    """The config of a market with these levers and settings, composed as `python -m sim <overrides>` would."""
    values = [f"{key}.{lever}={float(v)!r}" for key, chosen in (levers or {}).items() for lever, v in chosen.items()]
    values += [f"{key}={value}" for key, value in (settings or {}).items()]
    with _compose_lock:
        return load_config(market.overrides() + values)


def firm_keys(cfg: SimConfig) -> dict[str, str]:
    """Config key of each firm -> its display name, focal firm first (the model's firm order)."""
    keys = ["firm"] + [f"competitors.{k}" for k in cfg.competitors]
    return dict(zip(keys, (f.name for f in all_firms(cfg)), strict=True))


def default_levers(cfg: SimConfig) -> Levers:
    """The levers a config sets: the focal firm's four, and three for each competitor."""
    firms = dict(zip(firm_keys(cfg), all_firms(cfg), strict=True))
    return {key: {lever: float(getattr(f, lever)) for lever in (FOCAL_LEVERS if key == "firm" else COMPETITOR_LEVERS)}
            for key, f in firms.items()}


def running_levers(model: EmpathyMarket) -> Levers:
    """The levers each firm runs now: an adaptive competitor moves its own price and automation."""
    arrays = {lever: getattr(model.firms, ARRAY_OF.get(lever, lever)) for lever in FOCAL_LEVERS}
    return {key: {lever: float(arrays[lever][i]) for lever in (FOCAL_LEVERS if key == "firm" else COMPETITOR_LEVERS)}
            for i, key in enumerate(firm_keys(model.cfg))}


def set_lever(model: EmpathyMarket, key: str, lever: str, value: float) -> None:
    """Change one firm's lever in a running model; it acts from the next week on."""
    value = check_value(f"{key}.{lever}", value)
    index = list(firm_keys(model.cfg)).index(key)
    getattr(model.firms, ARRAY_OF.get(lever, lever))[index] = value


def staff(model: EmpathyMarket) -> dict[str, int]:
    """Each firm's posts (filled or vacant) now: after the warm-up, the staff it runs at steady state."""
    w = model.workforce
    posts = np.bincount(w.firm[w.status != CLOSED], minlength=model.firms.n)
    return dict(zip(model.firms.names, posts.tolist(), strict=True))


def small_staff(posts: dict[str, int]) -> str:
    """The header's warning on firms too small for readable workforce charts ("" when none is).

    With fewer than `MIN_STAFF` people one quit moves engagement and burnout by a fifth or more and
    the headcount by a whole step, so those charts tell a few people's story, not a workforce's.
    """
    few = [f"{name} has {n}" for name, n in posts.items() if n < MIN_STAFF]
    if not few:
        return ""
    return (f"few staff: {', '.join(few)} after the warm-up (under {MIN_STAFF}, as the scenario sizes it), so its "
            "employees, engagement and burnout move a whole person at a time")


@dataclass(frozen=True, eq=False)
class RunView:
    """One model's state at a moment: its table, weekly KPIs, sampled network and event log."""

    table: pd.DataFrame
    weekly: pd.DataFrame
    nodes: network_view.Nodes
    events: list[events.Event]
    levers: Levers  # what each firm runs now (see running_levers)


@dataclass(frozen=True, eq=False)
class Frame:
    """What the page shows at one moment; compared by identity, so each step renders once."""

    week: int
    horizon: int
    firms: list[str]
    sample: network_view.Sample
    runs: dict[str, RunView]
    customers: int  # the market's size, as built
    staff: dict[str, int]  # each firm's posts after the warm-up (steady state), the fewest of the runs
    currency: str  # ISO 4217 code of every money figure (the scenario's market.currency)

    @property
    def compare(self) -> bool:
        return len(self.runs) > 1


class Session:
    """One strategy, or up to four on the same seed, stepped together week by week."""

    def __init__(self, market: Market, strategies: dict[str, Levers], sample_size: int = 300,
                 settings: dict[str, Settings] | None = None) -> None:
        if not 1 <= len(strategies) <= len(RUN_LABELS):
            raise ValueError(f"{len(strategies)} strategies: a session runs 1 to {len(RUN_LABELS)}")
        self.market = market
        self.settings = {label: dict((settings or {}).get(label, {})) for label in strategies}
        self.models = {label: EmpathyMarket(compose(market, levers, self.settings[label]))
                       for label, levers in strategies.items()}
        for model in self.models.values():  # a warm-up the model runs before it records (run.burn_in)
            while model.week < model.cfg.run.burn_in:
                model.step()
        first = next(iter(self.models.values()))
        each = [staff(model) for model in self.models.values()]
        self.staff = {name: min(posts[name] for posts in each) for name in each[0]}  # the smallest of the runs
        self.sample = network_view.sample(first.graph, sample_size, market.seed)
        self.changes: dict[str, list[events.Change]] = {label: [] for label in strategies}
        self._lock = threading.Lock()

    @property
    def week(self) -> int:
        """Weeks recorded so far (after the warm-up): the week counter's count."""
        first = next(iter(self.models.values()))
        return first.week - first.cfg.run.burn_in

    @property
    def horizon(self) -> int:
        return next(iter(self.models.values())).cfg.run.steps

    @property
    def done(self) -> bool:
        return self.week >= self.horizon

    def step(self, weeks: int = 1) -> None:
        """Advance every model the same number of weeks, stopping at the horizon."""
        with self._lock:
            for _ in range(max(0, min(weeks, self.horizon - self.week))):
                for model in self.models.values():
                    model.step()

    def set_lever(self, labels: list[str], key: str, lever: str, value: float) -> None:
        """Change a lever live in the named runs (competitors' levers go to all: same market); logged."""
        with self._lock:
            for label in labels:
                model = self.models[label]
                old = running_levers(model)[key][lever]
                set_lever(model, key, lever, value)
                change = events.Change(self.week, firm_keys(model.cfg)[key], lever, old, value)
                log = self.changes[label]
                if log and (log[-1].step, log[-1].firm, log[-1].lever) == (change.step, change.firm, lever):
                    change = replace(change, old=log.pop().old)  # a slider dragged in steps is one change
                if abs(change.new - change.old) > 1e-9:
                    log.append(change)

    def frame(self) -> Frame:
        """A consistent snapshot of every run, taken between steps."""
        with self._lock:
            runs = {label: self._view(model, self.changes[label]) for label, model in self.models.items()}
            first = next(iter(self.models.values()))
            return Frame(week=self.week, horizon=self.horizon, firms=first.firms.names, sample=self.sample, runs=runs,
                         customers=first.cfg.market.customers, staff=self.staff, currency=first.cfg.market.currency)

    def _view(self, model: EmpathyMarket, changes: list[events.Change]) -> RunView:
        table = model.recorder.table()
        return RunView(
            table=table,
            weekly=kpis.weekly(table, weekly_discount(model.cfg)),
            nodes=network_view.observe(model, self.sample),
            events=events.explain(table, model.notes, changes, incidents(model.cfg)),
            levers=running_levers(model),
        )


def incidents(cfg: SimConfig) -> list[events.Incident]:
    """The incidents the config schedules, in table steps (the model counts its warm-up too)."""
    return [events.Incident(f.name, f.incident_week, f.incident_weeks, f.incident_failure_rate)  # calendar weeks
            for f in all_firms(cfg) if f.incident_week is not None and f.incident_failure_rate > 0]


def strategies_for(levers: Levers, runs: int) -> dict[str, Levers]:
    """Strategy A alone, or A..D; each starts as a copy of A (same market, same competitors)."""
    return {label: copy.deepcopy(levers) for label in RUN_LABELS[:runs]}
