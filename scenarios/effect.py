"""The answer to a scenario's question: the effect of one choice, paired by seed, in each setting of the others.

A scenario's sweep crosses the choice its question is about (say, the incident) with a setting
(say, the bakery's empathy). The answer is the choice's effect *within* each setting: runs with a
higher value of the choice minus the run with its lowest value on the same seed (same customers,
graph and shocks), for the focal business, with a 95% CI over seeds. The sweep is read and the
pairs are aggregated by `analysis` (`gather`, `aggregate.paired_differences`); this module only
groups them by setting and lays them out as a Markdown table.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis import aggregate
from analysis.gather import gather, kpi_columns, value_text
from analysis.report import estimate, label

MARKS = {True: " ▲", False: " ▼"}


class EffectError(ValueError):
    """The sweep cannot answer the question as asked (a key not swept, a KPI not measured)."""


def effect_table(sweep_dir: Path, choice: str, kpis: tuple[str, ...]) -> pd.DataFrame:
    """One row per setting and higher value of `choice`: each KPI's paired difference as 'mean ± half-width'."""
    sweep = gather(sweep_dir)
    runs = sweep.runs
    if choice not in sweep.swept:
        raise EffectError(f"{choice} is not swept in {sweep_dir} (swept: {', '.join(sweep.swept)})")
    missing = [k for k in kpis if k not in kpi_columns(runs)]
    if missing:
        raise EffectError(f"{', '.join(missing)}: not a KPI of the runs in {sweep_dir}")
    settings = [c for c in sweep.swept if c != choice]
    rows = []
    for _, group in runs.groupby(settings, sort=False) if settings else [((), runs)]:
        lowest = group[choice].min()
        baseline = group.loc[group[choice] == lowest, "strategy"].iloc[0]
        diffs = aggregate.paired_differences(group, baseline, list(kpis))
        first = group.drop_duplicates("strategy").set_index("strategy")
        for strategy, cells in diffs.groupby("strategy", sort=False):
            row = {short(k): value_text(first.at[strategy, k]) for k in settings}
            row[short(choice)] = f"{value_text(lowest)} → {value_text(first.at[strategy, choice])}"
            for cell in cells.itertuples():
                row[label(cell.metric)] = estimate(cell.mean, cell.half_width) + MARKS.get(cell.better, "")
            rows.append(row)
    return pd.DataFrame(rows)


def short(key: str) -> str:
    """A swept key as the analysis names strategies: its last part."""
    return key.rsplit(".", 1)[-1]

