"""Property-based tests over random configurations drawn from the schema's own ranges.

Valid configurations (values drawn inside each field's range, small markets, a few weeks) give
finite outputs whose accounts add up; invalid ones (a value outside its range or of the wrong type,
in any field) always give a one-line ConfigError naming that field.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sim.app import check_overrides, load_config
from sim.config import ConfigError, FirmConfig, SimConfig, field_spec, from_dict, to_dict, validate
from sim.results import simulate

BASE = load_config(["market.customers=200", "run.steps=4", "run.progress=false"])
CAPS = {"market.customers": 400, "run.steps": 6, "run.burn_in": 3, "network.mean_degree": 30,
        "firm.staff": 40, "seed": 2**32 - 1}  # keep each example fast; other ranges are drawn in full
VARIED = [
    "seed", "market.customers", "run.steps", "run.burn_in",
    "firm.empathy", "firm.automation", "firm.bot_handover", "firm.bot_quality", "firm.price", "firm.pricing",
    "firm.promo_depth", "firm.price_floor", "firm.initial_share", "firm.staff", "firm.advertising",
    "firm.referral_bonus", "firm.incident_week", "firm.incident_failure_rate",
    "competitors.big_box.price", "competitors.big_box.empathy", "competitors.online.automation",
    "competitors.online.initial_share",
    "market.price_driven_share", "market.initial_adoption", "market.visit_rate", "market.emotional_share",
    "market.failure_rate", "market.base_churn", "market.outside_utility",
    "behaviour.empathy_weight", "behaviour.choice_noise", "behaviour.switching_cost", "behaviour.bot_frustration",
    "behaviour.emotional_labour", "behaviour.burnout_threshold", "behaviour.learning_rate", "behaviour.review_rate",
    "wom.enabled", "wom.talk_rate", "wom.negativity", "wom.referral_strength", "wom.buzz_memory",
    "network.kind", "network.mean_degree", "network.rewire", "adapt.enabled", "adapt.every",
]
RATES = ("retention_rate", "churn_rate", "market_share", "revenue_share", "csat", "employee_engagement",
         "employee_burnout", "cohort_retention")
TABLE_RATES = ("market_share", "retention_rate", "csat", "engagement", "burnout", "turnover")


def kind(path: str) -> str:
    return field_spec(path).type.replace("| None", "").strip()


def valid_value(path: str) -> st.SearchStrategy:
    """A value inside the field's range or set, as the schema states it."""
    spec = field_spec(path)
    if "choices" in spec.metadata:
        choices = [c for c in spec.metadata["choices"] if c != "file"]  # a file graph needs a file
        return st.sampled_from(choices)
    if kind(path) == "bool":
        return st.booleans()
    lo, hi = spec.metadata["range"]
    hi = min(hi, CAPS.get(path, hi))
    values = st.integers(lo, hi) if kind(path) == "int" else st.floats(lo, hi)
    return st.none() | values if "None" in spec.type else values


def leaves(cls: type = SimConfig, prefix: str = "") -> list[str]:
    """Every key of the schema, competitors' included."""
    out = []
    for f in dataclasses.fields(cls):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else None
        if f.name == "competitors":
            out += leaves(FirmConfig, "competitors.big_box.")
        elif dataclasses.is_dataclass(default):
            out += leaves(type(default), f"{prefix}{f.name}.")
        elif prefix + f.name != "plan.changes":  # a list of dated changes, checked by check_plan (test_plan)
            out.append(prefix + f.name)
    return out


def invalid_value(path: str) -> st.SearchStrategy:
    """A value of the wrong type for the field, or outside its range or set."""
    spec, k = field_spec(path), kind(path)
    wrong_type = {
        "bool": st.sampled_from([0, 1, "yes", 0.5]),
        "int": st.sampled_from([0.5, "abc", True, math.nan, math.inf]),
        "float": st.sampled_from(["abc", True, math.nan, math.inf, -math.inf]),
        "str": st.sampled_from([3, 0.5, True]),
    }[k]
    if "None" not in spec.type:
        wrong_type |= st.none()
    if "range" in spec.metadata:
        lo, hi = spec.metadata["range"]
        below = st.integers(max_value=lo - 1) if k == "int" else st.floats(max_value=lo, exclude_max=True)
        above = st.integers(min_value=hi + 1) if k == "int" else st.floats(min_value=hi, exclude_min=True)
        return wrong_type | below | above
    if "choices" in spec.metadata:
        return wrong_type | st.text(min_size=1).filter(lambda v: v not in spec.metadata["choices"])
    return wrong_type


def with_values(cfg: SimConfig, values: dict[str, Any]) -> SimConfig:
    """A copy of cfg with dotted keys set (competitors by name)."""
    cfg = copy.deepcopy(cfg)
    for path, value in values.items():
        *parents, key = path.split(".")
        node: Any = cfg
        for part in parents:
            node = node[part] if isinstance(node, dict) else getattr(node, part)
        setattr(node, key, value)
    return cfg


def finite_everywhere(value: Any) -> bool:
    if isinstance(value, dict):
        return all(finite_everywhere(v) for v in value.values())
    return not isinstance(value, float) or math.isfinite(value)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({path: valid_value(path) for path in VARIED}))
def test_random_valid_configurations_keep_every_invariant(values):
    cfg = with_values(BASE, values)
    try:
        validate(cfg)
    except ConfigError:
        assume(False)  # a cross-field rule (e.g. mean_degree < customers) refused the draw
    r = simulate(cfg)
    t, summary, n = r.table, r.summary, cfg.market.customers
    numbers = t.select_dtypes("number").to_numpy(dtype=float)
    assert np.isfinite(numbers).all()
    assert finite_everywhere(summary)
    assert t["step"].nunique() == cfg.run.steps and summary["weeks"] == cfg.run.steps

    steps = t.groupby("step")
    assert ((steps["customers"].sum() + steps["prospects"].first()) == n).all()
    shares = steps["market_share"].sum()
    served = steps["customers"].sum() > 0
    assert np.allclose(shares[served], 1) and (shares[~served] == 0).all()
    for _, f in t.groupby("firm"):
        c = f["customers"].to_numpy()
        gained = (f["acquisitions_advertising"] + f["acquisitions_referral"] + f["acquisitions_switching"]).to_numpy()
        assert np.array_equal(c[1:], c[:-1] + gained[1:] - f["churned"].to_numpy()[1:])
    for col in TABLE_RATES:
        assert t[col].between(0, 1).all(), col
    assert t["nps"].between(-100, 100).all()
    assert np.allclose(t["revenue"] - t["costs"], t["profit"])
    assert np.allclose(t.filter(like="cost_").sum(axis=1), t["costs"])

    firms = summary["firms"]
    shares = [f["market_share"] for f in firms.values()]
    assert sum(shares) == pytest.approx(1) if served.iloc[-1] else all(s is None for s in shares)
    for f in firms.values():
        for key in RATES:  # None: nothing to measure (no customers, no staff, no encounters)
            assert f[key] is None or 0 <= f[key] <= 1, key
        assert f["nps"] is None or -100 <= f["nps"] <= 100
        assert f["employee_turnover"] is None or f["employee_turnover"] >= 0
        assert f["revenue"] - f["costs"] == pytest.approx(f["profit"])


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_random_invalid_values_name_their_key(data):
    path = data.draw(st.sampled_from(leaves()), label="key")
    value = data.draw(invalid_value(path), label="value")
    raw = to_dict(BASE)
    *parents, key = path.split(".")
    node = raw
    for part in parents:
        node = node[part]
    node[key] = value
    with pytest.raises(ConfigError) as err:
        from_dict(raw)
    flat = f"behaviour.{key}" if path.startswith("behaviour.") else path  # its flat name also names it
    assert str(err.value).startswith((f"{path}=", f"{flat}=")), str(err.value)
    assert "\n" not in str(err.value)


def command_line_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, float) else str(value)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_random_invalid_command_line_values_name_their_key(data):
    path = data.draw(st.sampled_from([p for p in leaves() if kind(p) != "str"]), label="key")
    value = data.draw(invalid_value(path).filter(lambda v: not isinstance(v, str) or v.isidentifier()), label="value")
    with pytest.raises(ConfigError) as err:
        check_overrides([f"{path}={command_line_text(value)}"])
    assert str(err.value).startswith(f"{path}="), str(err.value)
