"""Fit the agent-based model to a transaction log and check it out of sample against BG/NBD.

The model is fitted on the weeks before `--split` and then predicts the weeks after it (repeat
purchases per week, active customers per week, cohort retention) for the customers who first
bought before the split; BG/NBD, fitted by maximum likelihood on the same weeks, predicts the same
figures, and the report puts both errors side by side (research.forecast).

How a simulation becomes a forecast: a market of `market.customers` agents all served by the
focal firm at week 0 (the spec's `base`) is run for the log's weeks plus `lead_weeks`; every
agent's purchases are aligned on its own first purchase, as the log's customers are, and give the
expected repeat purchases and the chance of any at each age in weeks. Candidates run on the same
seeds (common random numbers), agents pooled over seeds; Optuna's TPE sampler minimises the
calibration-period loss (mean of RMSE / mean over the three figures), the model's defaults first;
the fit is then re-simulated on fresh seeds for the report.

    python -m research.fit_log --log shop.csv --split 26
    python -m research.fit_log --cdnow sample --split 39 --period 13
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import optuna
import pandas as pd
from joblib import Parallel, delayed

from research import cli, forecast, transactions
from research.baselines import BGNBD
from research.evaluate import Outcome, ask_tell
from research.space import Space, parse_space, with_values
from sim.config import SimConfig
from sim.model import EmpathyMarket

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402  (after choosing the non-interactive backend)

PARAMS = cli.CONFIGS / "fit_log.yaml"
SPEC_KEYS = ("base", *cli.BUDGET_KEYS, "lead_weeks", "parameters")


def weekly_purchases(model: EmpathyMarket) -> np.ndarray:
    """This week's purchases per customer: the one place that knows how the model reports them."""
    return model.purchases


def simulate(cfg: SimConfig, steps: int) -> np.ndarray:
    """Purchases of every agent in every week of one run: array (agents, weeks)."""
    model = EmpathyMarket(cfg)
    weeks = []
    for _ in range(steps):
        model.step()
        weeks.append(weekly_purchases(model).astype(np.int16))
    return np.stack(weeks, axis=1)


def as_log(purchases: np.ndarray, start: pd.Timestamp) -> pd.DataFrame:
    """A simulated run as a transaction log: one row per purchase, a week's purchases on its successive days.

    Amounts are 1 per purchase: the log's shape, not its money, is what a fit uses. Separate days
    keep a week's purchases apart, since a log merges a customer's purchases of one day.
    """
    agent, week = np.nonzero(purchases)
    counts = purchases[agent, week].astype(np.int64)
    rows = np.repeat(np.arange(len(agent)), counts)
    day = (np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)) % transactions.DAYS_PER_WEEK
    return pd.DataFrame({"customer": agent[rows].astype(str),
                         "date": start + pd.to_timedelta(week[rows] * transactions.DAYS_PER_WEEK + day, unit="D"),
                         "amount": 1.0})


@dataclass(frozen=True)
class Simulated:
    """A simulation as a forecaster: repeat purchases of its agents by whole weeks since their first purchase.

    `cumulative[i, k]` holds agent i's repeat purchases in its first k weeks (its first week
    counts purchases after the first), NaN where the run ended before; ages are whole weeks, the
    week of the first purchase being age 0, as the model steps in weeks.
    """

    cumulative: np.ndarray

    @classmethod
    def of(cls, runs: Sequence[np.ndarray], ages: int) -> Simulated:
        """Pool the agents of several runs (agents, weeks) that bought at least once."""
        rows = []
        for purchases in runs:
            bought = purchases.any(axis=1)
            p = purchases[bought].astype(float)
            first = p.argmax(axis=1)  # week of the first purchase
            at = first[:, None] + np.arange(ages)[None, :]
            seen = at < p.shape[1]
            aligned = np.where(seen, np.take_along_axis(p, np.minimum(at, p.shape[1] - 1), axis=1), np.nan)
            aligned[:, 0] -= 1  # the first purchase is not a repeat
            rows.append(np.concatenate([np.zeros((len(p), 1)), np.cumsum(aligned, axis=1)], axis=1))
        cumulative = np.concatenate(rows)
        if not np.isfinite(cumulative[:, -1]).any():
            raise ValueError(f"no simulated customer was followed for {ages} weeks: raise lead_weeks or visit_rate")
        return cls(cumulative)

    @cached_property
    def _tables(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean repeat purchases and share with any, for every age window [k0, k1)."""
        c = self.cumulative
        k = c.shape[1]
        mean, share = np.zeros((k, k)), np.zeros((k, k))
        for k0 in range(k):
            d = c[:, k0:] - c[:, [k0]]
            seen = np.isfinite(d)
            n = np.maximum(seen.sum(axis=0), 1)
            mean[k0, k0:] = np.where(seen, d, 0).sum(axis=0) / n
            share[k0, k0:] = (seen & (d > 0)).sum(axis=0) / n
        return mean, share

    def _lookup(self, table: np.ndarray, first_day: np.ndarray, w0: np.ndarray, w1: np.ndarray) -> np.ndarray:
        first_week = np.asarray(first_day) // transactions.DAYS_PER_WEEK
        last = table.shape[0] - 1
        k0 = np.clip(w0 - first_week, 0, last).astype(int)
        k1 = np.clip(w1 - first_week, 0, last).astype(int)
        return np.where(k1 > k0, table[k0, k1], 0.0)

    def repeats(self, first_day: np.ndarray, w0: np.ndarray, w1: np.ndarray) -> np.ndarray:
        return self._lookup(self._tables[0], first_day, w0, w1)

    def active(self, first_day: np.ndarray, w0: np.ndarray, w1: np.ndarray) -> np.ndarray:
        return self._lookup(self._tables[1], first_day, w0, w1)


def forecasters(configs: Sequence[SimConfig], seeds: Sequence[int], ages: int, lead: int,
                n_jobs: int = -1) -> list[Simulated]:
    """One forecaster per config, each pooling its runs on `seeds`; all runs in one parallel batch."""
    runs = Parallel(n_jobs=n_jobs)(delayed(simulate)(with_values(cfg, {"seed": s}), ages + lead)
                                   for cfg in configs for s in seeds)
    k = len(seeds)
    return [Simulated.of(runs[i * k:(i + 1) * k], ages) for i in range(len(configs))]


def fit(split: forecast.Split, base: SimConfig, space: Space, trials: int, seeds: Sequence[int], lead: int,
        sampler_seed: int = 0, batch: int = 4, n_jobs: int = -1) -> optuna.Study:
    """The Optuna study minimising the calibration-period loss; the base's values are the first candidate."""
    observed = split.observed()

    def evaluate(points: list[dict[str, Any]]) -> list[Outcome]:
        found = forecasters([with_values(base, p) for p in points], seeds, split.weeks, lead, n_jobs)
        outcomes = []
        for f in found:
            predicted = split.predicted(f)
            outcomes.append(Outcome(forecast.loss(split, predicted, observed, "calibration"),
                                    {"holdout_loss": forecast.loss(split, predicted, observed, "holdout")}))
        return outcomes

    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=sampler_seed))
    defaults = space.values_in(base)
    if space.contains(defaults):
        study.enqueue_trial(defaults)
    return ask_tell(study, space, trials, batch, evaluate)


def baseline(split: forecast.Split) -> BGNBD:
    """BG/NBD fitted on the calibration weeks of the split's customers."""
    end = split.log["date"].min() + pd.Timedelta(days=split.split * transactions.DAYS_PER_WEEK - 1)
    summary = transactions.rfm(split.log, end)
    return BGNBD.fit(summary["x"], summary["t_x"], summary["T"])


def error_table(split: forecast.Split, predictions: dict[str, dict[str, np.ndarray]]) -> pd.DataFrame:
    """Every model's error on every figure, before and after the split: one row per (figure, metric, part)."""
    observed = split.observed()
    rows = []
    for model, predicted in predictions.items():
        for part in ("calibration", "holdout"):
            for figure, metrics in forecast.errors(split, predicted, observed, part).items():
                rows += [{"figure": figure, "metric": m, "part": part, "model": model, "value": v}
                         for m, v in metrics.items()]
    return pd.DataFrame(rows).pivot_table(index=["figure", "metric", "part"], columns="model", values="value",
                                          sort=False).reset_index()


def plot(split: forecast.Split, predictions: dict[str, dict[str, np.ndarray]]) -> Figure:
    """Weekly and cumulative repeat purchases: the log against each model, the split marked."""
    fig = Figure(figsize=(10, 4))
    axes = fig.subplots(1, 2)
    observed = split.observed()["repeat_purchases"]
    for ax, transform, title in ((axes[0], lambda v: v, "repeat purchases per week"),
                                 (axes[1], np.cumsum, "cumulative repeat purchases")):
        ax.plot(transform(observed), color="black", label="log")
        for name, predicted in predictions.items():
            ax.plot(transform(predicted["repeat_purchases"]), label=name)
        ax.axvline(split.split - 0.5, color="grey", linestyle=":", label="split")
        ax.set(xlabel="week", title=title)
    axes[0].legend()
    return fig


def main(argv: Sequence[str] | None = None) -> Path:
    """Command line: fit, forecast the holdout, and write report.md, errors.csv, weekly.csv, retention.csv, ..."""
    p = cli.parser("fit_log", __doc__.split("\n\n")[0])
    transactions.add_log_options(p)
    p.add_argument("--split", type=int, help="first holdout week, counted from the log's first date "
                                             "(default: half the log's weeks)")
    p.add_argument("--params", type=Path, default=PARAMS, help="parameters, bounds and budget (default: %(default)s)")
    cli.add_budget_options(p)
    args = p.parse_args(argv)
    started = time.perf_counter()
    spec = cli.load_spec(args.params, "--params", SPEC_KEYS)
    space = parse_space(spec.get("parameters"), f"{args.params}: parameters")
    b = cli.budget(args, spec)
    lead = int(spec.get("lead_weeks", 26))
    base = cli.base_config([*spec.get("base", []), *args.set])
    log = transactions.log_from(args)
    split = forecast.Split.of(log, args.split or transactions.weeks_covered(log) // 2, args.period)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = fit(split, base, space, b.trials, b.seeds, lead, b.sampler_seed, b.batch, args.jobs)
    fitted = space.point([study.best_params[n] for n in space.names])
    model = forecasters([with_values(base, fitted)], b.fresh, split.weeks, lead, args.jobs)[0]
    bgnbd = baseline(split)
    predictions = {"model": split.predicted(model), "bgnbd": split.predicted(forecast.ContinuousTime(bgnbd))}
    errors = error_table(split, predictions)

    out = cli.output_dir(args.out, "fit_log")
    observed = split.observed()
    weeks = transactions.weekly(split.log, split.weeks)
    cli.write_csv(out / "weekly.csv", weeks.assign(**{
        f"{name}_{figure}": predicted[figure] for name, predicted in predictions.items()
        for figure in ("repeat_purchases", "active_customers")}))
    cli.write_csv(out / "retention.csv", _retention_long(observed, predictions, split.period))
    cli.write_csv(out / "errors.csv", errors)
    cli.write_csv(out / "trials.csv", pd.DataFrame([{"trial": t.number, "loss": t.value, **t.params,
                                                     **t.user_attrs["figures"]} for t in study.trials]))
    cli.write_text(out / "fitted.txt", " ".join(f"{k}={v:.4g}" for k, v in fitted.items()) + "\n")
    cli.write_json(out / "bgnbd.json", {"r": bgnbd.r, "alpha": bgnbd.alpha, "a": bgnbd.a, "b": bgnbd.b,
                                        "time_unit": "week"})
    cli.save_figure(plot(split, predictions), out / "forecast.png")
    seconds = cli.record_run(out, "fit_log", args, base, started, search_seeds=b.seeds, fresh_seeds=b.fresh,
                             split_week=split.split, weeks=split.weeks, lead_weeks=lead,
                             runs=b.trials * len(b.seeds) + len(b.fresh))
    text = report(split, space, base, fitted, bgnbd, errors, b.trials, b.seeds, b.fresh, seconds)
    cli.write_text(out / "report.md", text)
    print(text)
    print(f"results: {out}")
    return out


def _retention_long(observed: dict[str, np.ndarray], predictions: dict[str, dict[str, np.ndarray]],
                    period: int) -> pd.DataFrame:
    """Cohort retention, observed and predicted, one row per (cohort, k) cell the log covers."""
    cohort, k = np.nonzero(np.isfinite(observed["retention"]))
    return pd.DataFrame({"cohort": cohort, "k": k, "first_week_of_period": (cohort + k) * period,
                         "observed": observed["retention"][cohort, k],
                         **{name: p["retention"][cohort, k] for name, p in predictions.items()}})


def report(split: forecast.Split, space: Space, base: SimConfig, fitted: dict[str, Any], bgnbd: BGNBD,
           errors: pd.DataFrame, trials: int, seeds: Sequence[int], fresh: Sequence[int], seconds: float) -> str:
    """The Markdown report: the data, both fits, and their errors before and after the split."""
    log = split.log
    defaults = space.values_in(base)
    params = pd.DataFrame({"parameter": space.names, "low": [q.low for q in space.parameters],
                           "high": [q.high for q in space.parameters], "default": [defaults[n] for n in space.names],
                           "fitted": [fitted[n] for n in space.names]})
    return "\n".join([
        "# The model and BG/NBD fitted to a transaction log", "",
        f"{log['customer'].nunique():,} customers who first bought before week {split.split} "
        f"({log['date'].min():%Y-%m-%d} + {split.split} weeks), {len(log):,} purchases (customer-days) over "
        f"{split.weeks} weeks; fitted on weeks 0-{split.split - 1}, checked on weeks {split.split}-{split.weeks - 1}. "
        f"Cohorts and retention by {split.period}-week periods. {trials} candidates (TPE, the defaults first) on "
        f"seeds {list(seeds)}, the fit re-simulated on seeds {list(fresh)} ({seconds:.0f} s in all).", "",
        "## Errors (wape: sum |predicted - observed| / sum observed over the weeks; total_error: relative error of "
        "the total; mae_points: mean absolute error of retention in percentage points)", "",
        cli.markdown_table(errors), "## Model parameters (rates per week)", "",
        "Not applied to the model's defaults: try them with `python -m sim $(cat fitted.txt)`.", "",
        cli.markdown_table(params), "## BG/NBD (maximum likelihood, time in weeks)", "",
        f"r = {bgnbd.r:.4g}, alpha = {bgnbd.alpha:.4g}, a = {bgnbd.a:.4g}, b = {bgnbd.b:.4g}", ""])


if __name__ == "__main__":
    sys.exit(cli.run("fit_log", main))
