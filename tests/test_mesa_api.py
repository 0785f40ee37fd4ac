"""The model as Mesa's tools use it: keyword levers, batch_run, run_model stopping at the horizon, array-backed sets."""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd
import pytest

from sim.agents import ArrayAgents, CustomerView, FirmAgent
from sim.app import load_config
from sim.config import ConfigError
from sim.mesa_api import REPORTED, Market
from sim.results import simulate

SMALL = {"customers": 400, "steps": 4, "burn_in": 0}


def test_batch_run_sweeps_keyword_levers():
    rows = mesa.batch_run(Market, parameters={"empathy": [0.0, 1.0], "seed": [0, 1], **SMALL}, max_steps=100,
                          number_processes=1, display_progress=False)
    table = pd.DataFrame(rows)
    assert len(table) == 4 and set(table["empathy"]) == {0.0, 1.0}
    assert (table["Step"] == 3).all() and (table["week"] == 4).all()  # stopped at the horizon, not at max_steps
    assert set(REPORTED) <= set(table.columns) and table["profit"].notna().all()
    # the same run as the command line's: the last week's focal profit equals metrics.parquet's
    cli = simulate(load_config(["firm.empathy=1.0", "seed=1", "market.customers=400", "run.steps=4",
                                "run.burn_in=0", "run.progress=false"])).table
    row = table[(table["empathy"] == 1.0) & (table["seed"] == 1)].iloc[0]
    last_week = cli[(cli["step"] == 3) & (cli["firm"] == cli["firm"].iloc[0])]
    assert row["profit"] == pytest.approx(last_week["profit"].item())


def test_run_model_stops_at_the_horizon_and_collects_every_week():
    model = Market(seed=2, **{"market.customers": 400, "run.steps": 3, "run.burn_in": 2})
    model.run_model()
    assert model.running is False and model.week == 5
    kpis = model.datacollector.get_model_vars_dataframe()
    assert len(kpis) == 5 and kpis["profit"].isna().sum() == 2  # nothing is recorded during the burn-in


def test_bad_keywords_are_config_errors():
    with pytest.raises(ConfigError, match=r"^firm.empathy=3.0 is out of range"):
        Market(empathy=3, **SMALL)
    with pytest.raises(ConfigError, match="unknown key 'empathyy'"):
        Market(**{"firm.empathyy": 1}, **SMALL)


def test_array_sets_reach_every_customer_without_registering_agents():
    model = Market(seed=0, **SMALL)
    before = len(model.agents)
    customers = model.customer_set
    assert len(customers) == 400 and isinstance(customers[5], CustomerView)
    assert customers[5].attachment == pytest.approx(float(model.customers.attachment[5]))
    assert np.array_equal(customers.get("firm"), model.customers.firm)
    served = customers.select(lambda s: s.get("firm") == 0)
    assert len(served) == int((model.customers.firm == 0).sum()) and all(c.firm.index == 0 for c in served)
    assert served.agg("empathy_need", np.mean) == pytest.approx(model.customers.need[model.customers.firm == 0].mean())
    staff = model.employee_set
    assert len(staff) == len(model.workforce.firm) and staff.get("engagement").shape == (len(staff),)
    model.run_model()
    assert len(model.employee_set) == len(model.workforce.firm)  # follows restaffing
    assert len(model.agents) == before == len(model.agents_by_type[FirmAgent])  # only the firms are Mesa agents
    with pytest.raises(AttributeError, match="choose one of"):
        customers.get("wealth")
    assert repr(ArrayAgents(model, "customers")) == "ArrayAgents(customers, 400)"
