"""The assumptions behind a decision: the values used with where each comes from, and the robust comparison.

Sources come from one place, `SOURCES` in docs/parameters.py (the ODD's parameter tables), and
plausible ranges from the priors files. `--robust N` runs `research.robust` over N draws of the
uncertain parameters (plus the plan's costs, `configs/priors/plan.yaml`, when an alternative has a
plan), then `research.discovery` says what the verdict hinges on and swings the top keys one at a
time for a tornado.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from research import discovery, priors, robust
from sim.config import SimConfig, canonical_path, to_dict

ROOT = Path(__file__).resolve().parent.parent
PLAN_PRIORS = ROOT / "configs" / "priors" / "plan.yaml"
ALWAYS = ("market.customers", "market.basket", "market.discount_rate", "firm.price", "firm.wage", "firm.empathy_cost",
          "firm.hire_cost", "firm.unit_cost", "firm.automation_cost", "firm.bot_contact_cost", "firm.fixed_cost",
          "behaviour.training_rate", "behaviour.empathy_weight", "behaviour.leadership_effect")


@cache
def parameters_doc() -> ModuleType:
    """docs/parameters.py, the ODD's parameter tables, where every key's source is kept."""
    spec = importlib.util.spec_from_file_location("odd_parameters", ROOT / "docs" / "parameters.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as one dict keyed by dotted path; lists (a plan's changes) stay whole."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            out |= flatten(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out


def differences(base: SimConfig, other: SimConfig) -> dict[str, Any]:
    """The dotted keys (with other's values) where other departs from base: an alternative as overrides."""
    a, b = flatten(to_dict(base)), flatten(to_dict(other))
    return {k: v for k, v in b.items() if a.get(k) != v and k != "seed"}


def sources_table(cfg: SimConfig, prior_set: priors.Priors, extra: Sequence[str] = ()) -> pd.DataFrame:
    """The values this decision rests on, with the source of each and its plausible range.

    Listed: every firm, market, behaviour and plan key the status quo sets away from the schema default,
    the focal firm's economics, the discount rate, the plan's cost parameters, and `extra` keys.
    """
    doc = parameters_doc()
    values = flatten(to_dict(cfg))
    schema = flatten(to_dict(SimConfig()))
    chosen = [k for k, v in values.items() if k.split(".")[0] in ("market", "firm", "behaviour", "plan")
              and k != "plan.changes" and v != schema.get(k)]
    chosen += [*ALWAYS, *(k for k in values if k.startswith("plan.") and k != "plan.changes"), *extra]
    chosen = [canonical_path(k) for k in chosen]  # a flat behaviour key as to_dict names it, with its group
    ranges = {canonical_path(p.path): p.describe() for p in prior_set.priors}
    rows = [{"parameter": k, "value": values[k], "plausible range": ranges.get(k, ""),
             "source": doc.SOURCES.get(k, "(no source recorded)")} for k in dict.fromkeys(chosen) if k in values]
    return pd.DataFrame(rows)


def prior_set(path: Path, uncertain: Sequence[str] | None, with_plan: bool) -> priors.Priors:
    """The priors of a robust comparison: the file's, plus the plan's cost ranges when a plan is compared."""
    found = priors.load(path)
    if with_plan:
        found = priors.Priors(found.priors + priors.load(PLAN_PRIORS).priors)
    return found.subset(uncertain, str(path)) if uncertain else found


@dataclass
class Robust:
    """A robust comparison on profit over the horizon, what each verdict hinges on, and the tornadoes."""

    comparison: robust.Comparison
    findings: list[str]
    tornadoes: list[pd.DataFrame]
    figures: list[Figure]


def run_robust(base: SimConfig, alternatives: Sequence[Mapping[str, Any]], names: Sequence[str],
               found: priors.Priors, draws: int, seeds: Sequence[int], tornado: int, n_jobs: int) -> Robust:
    """Every option on the same draws and seeds (common random numbers); PRIM and a tornado per alternative."""
    kpi = "profit"
    result = robust.robust_compare(base, alternatives, found, draws, seeds, kpi, n_jobs=n_jobs)
    internal = list(result.summary["alternative"])
    findings, tornadoes, figures = [], [], []
    for name, key, overrides in zip(names, internal, alternatives, strict=True):
        table = robust.draw_gains(result.runs, result.draws, key, kpi)
        x, gain = table.drop(columns="gain"), table["gain"].to_numpy()
        findings.append(discovery.hinges(x, gain, name, "profit over the horizon")[0])
        keys = discovery.associated(x, gain)[:tornado]
        if keys:
            oat = robust.one_at_a_time(base, {robust.STATUS_QUO: {}, key: overrides}, result.bounds, keys, seeds,
                                       kpi, n_jobs)
            swings = discovery.tornado(oat, robust.STATUS_QUO, key, kpi)
            tornadoes.append(swings.assign(alternative=name))
            figures.append(discovery.plot_tornado(swings, name, "profit over the horizon"))
    result.summary["alternative"] = list(names)
    result.regret["option"] = [robust.STATUS_QUO, *names]
    return Robust(result, findings, tornadoes, figures)
