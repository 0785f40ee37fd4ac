"""Evaluate candidates on common random numbers: run them, read KPIs, summarise over seeds, search in batches.

Every candidate (a config) runs on the same seeds, so a seed fixes the customers, the graph and
every random shock for all candidates alike: differences between candidates come from their
parameters, not from luck. All runs of a batch go through `sim.batch.run_many` at once, the
same joblib process pool Hydra sweeps use, so results are identical serial or parallel.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import optuna
from scipy import stats

from research.space import Space
from sim.batch import run_many
from sim.config import ConfigError, SimConfig

# Numeric per-firm figures of summary.json (sim.metrics.summarise), usable as objectives and outputs.
KPIS = ("customers", "retention_rate", "churn_rate", "cohort_retention", "cltv", "cltv_predicted", "market_share",
        "revenue_share", "nps", "csat", "revenue", "costs", "profit", "cac", "employee_engagement",
        "employee_burnout", "employee_turnover", "employees")
LOWER_IS_BETTER = frozenset({"churn_rate", "cac", "costs", "employee_burnout", "employee_turnover"})

Summary = dict[str, Any]


def check_kpi(name: str) -> str:
    """The KPI name, or a one-line error listing the known ones."""
    if name not in KPIS:
        raise ConfigError(f"kpi={name} is not a known KPI: choose one of {', '.join(KPIS)}")
    return name


def seeds(count: int, start: int = 0) -> list[int]:
    """`count` consecutive seeds from `start`: the common random numbers every candidate shares."""
    if count < 1:
        raise ConfigError(f"seeds={count} is not allowed: need at least 1 seed")
    return list(range(start, start + count))


def on_seeds(configs: Sequence[SimConfig], seed_list: Sequence[int], n_jobs: int = -1) -> list[list[Summary]]:
    """Run every config on every seed in one parallel batch; summaries[config][seed]."""
    batch = [dataclasses.replace(cfg, seed=s) for cfg in configs for s in seed_list]
    flat = run_many(batch, n_jobs=n_jobs)
    k = len(seed_list)
    return [flat[i * k:(i + 1) * k] for i in range(len(configs))]


def kpi(summary: Summary, name: str, firm: str) -> float:
    """One firm's KPI from a run summary."""
    return float(summary["firms"][firm][name])


def kpi_array(summaries: Sequence[Sequence[Summary]], names: Sequence[str], firm: str) -> np.ndarray:
    """KPIs as an array (candidate, seed, kpi)."""
    return np.array([[[kpi(s, n, firm) for n in names] for s in runs] for runs in summaries], dtype=float)


def mean_ci(samples: np.ndarray, axis: int = -1, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Mean and half-width of its Student-t confidence interval along `axis` (NaN with one sample)."""
    samples = np.asarray(samples, dtype=float)
    n = samples.shape[axis]
    mean = samples.mean(axis=axis)
    if n < 2:
        return mean, np.full_like(mean, np.nan)
    sem = samples.std(axis=axis, ddof=1) / np.sqrt(n)
    return mean, stats.t.ppf(0.5 + level / 2, n - 1) * sem


@dataclasses.dataclass
class Outcome:
    """What evaluating one candidate gave the search: its objective value, figures to keep, constraint values."""

    value: float
    figures: dict[str, float]
    constraints: dict[str, float] = dataclasses.field(default_factory=dict)


def ask_tell(study: optuna.Study, space: Space, trials: int, batch: int,
             evaluate: Callable[[list[dict[str, Any]]], list[Outcome]]) -> optuna.Study:
    """Grow the study to `trials` candidates, asking `batch` at a time and evaluating each batch together.

    A fixed sampler seed and batch size give the same search whatever the number of cores:
    parallelism lives inside `evaluate` (one `run_many` call per batch), never in the sampler.
    Constraint values (<= 0: met) go to `Trial.set_constraint`, which Optuna's samplers and
    `Study.best_trial` honour.
    """
    distributions = {p.path: optuna.distributions.FloatDistribution(p.low, p.high) for p in space.parameters}
    def told() -> int:  # an enqueued candidate waits in study.trials until asked: not yet one of the `trials`
        return sum(t.state != optuna.trial.TrialState.WAITING for t in study.trials)

    while told() < trials:
        asked = [study.ask(distributions) for _ in range(min(batch, trials - told()))]
        outcomes = evaluate([space.point([t.params[n] for n in space.names]) for t in asked])
        for trial, outcome in zip(asked, outcomes, strict=True):
            trial.set_user_attr("figures", outcome.figures)
            for key, value in outcome.constraints.items():
                trial.set_constraint(key, value)
            study.tell(trial, outcome.value)
    return study
