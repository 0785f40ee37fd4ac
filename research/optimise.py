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

import optuna
import pandas as pd
from matplotlib.figure import Figure

from research import cli
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


def search(base: SimConfig, space: Space, objective: str, constraints: Sequence[Constraint], trials: int,
           seed_list: Sequence[int], sampler_seed: int, batch: int = 4, n_jobs: int = -1) -> optuna.Study:
    """The Optuna study of `trials` candidates, each the mean of its KPIs over `seed_list`."""
    firm = all_firms(base)[0].name
    kpis = list(dict.fromkeys([objective, *REPORTED, *(c.kpi for c in constraints)]))

    def evaluate(points: list[dict[str, Any]]) -> list[Outcome]:
        means = kpi_array(on_seeds([with_values(base, p) for p in points], seed_list, n_jobs), kpis, firm).mean(axis=1)
        figures = [dict(zip(kpis, map(float, row), strict=True)) for row in means]
        return [Outcome(f[objective], f, {str(c): c.violation(f[c.kpi]) for c in constraints}) for f in figures]

    study = optuna.create_study(direction=_direction(objective), sampler=optuna.samplers.TPESampler(seed=sampler_seed))
    status_quo = space.values_in(base)
    if space.contains(status_quo):
        study.enqueue_trial(status_quo)
    return ask_tell(study, space, trials, batch, evaluate)


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
    study = search(base, space, objective, constraints, b.trials, b.seeds, b.sampler_seed, b.batch, args.jobs)
    best, feasible = best_trial(study)
    x, y = ("retention_rate", "profit") if objective == "retention_rate" else ("retention_rate", objective)
    table = trials_table(study, x, y)
    check = reevaluate(base, space, best.params, b.fresh, args.jobs)

    out = cli.output_dir(args.out, "optimise")
    cli.write_csv(out / "trials.csv", table)
    cli.save_figure(plot(table, x, y, best.number), out / "pareto.png")
    seconds = cli.record_run(out, "optimise", args, base, started, search_seeds=b.seeds, fresh_seeds=b.fresh,
                             runs=b.trials * len(b.seeds) + 2 * len(b.fresh))
    cli.write_json(out / "best.json", {"policy": best.params, "trial": best.number, "feasible": feasible,
                                       "objective": objective, "constraints": [str(c) for c in constraints],
                                       "fresh_seeds": b.fresh, "kpis": check.to_dict(orient="records")})
    text = report(best, feasible, objective, constraints, check, b.trials, b.seeds, b.fresh, seconds)
    cli.write_text(out / "report.md", text)
    print(text)
    print(f"results: {out}")
    return out


def report(best: optuna.trial.FrozenTrial, feasible: bool, objective: str, constraints: Sequence[Constraint],
           check: pd.DataFrame, trials: int, search_seeds: Sequence[int], fresh: Sequence[int], seconds: float) -> str:
    """The Markdown report: the best policy, its KPIs on fresh seeds against the baseline, and how it was found."""
    goal = f"{'minimise' if objective in LOWER_IS_BETTER else 'maximise'} {objective}"
    rules = ", ".join(map(str, constraints)) or "none"
    verdict = "" if feasible else "\n**No candidate met the constraints**: shown is the one closest to meeting them.\n"
    policy = pd.DataFrame({"lever": list(best.params), "value": [float(v) for v in best.params.values()]})
    return "\n".join([
        f"# Best policy: {goal}", "", f"Constraints: {rules}. {trials} candidates (TPE), each averaged over seeds "
        f"{list(search_seeds)}; best re-run on fresh seeds {fresh[0]}..{fresh[-1]} ({seconds:.0f} s in all).", verdict,
        cli.markdown_table(policy), "## KPIs on fresh seeds (mean and 95% CI half-width), against the baseline policy",
        "", "gain = best - baseline, paired on the same seeds.", "", cli.markdown_table(check)])


if __name__ == "__main__":
    sys.exit(cli.run("optimise", main))
