"""Policy optimisation: the focal firm's empathy / automation / price mix that maximises an objective, with Optuna.

Each candidate is averaged over the same K seeds (common random numbers). Candidates are asked
of a seeded TPE sampler a batch at a time (ask/tell) and the batch's runs go through
`sim.batch.run_many` together, so a fixed --sampler-seed and --batch give the same search on any
number of cores. Constraints (``retention_rate>=0.6``) are set on each trial
(``Trial.set_constraint``, Optuna's constrained TPE): the sampler steers towards feasible
candidates and the best policy is the best feasible one. The
first candidate is the base configuration's own policy, so the answer is never worse than the
status quo on the search seeds. The best policy and that baseline are then re-run on fresh
seeds, reporting each KPI's mean with a 95% interval and the paired difference.

Robust optimisation (``--robust mean`` or ``--robust q10``): every candidate also runs on the same
``--draws`` draws of the uncertain parameters (`research.priors`), and the objective is the mean,
or the chosen quantile (the bad tail: q10 of profit, q90 of costs), over the draws of the KPI's
mean over the seeds. A best point on a search bound is reported as such, in the report and on stderr.

    python -m research.optimise --objective profit --constraint 'retention_rate>=0.5' --trials 40
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from matplotlib.figure import Figure

from research import cli, priors
from research.evaluate import LOWER_IS_BETTER, Outcome, ask_tell, check_kpi, kpi_array, mean_ci, on_seeds
from research.space import Space, parse_space, with_values
from sim.config import ConfigError, SimConfig, all_firms

SPEC = cli.CONFIGS / "optimise.yaml"
SPEC_KEYS = ("base", "objective", "constraints", *cli.BUDGET_KEYS, "levers", "search")
REPORTED = ("profit", "retention_rate", "cltv", "market_share", "nps", "employee_turnover")


@dataclass(frozen=True)
class Constraint:
    """A bound on the mean of a KPI of the focal firm: ``kpi>=bound`` or ``kpi<=bound``."""

    kpi: str
    op: str
    bound: float

    @classmethod
    def parse(cls, text: str) -> Constraint:
        match = re.fullmatch(r"\s*(\w+)\s*(>=|<=)\s*([-+0-9.eE]+)\s*", text)
        if not match:
            raise ConfigError(f"--constraint={text!r} is not allowed: write KPI>=VALUE or KPI<=VALUE "
                              "(quoted in the shell: --constraint 'retention_rate>=0.6')")
        try:
            bound = float(match[3])
        except ValueError:
            raise ConfigError(f"--constraint={text!r}: {match[3]!r} is not a number") from None
        return cls(check_kpi(match[1]), match[2], bound)

    def violation(self, value: float) -> float:
        """How far the value is on the wrong side of the bound (<= 0: met), as Optuna expects."""
        return self.bound - value if self.op == ">=" else value - self.bound

    def __str__(self) -> str:
        return f"{self.kpi}{self.op}{self.bound:g}"


@dataclass(frozen=True)
class Robust:
    """Optimise a statistic over draws of the uncertain parameters: the mean, or a quantile of the bad tail."""

    draws: pd.DataFrame
    stat: str  # "mean" or "q<percent>", e.g. "q10"

    @classmethod
    def parse(cls, stat: str, draws: pd.DataFrame) -> Robust:
        if not re.fullmatch(r"mean|q([1-9]|[1-4][0-9]|50)", stat):
            raise ConfigError(f"--robust={stat} is not allowed: write mean, or q1 .. q50 (a quantile of the bad tail)")
        return cls(draws, stat)

    def value(self, per_draw: np.ndarray, objective: str) -> float:
        """The statistic over the draws; for a KPI where lower is better, the quantile is taken from the top."""
        if self.stat == "mean":
            return float(per_draw.mean())
        q = int(self.stat[1:]) / 100
        return float(np.quantile(per_draw, 1 - q if objective in LOWER_IS_BETTER else q))


def search(base: SimConfig, space: Space, objective: str, constraints: Sequence[Constraint], trials: int,
           seed_list: Sequence[int], sampler_seed: int, batch: int = 4, n_jobs: int = -1,
           robust: Robust | None = None) -> optuna.Study:
    """The Optuna study of `trials` candidates, each the mean of its KPIs over `seed_list` (and the draws if robust)."""
    firm = all_firms(base)[0].name
    kpis = list(dict.fromkeys([objective, *REPORTED, *(c.kpi for c in constraints)]))
    rows = robust.draws.to_dict(orient="records") if robust is not None else [{}]
    clash = sorted(set(space.names) & set(rows[0]))
    if clash:
        raise ConfigError(f"--levers {', '.join(clash)}: also uncertain in the priors: drop it from one of them")

    def evaluate(points: list[dict[str, Any]]) -> list[Outcome]:
        configs = [with_values(base, {**row, **p}) for p in points for row in rows]
        y = kpi_array(on_seeds(configs, seed_list, n_jobs), kpis, firm)  # (point x draw, seed, kpi)
        per_draw = y.mean(axis=1).reshape(len(points), len(rows), len(kpis))
        outcomes = []
        for cube in per_draw:
            figures = dict(zip(kpis, map(float, cube.mean(axis=0)), strict=True))
            value = figures[objective]
            if robust is not None:
                value = figures[f"{objective}_{robust.stat}"] = robust.value(cube[:, 0], objective)
            outcomes.append(Outcome(value, figures, {str(c): c.violation(figures[c.kpi]) for c in constraints}))
        return outcomes

    study = optuna.create_study(direction=_direction(objective), sampler=optuna.samplers.TPESampler(seed=sampler_seed))
    status_quo = space.values_in(base)
    if space.contains(status_quo):
        study.enqueue_trial(status_quo)
    return ask_tell(study, space, trials, batch, evaluate)


def at_bounds(space: Space, policy: dict[str, float], tolerance: float = 0.01) -> list[str]:
    """A warning for each lever of the best policy within `tolerance` of the search range of a search bound."""
    warnings = []
    for p in space.parameters:
        value, margin = policy[p.path], tolerance * (p.high - p.low)
        side = "lower" if value <= p.low + margin else "upper" if value >= p.high - margin else None
        if side:
            bound = p.low if side == "lower" else p.high
            warnings.append(f"{p.path}={value:.4g} is at the {side} search bound {bound:g}: the best value may lie "
                            "beyond it; widen the bound in the spec's levers (within the schema range) and re-run")
    return warnings


def best_trial(study: optuna.Study) -> tuple[optuna.trial.FrozenTrial, bool]:
    """The best feasible trial, or (no candidate met the constraints) the least infeasible one; and feasibility."""
    try:
        return study.best_trial, True
    except ValueError:
        return min(study.trials, key=lambda t: sum(max(v, 0) for v in t.constraints.values())), False


def trials_table(study: optuna.Study, x: str, y: str) -> pd.DataFrame:
    """Every trial: parameters, mean KPIs, feasibility, and whether it is on the Pareto front of (x, y)."""
    rows = [{"trial": t.number, **t.params, **t.user_attrs["figures"],
             "feasible": all(v <= 0 for v in t.constraints.values())} for t in study.trials]
    table = pd.DataFrame(rows)
    front = optuna.create_study(directions=[_direction(x), _direction(y)])
    front.add_trials([optuna.trial.create_trial(values=[r[x], r[y]]) for r in rows])
    table["pareto"] = table["trial"].isin([t.number for t in front.best_trials])
    return table


def _direction(kpi: str) -> str:
    return "minimize" if kpi in LOWER_IS_BETTER else "maximize"


def reevaluate(base: SimConfig, space: Space, policy: dict[str, float], fresh: Sequence[int],
               n_jobs: int = -1) -> pd.DataFrame:
    """The policy and the base configuration on unseen seeds: mean and 95% CI of each KPI, and the paired gain."""
    firm = all_firms(base)[0].name
    y = kpi_array(on_seeds([with_values(base, space.point([policy[n] for n in space.names])), base], fresh, n_jobs),
                  REPORTED, firm)
    best, best_ci = mean_ci(y[0], axis=0)
    now, now_ci = mean_ci(y[1], axis=0)
    gain, gain_ci = mean_ci(y[0] - y[1], axis=0)
    return pd.DataFrame({"kpi": REPORTED, "best": best, "best_ci95": best_ci, "baseline": now,
                         "baseline_ci95": now_ci, "gain": gain, "gain_ci95": gain_ci})


def plot(table: pd.DataFrame, x: str, y: str, best: int) -> Figure:
    """Trade-off of all trials: y against x, feasible or not, the Pareto front joined, the chosen policy starred."""
    fig = Figure(figsize=(7, 5), layout="constrained")
    ax = fig.subplots()
    for feasible, marker, label in ((True, "o", "feasible candidate"), (False, "x", "violates a constraint")):
        part = table[table["feasible"] == feasible]
        if len(part):
            ax.scatter(part[x], part[y], marker=marker, alpha=0.6, label=label)
    front = table[table["pareto"]].sort_values(x)
    ax.plot(front[x], front[y], "-", color="black", linewidth=1, label="Pareto front")
    chosen = table[table["trial"] == best]
    ax.scatter(chosen[x], chosen[y], marker="*", s=250, color="red", zorder=3, label="best policy")
    ax.set_xlabel(f"{x} (mean over the search seeds)")
    ax.set_ylabel(y)
    ax.set_title(f"Trade-off of {len(table)} candidate policies")
    ax.legend(fontsize="small")
    return fig


def main(argv: Sequence[str] | None = None) -> Path:
    """Command line: search, re-evaluate, and write trials.csv, best.json, report.md, pareto.png, run.json."""
    p = cli.parser("optimise", __doc__.split("\n\n")[0])
    p.add_argument("--spec", type=Path, default=SPEC, help="levers, bounds and defaults (default: %(default)s)")
    p.add_argument("--scenario", help="scenario to optimise in (configs/scenario/NAME.yaml)")
    p.add_argument("--objective", help="focal firm KPI to optimise, e.g. profit, cltv, market_share")
    p.add_argument("--constraint", nargs="+", default=None, metavar="KPI>=VALUE",
                   help="e.g. 'retention_rate>=0.6' (quoted: > is a shell redirection)")
    p.add_argument("--levers", nargs="+", help="declared levers to search, e.g. firm.empathy firm.bot_handover")
    cli.add_budget_options(p)
    p.add_argument("--robust", metavar="STAT",
                   help="optimise over draws of the uncertain parameters: mean, or qNN (e.g. q10) for the bad tail")
    p.add_argument("--draws", type=int, default=8, help="draws of the uncertain parameters with --robust")
    p.add_argument("--priors", type=Path, default=priors.DEFAULT, help="priors file with --robust")
    args = p.parse_args(argv)
    started = time.perf_counter()
    spec = cli.load_spec(args.spec, "--spec", SPEC_KEYS)
    declared = parse_space(spec.get("levers"), f"{args.spec}: levers")
    space = declared.subset(cli.pick(args.levers, spec, "search", declared.names), str(args.spec))
    objective = check_kpi(cli.pick(args.objective, spec, "objective", "profit"))
    constraints = [Constraint.parse(c) for c in cli.pick(args.constraint, spec, "constraints", [])]
    b = cli.budget(args, spec)
    scenario = [f"scenario={args.scenario}"] if args.scenario else []
    base = cli.base_config([*spec.get("base", []), *scenario, *args.set])

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    robust = None
    if args.robust is not None:
        draws = priors.load(args.priors).sample(base, args.draws, b.sampler_seed)
        robust = Robust.parse(args.robust, draws)
    study = search(base, space, objective, constraints, b.trials, b.seeds, b.sampler_seed, b.batch, args.jobs, robust)
    best, feasible = best_trial(study)
    x, y = ("retention_rate", "profit") if objective == "retention_rate" else ("retention_rate", objective)
    table = trials_table(study, x, y)
    check = reevaluate(base, space, best.params, b.fresh, args.jobs)
    warnings = at_bounds(space, best.params)
    for warning in warnings:
        print(f"research.optimise: warning: {warning}", file=sys.stderr)

    out = cli.output_dir(args.out, "optimise")
    cli.write_csv(out / "trials.csv", table)
    cli.save_figure(plot(table, x, y, best.number), out / "pareto.png")
    seconds = cli.record_run(out, "optimise", args, base, started, search_seeds=b.seeds, fresh_seeds=b.fresh,
                             runs=b.trials * len(b.seeds) + 2 * len(b.fresh))
    cli.write_json(out / "best.json", {"policy": best.params, "trial": best.number, "feasible": feasible,
                                       "objective": objective, "constraints": [str(c) for c in constraints],
                                       "fresh_seeds": b.fresh, "kpis": check.to_dict(orient="records"),
                                       "at_bounds": warnings, "robust": args.robust,
                                       "draws": args.draws if robust else 0})
    text = report(best, feasible, objective, constraints, check, b.trials, b.seeds, b.fresh, seconds, warnings,
                  robust)
    cli.write_text(out / "report.md", text)
    print(text)
    print(f"results: {out}")
    return out


def report(best: optuna.trial.FrozenTrial, feasible: bool, objective: str, constraints: Sequence[Constraint],
           check: pd.DataFrame, trials: int, search_seeds: Sequence[int], fresh: Sequence[int], seconds: float,
           warnings: Sequence[str] = (), robust: Robust | None = None) -> str:
    """The Markdown report: the best policy, its KPIs on fresh seeds against the baseline, and how it was found."""
    goal = f"{'minimise' if objective in LOWER_IS_BETTER else 'maximise'} {objective}"
    rules = ", ".join(map(str, constraints)) or "none"
    verdict = "" if feasible else "\n**No candidate met the constraints**: shown is the one closest to meeting them.\n"
    method = ""
    if robust is not None:
        stat = "the mean" if robust.stat == "mean" else f"the {robust.stat[1:]}% quantile of the bad tail"
        method = (f" Robust: the objective is {stat} over {len(robust.draws)} draws of the uncertain parameters "
                  f"(priors), the same for every candidate; best candidate's value "
                  f"{best.user_attrs['figures'][f'{objective}_{robust.stat}']:,.4g}. The fresh-seed check below is at "
                  "the configured values of those parameters.")
    verdict += "".join(f"\n**Warning**: {w}.\n" for w in warnings)
    policy = pd.DataFrame({"lever": list(best.params), "value": [float(v) for v in best.params.values()]})
    return "\n".join([
        f"# Best policy: {goal}", "", f"Constraints: {rules}. {trials} candidates (TPE), each averaged over seeds "
        f"{list(search_seeds)}; best re-run on fresh seeds {fresh[0]}..{fresh[-1]} ({seconds:.0f} s in all)." + method,
        verdict,
        cli.markdown_table(policy), "## KPIs on fresh seeds (mean and 95% CI half-width), against the baseline policy",
        "", "gain = best - baseline, paired on the same seeds.", "", cli.markdown_table(check)])


if __name__ == "__main__":
    sys.exit(cli.run("optimise", main))
