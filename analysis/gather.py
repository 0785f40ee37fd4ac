"""Gather a sweep: every finished run under a directory into tidy tables.

A run directory is one holding `summary.json` (finished), a `PARTIAL` marker (stopped early) or
Hydra's `.hydra/` folder (started, no result yet). Only finished runs are read; the others are
counted, so a report says what it left out. Files are read under their final names only: results
are renamed into place when complete, so a temp file of a killed run is never taken for a result.

The swept parameters are the command-line overrides that differ between runs (seed aside), with
their values read from each run's resolved config in summary.json; a *strategy* is one combination
of their values.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import yaml
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim import manifest
from sim.results import METRICS, PARTIAL, SUMMARY

NOT_SWEPT = ("seed", "run.progress")  # vary between runs without changing what a strategy is
ID_COLUMNS = ("run", "seed", "strategy")


class AnalysisError(ValueError):
    """A user-facing problem with the input, printed as one line."""


@dataclass
class Sweep:
    """A gathered sweep: tidy tables plus what was left out and how it was launched."""

    root: Path
    runs: pd.DataFrame  # one row per run x firm: ids, swept parameters, firm, role, every KPI
    steps: pd.DataFrame  # one row per run x step x firm: ids, swept parameters, every weekly metric, role
    swept: list[str]  # swept config keys, in label order
    skipped: dict[str, list[str]] = field(default_factory=dict)  # reason -> run directories
    provenance: list[dict[str, Any]] = field(default_factory=list)  # distinct provenance records
    commands: list[str] = field(default_factory=list)  # the `python -m sim -m ...` launches that made the runs

    @property
    def strategies(self) -> list[str]:
        return list(dict.fromkeys(self.runs["strategy"]))


def run_dirs(root: Path) -> list[Path]:
    """Every run directory under root, sorted."""
    markers = (SUMMARY, PARTIAL, ".hydra")
    return sorted({p.parent for name in markers for p in root.rglob(name)})


def gather(root: Path | str) -> Sweep:
    """Read every finished run under root; raise AnalysisError if there is none."""
    root = Path(root)
    if not root.is_dir():
        raise AnalysisError(f"{root}: no such directory")
    summaries: dict[str, dict[str, Any]] = {}
    overrides: dict[str, dict[str, str] | None] = {}
    skipped: dict[str, list[str]] = {"partial": [], "unfinished": [], "unreadable": []}
    steps: dict[str, pd.DataFrame] = {}
    for d in run_dirs(root):
        name = d.relative_to(root).as_posix()
        if (d / SUMMARY).exists():
            try:
                summaries[name], steps[name] = read_run(d)
                overrides[name] = run_overrides(d)
            except (OSError, ValueError, pa.ArrowException, yaml.YAMLError, OmegaConfBaseException):
                skipped["unreadable"].append(name)
        else:
            skipped["partial" if (d / PARTIAL).exists() else "unfinished"].append(name)
    if not summaries:
        counts = ", ".join(f"{len(v)} {k}" for k, v in skipped.items() if v) or "no run directories"
        raise AnalysisError(f"{root}: no finished runs to analyse ({counts})")
    info, swept = run_info(summaries, overrides)
    firms = firm_table(summaries)
    steps = pd.concat([t.assign(run=run) for run, t in steps.items()], ignore_index=True).merge(
        firms[["run", "firm", "role"]], on=["run", "firm"])
    return Sweep(
        root=root,
        runs=info.merge(firms, on="run"),
        steps=info.merge(steps, on="run"),
        swept=swept,
        skipped={k: v for k, v in skipped.items() if v},
        provenance=distinct([s.get("provenance", {}) for s in summaries.values()]),
        commands=sweep_commands(root),
    )


def read_run(run_dir: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    """A finished run's summary and weekly table; ValueError naming what is wrong with either."""
    summary = json.loads((run_dir / SUMMARY).read_text(encoding="utf-8"))
    if not isinstance(summary, dict):
        raise ValueError(f"{SUMMARY} holds a {type(summary).__name__}, not a run's summary")
    if summary.get("complete") is not True:
        raise ValueError(f"{SUMMARY} is not marked complete")
    firms, config = summary.get("firms"), summary.get("config")
    if not isinstance(firms, dict) or not firms or not all(isinstance(f, dict) for f in firms.values()):
        raise ValueError(f"{SUMMARY} has no firms")
    if not isinstance(config, dict) or not isinstance(summary.get("seed"), int):
        raise ValueError(f"{SUMMARY} has no config or seed")
    table = pd.read_parquet(run_dir / METRICS)  # pyarrow: ArrowException (or OSError) if corrupt
    if not {"step", "firm"} <= set(table.columns) or not set(table["firm"]) <= set(firms):
        raise ValueError(f"{METRICS} does not hold this run's weekly table")
    return summary, table


def run_overrides(run_dir: Path) -> dict[str, str] | None:
    """The run's command-line overrides, key -> value text, from Hydra's .hydra/overrides.yaml (None without one)."""
    path = run_dir / ".hydra" / "overrides.yaml"
    if not path.exists():
        return None
    pairs = (str(item).lstrip("+~").partition("=") for item in OmegaConf.load(path))
    return {key: value for key, _, value in pairs}


def run_info(summaries: dict[str, dict[str, Any]],
             overrides: dict[str, dict[str, str] | None]) -> tuple[pd.DataFrame, list[str]]:
    """One row per run: run, seed, strategy and the swept parameters; and the swept keys.

    The swept keys are the command-line overrides that differ between runs, in the order they were
    typed (a group such as `competitors=none` is one key, valued by its option name); a value key
    takes its typed value from the resolved config. Runs without Hydra's record of their overrides
    fall back to every config key whose value differs.
    """
    configs = pd.json_normalize([s["config"] for s in summaries.values()], sep=".")
    if all(o is not None for o in overrides.values()):
        given = pd.DataFrame(list(overrides.values()))
        swept = [k for k in given.columns if k not in NOT_SWEPT and given[k].nunique(dropna=False) > 1]
        params = pd.DataFrame({k: configs[k] if k in configs else given[k] for k in swept}, index=configs.index)
    else:
        swept = [c for c in configs.columns if c not in NOT_SWEPT and configs[c].astype(str).nunique(dropna=False) > 1]
        params = configs[swept]
    info = params.copy()
    info.insert(0, "run", list(summaries))
    info.insert(1, "seed", [s["seed"] for s in summaries.values()])
    info.insert(2, "strategy", strategy_labels(params))
    return info.sort_values([*swept, "seed", "run"], kind="stable", ignore_index=True), swept


def strategy_labels(params: pd.DataFrame) -> list[str]:
    """'empathy=0.5, automation=0.9': short key names where the last part is unambiguous."""
    if params.empty:
        return ["all runs"] * len(params)
    last = [c.rsplit(".", 1)[-1] for c in params.columns]
    names = [s if last.count(s) == 1 else c for s, c in zip(last, params.columns, strict=True)]
    return [", ".join(f"{n}={value_text(v)}" for n, v in zip(names, row, strict=True))
            for row in params.itertuples(index=False)]


def value_text(value: Any) -> str:
    """A parameter value as a user would type it: 0.5, 1, true, none."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return "none" if math.isnan(value) else f"{value:g}"
    return "none" if value is None else str(value)


def firm_table(summaries: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per run x firm with every KPI of summary.json, nested ones as 'churn_by_reason.price'."""
    records = [{"run": run, "firm": firm, "currency": (s.get("units") or {}).get("currency"), **kpis}
               for run, s in summaries.items() for firm, kpis in s["firms"].items()]
    return pd.json_normalize(records, sep=".")


def kpi_columns(runs: pd.DataFrame) -> list[str]:
    """The numeric KPIs of a runs table: the columns after 'firm' (ids and swept parameters come before)."""
    after = runs.columns[runs.columns.get_loc("firm") + 1:]
    return [c for c in after if pd.api.types.is_numeric_dtype(runs[c]) and not pd.api.types.is_bool_dtype(runs[c])]


def distinct(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records without repeats, in first-seen order."""
    seen = {json.dumps(r, sort_keys=True): r for r in records}
    return list(seen.values())


def sweep_commands(root: Path) -> list[str]:
    """The commands that launched sweeps into this folder, oldest first; run again, they complete what is missing.

    They come from the folder's append-only manifest.jsonl (every launch); a folder made before the
    manifest existed falls back to Hydra's multirun.yaml, which describes only the last launch.
    """
    launches = [e["command"] for e in manifest.read(root) if e.get("event") == "sweep" and "command" in e]
    if launches:
        return list(dict.fromkeys(launches))
    path = root / "multirun.yaml"
    try:
        overrides = OmegaConf.load(path).hydra.overrides
        return [manifest.sweep_command(list(overrides.task), list(overrides.hydra), root)]
    except (OSError, ValueError, yaml.YAMLError, OmegaConfBaseException):  # missing or not Hydra's file
        return []
