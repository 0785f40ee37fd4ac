"""Invariants of every run: conservation, shares, bounded rates, no NaN, money adds up."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sim.app import load_config
from sim.results import SUMMARY, save, simulate
from tests.conftest import run

RATES = ("retention_rate", "churn_rate", "market_share", "revenue_share", "csat", "employee_engagement",
         "cohort_retention")


@pytest.mark.parametrize("overrides", [(), ("network=scale_free", "firm.automation=0.9"), ("competitors=none",)])
def test_invariants(overrides):
    r = run(*overrides, seed=1)
    t = r.table
    n = r.model.cfg.market.customers
    assert not t.select_dtypes("number").isna().any().any()
    assert np.isfinite(t.select_dtypes("number").to_numpy(dtype=float)).all()
    per_step = t.groupby("step")
    assert np.allclose(per_step["market_share"].sum(), 1)
    assert ((per_step["customers"].sum() + per_step["prospects"].first()) == n).all()
    assert np.allclose(t["revenue"] - t["costs"], t["profit"])
    for col in ("retention_rate", "csat", "turnover", "market_share"):
        assert t[col].between(0, 1).all(), col
    assert (t["handovers"] + t["bot_frustrations"] <= t["emotional_contacts"]).all()
    firms = r.summary["firms"]
    assert sum(f["market_share"] for f in firms.values()) == pytest.approx(1)
    for f in firms.values():
        for key in RATES:
            assert 0 <= f[key] <= 1, key
        assert f["employee_turnover"] >= 0  # quits per employee-year: above 1 where people stay under a year
        assert -100 <= f["nps"] <= 100
    c = r.model.customers
    served = c.firm >= 0
    assert np.bincount(c.firm[served], minlength=len(firms)).sum() + (~served).sum() == n


def test_customer_conservation_per_step():
    t = run(seed=2).table
    steps = t.groupby("step")
    customers = steps["customers"].sum().to_numpy()
    gained = (steps["acquisitions_advertising"].sum() + steps["acquisitions_referral"].sum()).to_numpy()
    lost = (steps["churned"].sum() - steps["acquisitions_switching"].sum()).to_numpy()
    assert np.array_equal(customers[1:], customers[:-1] + gained[1:] - lost[1:])


def test_only_emotional_bot_contacts_are_handed_over():
    """A bot hands a customer to a person on an emotional contact only; routine bot contacts stay with it."""
    t = run("firm.automation=0.8", "firm.bot_handover=0.5", seed=3).table
    handed = t["human_contacts"] - (t["contacts"] - t["bot_contacts"])  # contacts of handed-over encounters
    assert t["handovers"].sum() > 0 and (handed >= t["handovers"]).all()
    assert (t["handovers"] + t["bot_frustrations"] <= t["emotional_contacts"]).all()
    calm = run("market.emotional_share=0", "market.failure_rate=0", "firm.automation=0.8", "firm.bot_handover=1",
               seed=3).table
    assert (calm["human_contacts"] == calm["contacts"] - calm["bot_contacts"]).all()
    assert calm["handovers"].sum() == 0
    assert calm["bot_contacts"].sum() > 0


def test_same_seed_gives_byte_identical_summary(tmp_path):
    cfg = load_config(["market.customers=2000", "run.steps=20", "run.progress=false", "seed=5"])
    save(simulate(cfg), tmp_path / "a")
    save(simulate(cfg), tmp_path / "b")
    a = (tmp_path / "a" / SUMMARY).read_bytes()
    b = (tmp_path / "b" / SUMMARY).read_bytes()
    assert a == b
    assert json.loads(a)["seed"] == 5


def test_different_seeds_differ():
    assert run(seed=0).summary["firms"] != run(seed=1).summary["firms"]
