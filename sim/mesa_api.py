"""The model as Mesa's own tools expect it: built from keyword levers, with a DataCollector, stopping at its horizon.

    from sim.mesa_api import Market
    model = Market(empathy=0.8, seed=3, customers=2000, steps=26)
    model.run_model()                                  # stops at the horizon: running turns False
    model.datacollector.get_model_vars_dataframe()     # the focal firm's KPIs, week by week
    mesa.batch_run(Market, parameters={"empathy": [0, 0.5, 1], "seed": range(5)}, max_steps=26)

Keywords are config keys: a dotted key (`**{"market.customers": 2000}`), a firm lever by its bare
name (`empathy`, `automation`, `price`, ... of `firm`), or one of the short names in `SHORT`. They
are composed and checked exactly as `python -m sim` overrides (`sim.app.load_config`); a bad one
raises ConfigError. `customer_set` and `employee_set` reach every customer and employee through
`sim.agents.ArrayAgents`, without registering thousands of Mesa agents.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import mesa

from sim.agents import ArrayAgents
from sim.app import load_config
from sim.config import FirmConfig
from sim.model import EmpathyMarket

SHORT = {"customers": "market.customers", "steps": "run.steps", "burn_in": "run.burn_in"}
FIRM_LEVERS = {f.name for f in dataclasses.fields(FirmConfig)}
REPORTED = ("customers", "market_share", "retention_rate", "nps", "csat", "revenue", "profit", "engagement",
            "turnover")  # metrics.parquet columns the DataCollector records for the focal firm


def override(key: str, value: Any) -> str:
    """A keyword as a command-line override: `empathy=0.8` -> `firm.empathy=0.8`."""
    path = SHORT.get(key) or (f"firm.{key}" if key in FIRM_LEVERS else key)
    text = "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    return f"{path}={text}"


def focal_kpi(model: EmpathyMarket, key: str) -> float:
    """The focal firm's value of a weekly metric in the latest recorded week (NaN during a burn-in)."""
    return float(model.recorder.rows[-1][1][key][0]) if model.recorder.rows else float("nan")


class Market(EmpathyMarket):
    """EmpathyMarket from keyword levers, with `datacollector`, `customer_set`/`employee_set`, and a horizon."""

    def __init__(self, seed: int = 0, *, progress: bool = False, **levers: Any) -> None:
        cfg = load_config([*(override(k, v) for k, v in levers.items()), f"seed={seed}",
                           f"run.progress={str(progress).lower()}"])
        super().__init__(cfg)
        self.datacollector = mesa.DataCollector(
            model_reporters={"week": "week"} | {k: functools.partial(focal_kpi, key=k) for k in REPORTED})
        self.customer_set = ArrayAgents(self, "customers")
        self.employee_set = ArrayAgents(self, "employees")

    def step(self) -> None:
        """One week (`running` turns False at the horizon), then record the focal firm's KPIs."""
        super().step()
        self.datacollector.collect(self)
