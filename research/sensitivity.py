"""Global sensitivity analysis of KPIs over a declared parameter space, with SALib.

Sobol: Saltelli sampling, first-order (S1) and total-order (ST) indices with bootstrap 95%
confidence intervals. Morris: elementary-effects screening, mu* (mean absolute effect of moving
a parameter across its whole range, in KPI units) with its 95% interval, and sigma (spread of the
effects: interactions or non-linearity).

Seeds: every sample runs on the same K seeds (common random numbers) and its KPI is the mean over
them. The model is then a deterministic function of the parameters, as both estimators assume:
paired samples (Saltelli's A/B matrices, Morris' one-step moves) differ by their parameters only,
so the seed-to-seed noise does not masquerade as sensitivity. The report states the share of the
KPI's variance that is still noise (`noise_share`); where it is large, raise --seeds.

    python -m research.sensitivity --method sobol --samples 32 --kpi profit retention_rate
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from research import cli
from research.evaluate import check_kpi, kpi_array, on_seeds, seeds
from research.space import Space, parse_space, with_values
from sim.config import ConfigError, SimConfig, all_firms

SPACE = cli.CONFIGS / "sensitivity.yaml"
SPEC_KEYS = ("base", "seeds", "kpis", "samples", "parameters")
COLUMNS = {"sobol": ("S1", "S1_conf", "ST", "ST_conf"), "morris": ("mu_star", "mu_star_conf", "mu", "sigma")}


def sample(space: Space, method: str, n: int, seed: int) -> np.ndarray:
    """The input samples (rows) of the method's design."""
    problem = space.salib_problem()
    if method == "sobol":
        if n < 2 or n & (n - 1):
            raise ConfigError(f"samples={n} is not allowed for sobol: use a power of 2 (8, 16, 32, ...)")
        return sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)
    if n < 2:
        raise ConfigError(f"samples={n} is not allowed for morris: use at least 2 trajectories")
    return morris_sample.sample(problem, n, seed=seed)


def indices(space: Space, method: str, x: np.ndarray, y: np.ndarray, seed: int) -> pd.DataFrame:
    """The method's indices of one output y over the samples x, one row per parameter."""
    problem = space.salib_problem()
    rng = np.random.default_rng(seed)  # a Generator: SALib's sobol.analyze ignores the integer seed 0
    if method == "sobol":
        found = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=rng)
    else:
        found = morris_analyze.analyze(problem, x, y, seed=rng)
    return pd.DataFrame({"parameter": space.names, **{k: np.asarray(found[k], dtype=float) for k in COLUMNS[method]}})


def analyse(base: SimConfig, space: Space, method: str, n: int, kpis: Sequence[str], seed_list: Sequence[int],
            firm: str, sample_seed: int = 0, n_jobs: int = -1) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Run the design and return (indices per kpi and parameter, samples with mean KPIs, noise share per kpi)."""
    x = sample(space, method, n, sample_seed)
    configs = [with_values(base, space.point(row)) for row in x]
    y = kpi_array(on_seeds(configs, seed_list, n_jobs), kpis, firm)  # (sample, seed, kpi)
    mean = y.mean(axis=1)
    noise = y.var(axis=1, ddof=1).mean(axis=0) / len(seed_list) if len(seed_list) > 1 else np.full(len(kpis), np.nan)
    total = mean.var(axis=0, ddof=1)
    table = pd.concat([indices(space, method, x, mean[:, k], sample_seed).assign(kpi=name)
                       for k, name in enumerate(kpis)], ignore_index=True)
    samples = pd.DataFrame(x, columns=space.names).join(pd.DataFrame(mean, columns=list(kpis)))
    share = np.divide(noise, total, out=np.full(len(kpis), np.nan), where=total > 0)
    noise_share = pd.DataFrame({"kpi": list(kpis), "variance": total, "noise_share": share})
    return table[["kpi", "parameter", *COLUMNS[method]]], samples, noise_share


def plot(table: pd.DataFrame, method: str) -> Figure:
    """One panel per KPI: bars per parameter with their confidence intervals."""
    kpis = list(dict.fromkeys(table["kpi"]))
    fig = Figure(figsize=(8, 1.0 + 0.45 * len(table)), layout="constrained")
    axes = fig.subplots(len(kpis), 1, squeeze=False)[:, 0]
    bars = (("S1", "S1_conf", "first order S1"), ("ST", "ST_conf", "total order ST")) if method == "sobol" else (
        ("mu_star", "mu_star_conf", "mu* (effect across the range)"), ("sigma", None, "sigma (interactions)"))
    for ax, name in zip(axes, kpis, strict=True):
        t = table[table["kpi"] == name]
        pos = np.arange(len(t))
        for j, (col, conf, label) in enumerate(bars):
            ax.barh(pos + (j - 0.5) * 0.4, t[col], height=0.4, xerr=t[conf] if conf else None, capsize=3, label=label)
        ax.set_yticks(pos, t["parameter"])
        ax.invert_yaxis()
        ax.axvline(0, color="black", linewidth=0.6)
        ax.set_title(f"{name}: {'Sobol indices (95% CI)' if method == 'sobol' else 'Morris screening (95% CI)'}")
    axes[0].legend(loc="lower right", fontsize="small")
    return fig


def main(argv: Sequence[str] | None = None) -> Path:
    """Command line: run the analysis and write indices.csv, indices.md, indices.png, samples.csv, run.json."""
    p = cli.parser("sensitivity", __doc__.split("\n\n")[0])
    p.add_argument("--space", type=Path, default=SPACE, help="parameter space YAML (default: %(default)s)")
    p.add_argument("--method", choices=("sobol", "morris"), default="sobol")
    p.add_argument("--samples", type=int, help="Sobol base sample N (power of 2) or Morris trajectories")
    p.add_argument("--kpi", nargs="+", help="KPIs of the focal firm to analyse (default: from the space file)")
    p.add_argument("--parameters", nargs="+", help="analyse only these declared parameters")
    p.add_argument("--seeds", type=int, help="seeds per sample, averaged (default: from the space file)")
    p.add_argument("--sample-seed", type=int, default=0, help="seed of the sampler and the bootstrap")
    args = p.parse_args(argv)
    started = time.perf_counter()
    spec = cli.load_spec(args.space, "--space", SPEC_KEYS)
    space = parse_space(spec.get("parameters"), f"{args.space}: parameters")
    if args.parameters:
        space = space.subset(args.parameters, str(args.space))
    kpis = [check_kpi(k) for k in cli.pick(args.kpi, spec, "kpis", ["profit"])]
    n = cli.pick(args.samples, spec.get("samples", {}), args.method, 16)
    seed_list = seeds(cli.pick(args.seeds, spec, "seeds", 1))
    base = cli.base_config([*spec.get("base", []), *args.set])
    firm = all_firms(base)[0].name
    with_values(base, space.point([q.low for q in space.parameters]))  # fail fast on a bad key
    table, samples, noise = analyse(base, space, args.method, n, kpis, seed_list, firm, args.sample_seed, args.jobs)

    out = cli.output_dir(args.out, "sensitivity")
    cli.write_csv(out / "indices.csv", table)
    cli.write_csv(out / "samples.csv", samples)
    cli.save_figure(plot(table, args.method), out / "indices.png")
    seconds = cli.record_run(out, "sensitivity", args, base, started, seeds=seed_list,
                             runs=len(samples) * len(seed_list))
    cli.write_text(out / "indices.md", report(table, noise, args.method, n, len(samples), seed_list, firm, seconds))
    print(cli.markdown_table(table))
    print(f"{len(samples)} samples x {len(seed_list)} seeds in {seconds:.0f} s; results: {out}")
    return out


def report(table: pd.DataFrame, noise: pd.DataFrame, method: str, n: int, n_samples: int,
           seed_list: Sequence[int], firm: str, seconds: float) -> str:
    """The Markdown report: design, indices, and how much noise is left in each KPI."""
    design = (f"Saltelli sampling, base sample N={n}, first and total order" if method == "sobol"
              else f"Morris screening, {n} trajectories, 4 levels")
    lines = [f"# Sensitivity of {firm}'s KPIs ({method})", "",
             f"{design}: {n_samples} samples, each the mean over seeds {list(seed_list)} "
             f"(common random numbers), {n_samples * len(seed_list)} runs in {seconds:.0f} s. "
             "Confidence intervals are 95% bootstrap intervals.", "",
             cli.markdown_table(table), "## Noise left after averaging over the seeds", "",
             "noise_share = (mean variance between seeds / seeds) / variance across samples. "
             "Above about 0.1 the smaller indices are not distinguishable from noise: raise --seeds.", "",
             cli.markdown_table(noise)]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(cli.run("sensitivity", main))
