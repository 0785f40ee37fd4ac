"""Mesa agents: FirmAgent, CustomerAgent, EmployeeAgent — readable views of the state arrays.

The model steps arrays, not agents, so that a million customers step in a fraction of a second;
these views read (and write) one agent's entries, for inspection, teaching and the dashboard.

Mesa 3.3 numbers agents through a class-level table, `mesa.Agent._ids`, keyed by model and never
emptied, so every model that ever made an agent stays alive for the life of the process (fixed
upstream in Mesa 3.4.2, which needs Python 3.12). Importing this module swaps that table for one
holding its models weakly (`WeakIds`): numbering is unchanged, and a dropped model is collected,
so loops of runs in one process (Optuna trials, SALib samples, notebooks, the dashboard) keep a
flat memory.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim import customers as cu
from sim.employees import ACTIVE, CLOSED, VACANT

if TYPE_CHECKING:
    from sim.model import EmpathyMarket


class WeakIds(weakref.WeakKeyDictionary):
    """Mesa's per-model agent-id counters (`mesa.Agent._ids`), holding the models weakly."""

    def __getitem__(self, model: mesa.Model) -> itertools.count:
        counter = self.get(model)
        if counter is None:
            counter = self[model] = itertools.count(1)
        return counter


if not isinstance(mesa.Agent._ids, WeakIds):  # Mesa 3.3's defaultdict holds every model for good
    mesa.Agent._ids = WeakIds(mesa.Agent._ids)


class FirmAgent(mesa.Agent):
    """A firm: the focal business (index 0) or a competitor."""

    model: EmpathyMarket

    def __init__(self, model: EmpathyMarket, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def name(self) -> str:
        return self.model.firms.configs[self.index].name

    @property
    def role(self) -> str:
        return "focal" if self.index == 0 else "competitor"

    @property
    def price(self) -> float:
        return float(self.model.firms.price[self.index])

    @property
    def empathy(self) -> float:
        return float(self.model.firms.empathy[self.index])

    @property
    def automation(self) -> float:
        return float(self.model.firms.automation[self.index])

    @property
    def customers(self) -> int:
        return int(np.count_nonzero(self.model.customers.firm == self.index))

    @property
    def employees(self) -> int:
        return int(self.model.workforce.headcount(self.model.firms.n)[self.index])

    def __repr__(self) -> str:
        return f"FirmAgent({self.name!r}, {self.role}, price={self.price:.2f}, customers={self.customers})"


class View:
    """An unregistered view of one array entry: what `ArrayAgents` hands out, so inspecting adds no Mesa agent."""

    def __init__(self, model: EmpathyMarket, index: int) -> None:
        self.model = model
        self.index = index


class CustomerState:
    """The readable state of customer `self.index` (shared by the registered agent and the plain view)."""

    model: EmpathyMarket
    index: int

    @property
    def segment(self) -> str:
        return "price-driven" if self.model.customers.segment[self.index] == cu.PRICE_DRIVEN else "relationship-driven"

    @property
    def firm(self) -> FirmAgent | None:
        f = int(self.model.customers.firm[self.index])
        return None if f == cu.NO_FIRM else self.model.firm_agents[f]

    @property
    def empathy_need(self) -> float:
        return float(self.model.customers.need[self.index])

    @property
    def perceived_quality(self) -> float:
        return float(self.model.customers.quality[self.index])

    @property
    def felt_empathy(self) -> float:
        return float(self.model.customers.felt_empathy[self.index])

    @property
    def attachment(self) -> float:
        return float(self.model.customers.attachment[self.index])

    @property
    def response_style(self) -> float:
        """How much higher (or lower) than others this customer rates any firm."""
        return float(self.model.customers.response[self.index])

    @property
    def neighbours(self) -> list[int]:
        g = self.model.graph
        return g.indices[g.indptr[self.index] : g.indptr[self.index + 1]].tolist()

    def __repr__(self) -> str:
        firm = self.firm.name if self.firm else "none"
        return f"CustomerAgent({self.index}, {self.segment}, firm={firm}, quality={self.perceived_quality:.2f})"


class EmployeeState:
    """The readable state of employee slot `self.index`."""

    model: EmpathyMarket
    index: int

    @property
    def employer(self) -> FirmAgent:
        return self.model.firm_agents[int(self.model.workforce.firm[self.index])]

    @property
    def status(self) -> str:
        return {ACTIVE: "active", VACANT: "vacant", CLOSED: "closed"}[int(self.model.workforce.status[self.index])]

    @property
    def empathy_skill(self) -> float:
        return float(self.model.workforce.skill[self.index])

    @property
    def engagement(self) -> float:
        return float(self.model.workforce.engagement[self.index])

    @property
    def burnout(self) -> float:
        return float(self.model.workforce.burnout[self.index])

    def __repr__(self) -> str:
        return (f"EmployeeAgent({self.index}, {self.employer.name}, {self.status}, "
                f"engagement={self.engagement:.2f}, burnout={self.burnout:.2f})")


class CustomerAgent(CustomerState, mesa.Agent):
    """One customer: a node of the word-of-mouth graph, registered with the model (`model.customer(i)`)."""

    def __init__(self, model: EmpathyMarket, index: int) -> None:
        mesa.Agent.__init__(self, model)
        self.index = index


class EmployeeAgent(EmployeeState, mesa.Agent):
    """One employee slot of a firm (active, vacant or closed), registered with the model (`model.employee(k)`)."""

    def __init__(self, model: EmpathyMarket, index: int) -> None:
        mesa.Agent.__init__(self, model)
        self.index = index


class CustomerView(CustomerState, View):
    """A customer as `ArrayAgents` hands it out: the same state, not registered with Mesa."""


class EmployeeView(EmployeeState, View):
    """An employee slot as `ArrayAgents` hands it out, not registered with Mesa."""


class ArrayAgents:
    """An AgentSet-like face of the customers or employees: len, iteration, indexing, `get`, `select`, `agg`.

    Mesa's AgentSet holds one Python object per agent; this reads the model's arrays instead, so a
    million customers cost nothing until looked at, and `model.agents` keeps only the firms. `get`
    returns a NumPy array straight from the state (`ATTRIBUTES` maps an attribute to its array).
    """

    ATTRIBUTES = {
        "customers": {"firm": "firm", "empathy_need": "need", "perceived_quality": "quality",
                      "felt_empathy": "felt_empathy", "attachment": "attachment", "response_style": "response"},
        "employees": {"employer": "firm", "empathy_skill": "skill", "engagement": "engagement", "burnout": "burnout"},
    }

    def __init__(self, model: EmpathyMarket, kind: str, indices: np.ndarray | None = None) -> None:
        if kind not in self.ATTRIBUTES:
            raise ValueError(f"kind={kind!r} is not allowed: choose one of {', '.join(self.ATTRIBUTES)}")
        self.model, self.kind = model, kind
        self._indices = None if indices is None else np.asarray(indices)

    def _state(self) -> object:
        return self.model.customers if self.kind == "customers" else self.model.workforce

    @property
    def indices(self) -> np.ndarray:
        """The members' array positions; all of them, read afresh, unless this set was selected."""
        return np.arange(len(self._state().firm)) if self._indices is None else self._indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> CustomerView | EmployeeView:
        cls = CustomerView if self.kind == "customers" else EmployeeView
        return cls(self.model, int(self.indices[i]))

    def __iter__(self) -> Iterator[CustomerView | EmployeeView]:
        return (self[i] for i in range(len(self)))

    def get(self, attr: str) -> np.ndarray:
        """One attribute of every member, as an array (e.g. `model.customer_set.get("attachment")`)."""
        known = self.ATTRIBUTES[self.kind]
        if attr not in known:
            raise AttributeError(f"{self.kind} have no array attribute {attr!r}: choose one of {', '.join(known)}")
        return getattr(self._state(), known[attr])[self.indices]

    def select(self, mask: np.ndarray | Callable[[ArrayAgents], np.ndarray]) -> ArrayAgents:
        """The members where `mask` (a boolean array over them, or a function of this set returning one) is true."""
        chosen = np.asarray(mask(self) if callable(mask) else mask, dtype=bool)
        return ArrayAgents(self.model, self.kind, self.indices[chosen])

    def agg(self, attr: str, func: Callable[[np.ndarray], float]) -> float:
        """`func` over one attribute of every member, e.g. `agg("attachment", np.mean)`."""
        return float(func(self.get(attr)))

    def __repr__(self) -> str:
        return f"ArrayAgents({self.kind}, {len(self)})"
