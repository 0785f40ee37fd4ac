"""Calibration: fit uncertain behavioural parameters to stylized facts (data/stylized_facts.yaml), with Optuna.

Loss, minimised over the declared parameter space by a seeded TPE sampler:

    L(theta) = sum_j w_j ((m_j(theta) - v_j) / v_j)^2  +  sum_k w_k max(0, a_k - m_k(theta))^2

m_j is target j's measure (MEASURES) averaged over the same seeds for every candidate (common
random numbers), v_j its value, a_k the bound of an ``at_least`` soft check, w the weights. A
target may be measured in its own condition (``when``: extra overrides, e.g. low empathy). The
model's defaults are the first candidate, so the fit is never worse than the defaults on the
search seeds; both are then re-run on fresh seeds for the report. The model's defaults are not
changed: the report lists the fitted values for a person to adopt or not.

    python -m research.calibrate --trials 30
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd

from research import cli
from research.evaluate import Outcome, Summary, ask_tell, mean_ci, on_seeds
from research.space import Space, parse_space, with_values
from sim.config import ConfigError, SimConfig, all_firms

TARGETS = cli.ROOT / "data" / "stylized_facts.yaml"
PARAMS = cli.CONFIGS / "calibration.yaml"
SPEC_KEYS = ("base", *cli.BUDGET_KEYS, "parameters")
TARGET_KEYS = ("fact", "measure", "value", "band", "at_least", "weight", "when", "source", "firmness")
NAMED_REASONS = ("price", "poor_service", "bot_frustration", "competitor_pull")


def _focal(summary: Summary) -> dict[str, Any]:
    return next(f for f in summary["firms"].values() if f["role"] == "focal")


def _annual_quit_rate(summary: Summary) -> float:
    """Quits per head and year, from employee_turnover t = quits / people employed during the run.

    With a steady headcount H refilled as people quit, people = H + quits, so quits / H = t / (1 - t).
    """
    t = min(_focal(summary)["employee_turnover"], 0.95)
    return t / (1 - t) * 52 / summary["config"]["run"]["steps"]


def _indifference_lead(summary: Summary) -> float:
    """Share of churn by indifference minus that of the largest other named reason (> 0: indifference leads).

    Churn without a reason ("other": moves, life events, taste) is left out of the comparison.
    """
    churn = _focal(summary)["churn_by_reason"]
    total = max(sum(churn.values()), 1)
    return (churn["indifference"] - max(churn[r] for r in NAMED_REASONS)) / total


MEASURES: dict[str, Callable[[Summary], float]] = {
    "retention_rate": lambda s: _focal(s)["retention_rate"],
    "nps": lambda s: _focal(s)["nps"],
    "employee_turnover": lambda s: _focal(s)["employee_turnover"],
    "annual_quit_rate": _annual_quit_rate,
    "indifference_lead": _indifference_lead,
}


@dataclass(frozen=True)
class Target:
    """One stylized fact: how it is measured, its figure or bound, weight, condition and source."""

    name: str
    fact: str
    measure: str
    value: float | None
    at_least: float | None
    band: float
    weight: float
    when: tuple[str, ...]
    source: str
    firmness: str

    def loss(self, simulated: float) -> float:
        if self.value is not None:
            return self.weight * ((simulated - self.value) / self.value) ** 2
        return self.weight * max(0.0, self.at_least - simulated) ** 2

    def met(self, simulated: float) -> bool:
        """Within the plausibility band, or at least the soft check's bound."""
        if self.value is not None:
            return abs(simulated - self.value) <= self.band
        return simulated >= self.at_least

    @property
    def wanted(self) -> str:
        return f"{self.value:g} +- {self.band:g}" if self.value is not None else f">= {self.at_least:g}"


def load_targets(path: Path) -> list[Target]:
    """The targets of a stylized-facts file, each checked, with one-line errors naming the target and key."""
    data = cli.load_yaml(path, "--targets")
    cli.check_keys(data, ("targets",), str(path))
    if not isinstance(data.get("targets"), dict) or not data["targets"]:
        raise ConfigError(f"{path}: expected 'targets:' mapping names to targets")
    return [_target(name, spec, f"{path}: {name}") for name, spec in data["targets"].items()]


def _target(name: str, spec: Any, where: str) -> Target:
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: expected a mapping of {', '.join(TARGET_KEYS)}")
    cli.check_keys(spec, TARGET_KEYS, where)
    if spec.get("measure") not in MEASURES:
        raise ConfigError(f"{where}: measure={spec.get('measure')!r} is not known: choose one of {', '.join(MEASURES)}")
    if ("value" in spec) == ("at_least" in spec):
        raise ConfigError(f"{where}: give exactly one of value (a figure) or at_least (a soft check)")
    numbers = {k: spec.get(k, default) for k, default in (("value", None), ("at_least", None), ("band", 0.0),
                                                          ("weight", 1.0))}
    for key, v in numbers.items():
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
            raise ConfigError(f"{where}: {key}={v!r} is not allowed: expected a number")
    if numbers["value"] == 0 or numbers["weight"] < 0 or numbers["band"] < 0:
        raise ConfigError(f"{where}: value must be non-zero (the loss is relative), weight and band >= 0")
    when = spec.get("when", [])
    if not isinstance(when, list) or not all(isinstance(w, str) for w in when):
        raise ConfigError(f"{where}: when={when!r} is not allowed: expected a list of KEY=VALUE overrides")
    return Target(name=name, fact=str(spec.get("fact", name)), measure=spec["measure"], value=numbers["value"],
                  at_least=numbers["at_least"], band=float(numbers["band"]), weight=float(numbers["weight"]),
                  when=tuple(when), source=str(spec.get("source", "")), firmness=str(spec.get("firmness", "")))


def measure(targets: Sequence[Target], bases: dict[tuple[str, ...], SimConfig], points: Sequence[dict[str, Any]],
            seed_list: Sequence[int], n_jobs: int = -1) -> np.ndarray:
    """Every target's measure for every point and seed: array (point, seed, target).

    All runs (points x conditions x seeds) go to `run_many` in one batch.
    """
    conditions = list(bases)
    configs = [with_values(bases[c], p) for p in points for c in conditions]
    runs = on_seeds(configs, seed_list, n_jobs)
    out = np.empty((len(points), len(seed_list), len(targets)))
    for i in range(len(points)):
        for j, t in enumerate(targets):
            summaries = runs[i * len(conditions) + conditions.index(t.when)]
            out[i, :, j] = [MEASURES[t.measure](s) for s in summaries]
    return out


def total_loss(targets: Sequence[Target], means: np.ndarray) -> float:
    """The calibration loss of one candidate's mean measures."""
    return float(sum(t.loss(m) for t, m in zip(targets, means, strict=True)))


def fit(targets: Sequence[Target], bases: dict[tuple[str, ...], SimConfig], space: Space, trials: int,
        seed_list: Sequence[int], sampler_seed: int = 0, batch: int = 4, n_jobs: int = -1) -> optuna.Study:
    """The Optuna study minimising the loss; the defaults (the base's values) are the first candidate."""
    def evaluate(points: list[dict[str, Any]]) -> list[Outcome]:
        means = measure(targets, bases, points, seed_list, n_jobs).mean(axis=1)
        return [Outcome(total_loss(targets, m), {t.name: float(v) for t, v in zip(targets, m, strict=True)})
                for m in means]

    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=sampler_seed))
    defaults = space.values_in(bases[()])
    if space.contains(defaults):
        study.enqueue_trial(defaults)
    return ask_tell(study, space, trials, batch, evaluate)


def compare(targets: Sequence[Target], bases: dict[tuple[str, ...], SimConfig], space: Space,
            fitted: dict[str, Any], fresh: Sequence[int], n_jobs: int = -1) -> tuple[pd.DataFrame, dict[str, float]]:
    """Defaults against the fit on unseen seeds: each target's mean and 95% CI, and each side's loss."""
    found = measure(targets, bases, [space.values_in(bases[()]), fitted], fresh, n_jobs)
    default, default_ci = mean_ci(found[0], axis=0)
    best, best_ci = mean_ci(found[1], axis=0)
    table = pd.DataFrame({
        "target": [t.name for t in targets], "measure": [t.measure for t in targets],
        "wanted": [t.wanted for t in targets], "weight": [t.weight for t in targets],
        "default": default, "default_ci95": default_ci,
        "default_ok": [t.met(v) for t, v in zip(targets, default, strict=True)],
        "fitted": best, "fitted_ci95": best_ci, "fitted_ok": [t.met(v) for t, v in zip(targets, best, strict=True)],
    })
    return table, {"default": total_loss(targets, default), "fitted": total_loss(targets, best)}


def main(argv: Sequence[str] | None = None) -> Path:
    """Command line: fit, compare on fresh seeds, and write report.md, targets.csv, trials.csv, fitted.txt, run.json."""
    p = cli.parser("calibrate", __doc__.split("\n\n")[0])
    p.add_argument("--targets", type=Path, default=TARGETS, help="stylized facts YAML (default: %(default)s)")
    p.add_argument("--params", type=Path, default=PARAMS, help="parameters, bounds and budget (default: %(default)s)")
    cli.add_budget_options(p)
    args = p.parse_args(argv)
    started = time.perf_counter()
    targets = load_targets(args.targets)
    spec = cli.load_spec(args.params, "--params", SPEC_KEYS)
    space = parse_space(spec.get("parameters"), f"{args.params}: parameters")
    b = cli.budget(args, spec)
    base = [*spec.get("base", []), *args.set]
    bases = {w: cli.base_config([*base, *w]) for w in dict.fromkeys([(), *(t.when for t in targets)])}

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = fit(targets, bases, space, b.trials, b.seeds, b.sampler_seed, b.batch, args.jobs)
    fitted = space.point([study.best_params[n] for n in space.names])
    table, losses = compare(targets, bases, space, fitted, b.fresh, args.jobs)

    out = cli.output_dir(args.out, "calibrate")
    cli.write_csv(out / "targets.csv", table)
    cli.write_csv(out / "trials.csv", pd.DataFrame([{"trial": t.number, "loss": t.value, **t.params,
                                                     **t.user_attrs["figures"]} for t in study.trials]))
    cli.write_text(out / "fitted.txt", " ".join(f"{k}={v:.4g}" for k, v in fitted.items()) + "\n")
    seconds = cli.record_run(out, "calibrate", args, bases[()], started, search_seeds=b.seeds, fresh_seeds=b.fresh,
                             runs=(b.trials * len(b.seeds) + 2 * len(b.fresh)) * len(bases))
    text = report(targets, space, bases[()], fitted, table, losses, b.trials, b.seeds, b.fresh, seconds)
    cli.write_text(out / "report.md", text)
    print(text)
    print(f"results: {out}")
    return out


def report(targets: Sequence[Target], space: Space, base: SimConfig, fitted: dict[str, Any], table: pd.DataFrame,
           losses: dict[str, float], trials: int, search_seeds: Sequence[int], fresh: Sequence[int],
           seconds: float) -> str:
    """The Markdown report: targets with sources, defaults against the fit, and the parameters found."""
    firm = all_firms(base)[0].name
    defaults = space.values_in(base)
    params = pd.DataFrame({"parameter": space.names, "low": [q.low for q in space.parameters],
                           "high": [q.high for q in space.parameters], "default": [defaults[n] for n in space.names],
                           "fitted": [fitted[n] for n in space.names]})
    sources = pd.DataFrame({"target": [t.name for t in targets], "fact": [t.fact for t in targets],
                            "measured in": [" ".join(t.when) or "base" for t in targets],
                            "source": [t.source for t in targets], "firmness": [t.firmness for t in targets]})
    return "\n".join([
        f"# Calibration of {firm}'s market to stylized facts", "",
        "Loss = sum of weight * ((simulated - value) / value)^2 over the figures, plus weight * max(0, bound - "
        f"simulated)^2 over the soft checks. {trials} candidates (TPE, the defaults first), each averaged over "
        f"seeds {list(search_seeds)}; defaults and fit compared on fresh seeds {fresh[0]}..{fresh[-1]} "
        f"({seconds:.0f} s in all).", "",
        f"Loss on the fresh seeds: defaults {losses['default']:.4g}, fitted {losses['fitted']:.4g}.", "",
        *(["**The fit does not beat the defaults on unseen seeds**: the search followed noise in its own seeds; "
           "raise --seeds (and --trials) before using it.", ""] if losses["fitted"] >= losses["default"] else []),
        "## Targets (mean over the fresh seeds, 95% CI half-width; ok = inside the band or the soft bound)", "",
        cli.markdown_table(table), "## Parameters", "",
        "Not applied to the model's defaults: adopt them with `python -m sim $(cat fitted.txt)` or by editing "
        "sim/config.py after review.", "", cli.markdown_table(params), "## Sources", "", cli.markdown_table(sources)])


if __name__ == "__main__":
    sys.exit(cli.run("calibrate", main))
