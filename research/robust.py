"""Robust comparison: strategies against the status quo over draws of the uncertain parameters times seeds.

Seed intervals say how lucky a run was, not whether the assumptions behind it hold. Here every
strategy (a set of overrides) runs on the same N draws of the priors (`research.priors`, a Latin
hypercube or Sobol design) and the same K seeds: common random numbers in both, so a difference
between strategies is due to the strategies alone. Per alternative against the status quo, on one
KPI of the focal firm (profit by default; the sign is turned for KPIs where lower is better):

- chance of beating the status quo: share of (draw, seed) runs where the gain is > 0, and share of
  draws where the gain averaged over the seeds is > 0;
- expected gain with a confidence interval from the crossed draws x seeds design: Var(mean) =
  (MS_draws + MS_seeds - MS_residual) / (N K), Satterthwaite degrees of freedom; with every range
  collapsed this is exactly the Student-t interval of the plain paired comparison over the seeds;
  and the 5-95% spread of the gain over all runs (what could happen);
- the variance of one run's gain split by the law of total variance into assumptions (variance of
  the draw means, corrected for seed noise: (MS_draws - MS_residual) / K) and seed noise (the rest);
- each option's expected regret: per draw, how far its KPI (mean over seeds) falls short of the
  best option's, averaged over the draws; and the worst regret.

Scenario discovery and a tornado chart (`research.discovery`) then say what the verdict hinges on.

    python -m research.robust --alternative firm.empathy=0.8 --draws 64 --seeds 4 --set market.customers=5000
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from research import cli, discovery, priors
from research.evaluate import LOWER_IS_BETTER, check_kpi, kpi_array, on_seeds, seeds
from research.space import with_values
from sim.config import ConfigError, SimConfig, all_firms, check_value

STATUS_QUO = "status quo"
MONEY = frozenset({"revenue", "costs", "profit", "cltv", "cltv_predicted", "cac"})
Strategies = Mapping[str, Mapping[str, Any]]


def parse_overrides(items: Sequence[str], flag: str) -> dict[str, Any]:
    """``KEY=VALUE`` items as a dict, each value typed as YAML reads it and checked against the schema."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"{flag} {item!r} is not allowed: write KEY=VALUE, e.g. firm.empathy=0.8")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            raise ConfigError(f"{flag} {item!r}: {text!r} is not a value") from None
        out[key] = check_value(key, value)
    return out


def strategy_name(overrides: Mapping[str, Any]) -> str:
    """A strategy's name: its overrides as written on the command line."""
    return " ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in overrides.items()) or STATUS_QUO


def configs_for(base: SimConfig, strategies: Strategies, draws: pd.DataFrame) -> list[SimConfig]:
    """One config per (strategy, draw), strategies outermost; a strategy may not set an uncertain key."""
    for name, overrides in strategies.items():
        clash = sorted(set(overrides) & set(draws.columns))
        if clash:
            raise ConfigError(f"strategy '{name}' sets {', '.join(clash)}, which the priors treat as uncertain: "
                              "drop it from the strategy or from --uncertain")
    rows = draws.to_dict(orient="records") if len(draws.columns) else [{}] * len(draws)
    return [with_values(base, {**row, **overrides}) for overrides in strategies.values() for row in rows]


def run_draws(base: SimConfig, strategies: Strategies, draws: pd.DataFrame, seed_list: Sequence[int],
              kpis: Sequence[str], n_jobs: int = -1) -> pd.DataFrame:
    """Every strategy on every draw and seed in one parallel batch: tidy (strategy, draw, seed, <kpis>)."""
    firm = all_firms(base)[0].name
    y = kpi_array(on_seeds(configs_for(base, strategies, draws), seed_list, n_jobs), kpis, firm)
    n = len(draws)
    index = pd.MultiIndex.from_product([list(strategies), range(n), list(seed_list)],
                                       names=["strategy", "draw", "seed"])
    return pd.DataFrame(y.reshape(-1, len(kpis)), index=index, columns=list(kpis)).reset_index()


def direction(kpi: str) -> float:
    """+1 when more of the KPI is better, -1 when less is (costs, churn, turnover...)."""
    return -1.0 if kpi in LOWER_IS_BETTER else 1.0


def matrix(runs: pd.DataFrame, strategy: str, kpi: str) -> np.ndarray:
    """One strategy's KPI as an array (draw, seed)."""
    part = runs[runs["strategy"] == strategy]
    if part.empty:
        raise ConfigError(f"no runs of strategy '{strategy}' (have: {', '.join(dict.fromkeys(runs['strategy']))})")
    return part.pivot(index="draw", columns="seed", values=kpi).sort_index().to_numpy(dtype=float)


@dataclass(frozen=True)
class Spread:
    """Mean of a (draw, seed) table with its interval, and its variance split between assumptions and seeds."""

    mean: float
    half_width: float
    df: float
    var_assumptions: float
    var_seeds: float


def crossed(g: np.ndarray, level: float = 0.95) -> Spread:
    """Two-way crossed random-effects analysis of g[draw, seed] (draws and seeds both shared by every strategy).

    g = mu + a_draw + b_seed + e: Var(grand mean) = var_a/N + var_b/K + var_e/(NK), estimated from
    the ANOVA mean squares; a factor with one level drops out (then it is the one-way t interval).
    """
    n, k = g.shape
    grand = g.mean()
    rows, cols = g.mean(axis=1), g.mean(axis=0)
    ms_d = k * ((rows - grand) ** 2).sum() / (n - 1) if n > 1 else 0.0
    ms_s = n * ((cols - grand) ** 2).sum() / (k - 1) if k > 1 else 0.0
    resid = g - rows[:, None] - cols[None, :] + grand
    ms_e = (resid**2).sum() / ((n - 1) * (k - 1)) if n > 1 and k > 1 else 0.0
    terms = [(ms, dof) for ms, dof in ((ms_d, n - 1), (ms_s, k - 1)) if dof > 0]
    if n > 1 and k > 1:
        terms.append((-ms_e, (n - 1) * (k - 1)))
    var_mean = max(sum(ms for ms, _ in terms), 0.0) / (n * k)
    denominator = sum(ms**2 / dof for ms, dof in terms)
    df = (sum(ms for ms, _ in terms) ** 2 / denominator) if denominator > 0 else np.nan
    if n * k < 2:
        half = np.nan
    elif denominator == 0:  # no variation at all
        half = 0.0
    else:
        half = float(stats.t.ppf(0.5 + level / 2, df) * np.sqrt(var_mean))
    var_a = max((ms_d - ms_e) / k, 0.0) if n > 1 else 0.0
    within = g - rows[:, None]  # one run's deviation from its draw's mean: seed effect plus interaction
    var_s = float((within**2).sum() / (n * (k - 1))) if k > 1 else np.nan
    return Spread(float(grand), half, float(df), float(var_a), var_s)


def compare(runs: pd.DataFrame, kpi: str, status_quo: str = STATUS_QUO, level: float = 0.95) -> pd.DataFrame:
    """Per alternative against the status quo: chance of beating it, expected gain and its interval, variance split."""
    sign, base = direction(kpi), matrix(runs, status_quo, kpi)
    rows = []
    for name in dict.fromkeys(runs["strategy"]):
        if name == status_quo:
            continue
        g = sign * (matrix(runs, name, kpi) - base)
        s = crossed(g, level)
        total = s.var_assumptions + s.var_seeds
        rows.append({
            "alternative": name, "kpi": kpi, "draws": g.shape[0], "seeds": g.shape[1],
            "p_beats": float((g > 0).mean()), "p_beats_draws": float((g.mean(axis=1) > 0).mean()),
            "gain": s.mean, "gain_ci_low": s.mean - s.half_width, "gain_ci_high": s.mean + s.half_width,
            "gain_p05": float(np.quantile(g, 0.05)), "gain_p95": float(np.quantile(g, 0.95)),
            "var_assumptions": s.var_assumptions, "var_seeds": s.var_seeds,
            "share_assumptions": s.var_assumptions / total if total > 0 else np.nan,
            "share_seeds": s.var_seeds / total if total > 0 else np.nan,
        })
    return pd.DataFrame(rows)


def regret(runs: pd.DataFrame, kpi: str) -> pd.DataFrame:
    """Per option: expected KPI, expected and worst regret over the draws, and the share of draws it is best in.

    Regret in a draw = best option's KPI minus this option's (mean over seeds; turned for lower-is-better
    KPIs): what choosing it costs had the assumptions been known. Seeds are luck nobody can know.
    """
    sign = direction(kpi)
    names = list(dict.fromkeys(runs["strategy"]))
    m = np.stack([sign * matrix(runs, n, kpi).mean(axis=1) for n in names])  # (option, draw)
    r = m.max(axis=0) - m
    best = m == m.max(axis=0)
    return pd.DataFrame({"option": names, "kpi": kpi, "expected": sign * m.mean(axis=1),
                         "expected_regret": r.mean(axis=1), "worst_regret": r.max(axis=1),
                         "p_best": best.mean(axis=1)})


def draw_gains(runs: pd.DataFrame, draws: pd.DataFrame, alternative: str, kpi: str,
               status_quo: str = STATUS_QUO) -> pd.DataFrame:
    """The draws table with the alternative's gain over the status quo in each draw (mean over seeds)."""
    g = direction(kpi) * (matrix(runs, alternative, kpi) - matrix(runs, status_quo, kpi))
    return draws.reset_index(drop=True).assign(gain=g.mean(axis=1))


def one_at_a_time(base: SimConfig, strategies: Strategies, bounds: pd.DataFrame, names: Sequence[str],
                  seed_list: Sequence[int], kpi: str, n_jobs: int = -1) -> pd.DataFrame:
    """Runs for a tornado: every uncertain key at its configured value, then each named key at its low and high end.

    Tidy: parameter ('' for the base point), level, value, strategy, seed, <kpi>.
    """
    table = bounds.set_index("parameter")
    points = [("", "base", np.nan, {})] + [
        (n, level, table.loc[n, level], {n: priors.coerce(n, table.loc[n, level])})
        for n in names for level in ("low", "high")]
    frames = []
    for parameter, level, value, change in points:
        draw = pd.DataFrame([change]) if change else pd.DataFrame(index=[0])
        runs = run_draws(base, strategies, draw, seed_list, [kpi], n_jobs)
        frames.append(runs.drop(columns="draw").assign(parameter=parameter, level=level, value=value))
    return pd.concat(frames, ignore_index=True)


@dataclass
class Comparison:
    """Everything a robust comparison produced: the draws, the runs and the summaries."""

    bounds: pd.DataFrame
    draws: pd.DataFrame
    runs: pd.DataFrame
    summary: pd.DataFrame
    regret: pd.DataFrame


def robust_compare(base: SimConfig, alternatives: Sequence[Mapping[str, Any]], prior_set: priors.Priors,
                   n_draws: int, seed_list: Sequence[int], kpi: str = "profit",
                   status_quo: Mapping[str, Any] | None = None, sampler: str = "lhs", sample_seed: int = 0,
                   n_jobs: int = -1, also: Sequence[str] = ()) -> Comparison:
    """Run the status quo and each alternative on the same draws and seeds; summarise against the status quo.

    The entry point for a decision command: `alternatives` are override dicts (``{"firm.empathy": 0.8}``),
    `prior_set` the uncertain parameters (narrowed or collapsed as needed), `also` more KPIs to keep in runs.
    """
    check_kpi(kpi)
    strategies: dict[str, Mapping[str, Any]] = {STATUS_QUO: dict(status_quo or {})}
    for overrides in alternatives:
        name = strategy_name(overrides)
        if name in strategies:
            raise ConfigError(f"--alternative {name}: given twice, or the same as the status quo")
        strategies[name] = dict(overrides)
    if len(strategies) < 2:
        raise ConfigError("--alternative: give at least one alternative to compare with the status quo")
    draws = prior_set.sample(base, n_draws, sample_seed, sampler)
    runs = run_draws(base, strategies, draws, seed_list, list(dict.fromkeys([kpi, *map(check_kpi, also)])), n_jobs)
    return Comparison(prior_set.resolve(base), draws, runs, compare(runs, kpi), regret(runs, kpi))


def main(argv: Sequence[str] | None = None) -> Path:
    """Command line: compare, find what the verdict hinges on, write report.md, tables, tornado PNGs, run.json."""
    p = cli.parser("robust", __doc__.split("\n\n")[0])
    p.add_argument("--alternative", nargs="+", action="append", required=True, metavar="KEY=VALUE",
                   help="one alternative strategy as overrides of the status quo; repeat the flag for more")
    p.add_argument("--status-quo", nargs="+", default=[], metavar="KEY=VALUE",
                   help="overrides that make the status quo (default: the base configuration as it is)")
    p.add_argument("--kpi", default="profit", help="focal firm KPI to compare on (default: %(default)s)")
    p.add_argument("--priors", type=Path, default=priors.DEFAULT, help="priors file (default: %(default)s)")
    p.add_argument("--uncertain", nargs="+", help="vary only these keys of the priors file (default: all)")
    p.add_argument("--draws", type=int, default=64, help="draws of the uncertain parameters (default: %(default)s)")
    p.add_argument("--seeds", type=int, default=4, help="seeds per draw, same for all options (default: %(default)s)")
    p.add_argument("--sampler", choices=priors.SAMPLERS, default="lhs", help="design of the draws")
    p.add_argument("--sample-seed", type=int, default=0, help="seed of the design of the draws")
    p.add_argument("--tornado", type=int, default=8, metavar="K",
                   help="one-at-a-time swings of the K keys most associated with the gain (0: none)")
    args = p.parse_args(argv)
    started = time.perf_counter()
    kpi = check_kpi(args.kpi)
    prior_set = priors.load(args.priors)
    if args.uncertain:
        prior_set = prior_set.subset(args.uncertain, str(args.priors))
    alternatives = [parse_overrides(a, "--alternative") for a in args.alternative]
    status_quo = parse_overrides(args.status_quo, "--status-quo")
    if args.tornado < 0:
        raise ConfigError(f"--tornado={args.tornado} is not allowed: give 0 or more keys")
    base = cli.base_config(args.set)
    seed_list = seeds(args.seeds)
    result = robust_compare(base, alternatives, prior_set, args.draws, seed_list, kpi, status_quo, args.sampler,
                            args.sample_seed, args.jobs)

    out = cli.output_dir(args.out, "robust")
    findings, tornadoes = [], []
    names = list(result.summary["alternative"])
    strategies = {STATUS_QUO: status_quo, **dict(zip(names, alternatives, strict=True))}
    for i, name in enumerate(names):
        table = draw_gains(result.runs, result.draws, name, kpi)
        findings.append(discovery.hinges(table.drop(columns="gain"), table["gain"].to_numpy(), name, kpi)[0])
        keys = discovery.associated(table.drop(columns="gain"), table["gain"].to_numpy())[:args.tornado]
        if keys:
            pair = {STATUS_QUO: status_quo, name: strategies[name]}
            oat = one_at_a_time(base, pair, result.bounds, keys, seed_list, kpi, args.jobs)
            swings = discovery.tornado(oat, STATUS_QUO, name, kpi, direction(kpi))
            tornadoes.append(swings.assign(alternative=name))
            cli.save_figure(discovery.plot_tornado(swings, name, kpi), out / f"tornado_{i + 1}.png")
    cli.write_csv(out / "runs.csv", result.runs)
    cli.write_csv(out / "draws.csv", result.draws.rename_axis("draw").reset_index())
    cli.write_csv(out / "priors.csv", result.bounds)
    cli.write_csv(out / "comparison.csv", result.summary)
    cli.write_csv(out / "regret.csv", result.regret)
    if tornadoes:
        cli.write_csv(out / "tornado.csv", pd.concat(tornadoes, ignore_index=True))
    runs_done = len(result.runs) + sum((2 * len(t) + 1) * 2 * len(seed_list) for t in tornadoes)
    seconds = cli.record_run(out, "robust", args, base, started, seeds=seed_list, runs=runs_done,
                             strategies=strategies)
    text = report(result, findings, tornadoes, kpi, seed_list, args.sampler, seconds, runs_done)
    cli.write_text(out / "report.md", text)
    print(text)
    print(f"results: {out}")
    return out


def report(result: Comparison, findings: Sequence[str], tornadoes: Sequence[pd.DataFrame], kpi: str,
           seed_list: Sequence[int], sampler: str, seconds: float, runs: int) -> str:
    """The Markdown report: design, verdicts, regret, what each verdict hinges on, the ranges used."""
    n = len(result.draws)
    s = result.summary
    def f(v: float) -> str:
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"

    verdicts = [f"- **{r.alternative}**: beats the status quo in {r.p_beats:.0%} of runs ({r.p_beats_draws:.0%} of "
                f"draws); expected gain {f(r.gain)} (95% CI {f(r.gain_ci_low)} to {f(r.gain_ci_high)}); 90% of "
                f"runs between {f(r.gain_p05)} and {f(r.gain_p95)}; {r.share_assumptions:.0%} of the spread "
                f"comes from the assumptions, {r.share_seeds:.0%} from seed noise." for r in s.itertuples()]
    lines = [f"# Robust comparison on {kpi} of the focal firm", "",
             f"{len(result.regret)} options x {n} draws of {len(result.bounds)} uncertain parameters ({sampler}) x "
             f"seeds {list(seed_list)}, common random numbers in draws and seeds; {runs} runs in {seconds:.0f} s."
             + (f" {kpi} is money: the model's currency units over the run's horizon." if kpi in MONEY else ""), "",
             *verdicts, "", "## Against the status quo", "",
             "gain = alternative minus status quo (turned for KPIs where lower is better), paired by draw and seed. "
             "p_beats: share of runs with gain > 0; p_beats_draws: share of draws whose gain, averaged over the "
             "seeds, is > 0. The CI is that of the expected gain over assumptions and seeds (crossed design); "
             "p05/p95 bound 90% of single runs.", "",
             cli.markdown_table(s.drop(columns=["kpi"])), "## Regret", "",
             "Per draw, how far an option's mean falls short of the best option's; expected = mean over draws.", "",
             cli.markdown_table(result.regret.drop(columns=["kpi"])), "## What it hinges on", "",
             *[f"- {f}" for f in findings], ""]
    for t in tornadoes:
        lines += [f"One-at-a-time swings of the gain of {t['alternative'].iloc[0]} (the keys most associated with "
                  "the gain across the draws):", "",
                  cli.markdown_table(t.drop(columns=["alternative"])), ""]
    lines += ["## Ranges used", "", cli.markdown_table(result.bounds)]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(cli.run("robust", main))
