"""`python -m decide`: the status quo against one or more alternatives, and a decision report.

    python -m decide --scenario coffee_shop --set firm.empathy=0.2 --plan empathy_programme --seeds 8

An alternative is a plan (`--plan NAME` from configs/plan/, or a YAML file with `changes:`) or any
overrides (`--alternative "plan.changes=[{week:0,firm.price:1.1}]"`, or `--alternative
firm.empathy=0.8` for a lever that had always been in place). Every input is checked before any
run starts: bad input is one line on stderr, exit status 2, and nothing is written.
"""

from __future__ import annotations

import dataclasses
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from decide import compare, report
from decide.assumptions import differences, prior_set, run_robust, sources_table
from research import cli, priors
from research.evaluate import seeds as seed_range
from sim.app import CONFIG_DIR, group_options, load_config
from sim.config import ConfigError, PlanConfig, SimConfig, validate

PROG = "python -m decide"


def parser() -> cli.ToolParser:
    """The command line: the status quo, the alternatives, the runs, the robust comparison, the output."""
    p = cli.ToolParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", help="a business from configs/scenario/ (default: the default town)")
    p.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE",
                   help="overrides that make the status quo, as for python -m sim (e.g. firm.empathy=0.2)")
    p.add_argument("--plan", action="append", default=[], metavar="NAME|FILE",
                   help="an alternative: a plan from configs/plan/ or a YAML file with changes:; repeat for more")
    p.add_argument("--alternative", nargs="+", action="append", default=[], metavar="KEY=VALUE",
                   help="an alternative as overrides of the status quo; repeat the flag for more")
    p.add_argument("--seeds", type=int, default=8, help="paired runs per option (default: %(default)s)")
    p.add_argument("--weeks", type=int, help="horizon in weeks after the warm-up (default: run.steps, 104)")
    p.add_argument("--robust", type=int, default=0, metavar="N",
                   help="also compare over N draws of the uncertain assumptions (research.robust; 0: off)")
    p.add_argument("--robust-seeds", type=int, default=2, help="seeds per draw with --robust (default: %(default)s)")
    p.add_argument("--priors", type=Path, default=priors.DEFAULT, help="priors file for --robust")
    p.add_argument("--uncertain", nargs="+", help="with --robust, vary only these keys of the priors")
    p.add_argument("--tornado", type=int, default=6, metavar="K", help="with --robust, swing the K keys most "
                   "associated with the gain one at a time (default: %(default)s)")
    p.add_argument("--jobs", type=cli.jobs, default=-1, help="parallel processes (-1: all cores)")
    p.add_argument("--out", type=cli.out_folder, help="output folder (default: outputs/decide/<date>/<time>)")
    return p


def plan_file(text: str) -> Path:
    """A plan's file: configs/plan/<NAME>.yaml, or a path to a YAML file."""
    named = CONFIG_DIR / "plan" / f"{text}.yaml"
    if named.is_file():
        return named
    if Path(text).is_file():
        return Path(text)
    raise ConfigError(f"--plan={text}: no plan of that name in configs/plan/ (have: "
                      f"{', '.join(group_options('plan'))}) and no such file")


def with_plan(base: SimConfig, text: str) -> SimConfig:
    """The status quo with the plan of a file (its changes, and any plan.* values it sets)."""
    path = plan_file(text)
    data = cli.load_yaml(path, "--plan")
    cli.check_keys(data, [f.name for f in dataclasses.fields(PlanConfig)], str(path))
    try:
        return validate(dataclasses.replace(base, plan=dataclasses.replace(base.plan, **data)))
    except ConfigError as err:
        raise ConfigError(f"--plan={text}: {err}") from None


def options(args: object, base_overrides: list[str], base: SimConfig) -> list[compare.Option]:
    """The status quo, then every alternative, each composed and checked."""
    how = " ".join(o for o in base_overrides if not o.startswith("run.")) or "the default configuration"
    found = [compare.Option("status quo", base, how)]
    for text in args.plan:
        found.append(compare.Option(Path(text).stem, with_plan(base, text), f"plan {text}"))
    for items in args.alternative:
        found.append(compare.Option(" ".join(items), load_config([*base_overrides, *items]), " ".join(items)))
    names = [o.name for o in found]
    if len(found) < 2:
        raise ConfigError("no alternative: give --plan NAME|FILE or --alternative KEY=VALUE ... (or both)")
    if len(set(names)) != len(names):
        raise ConfigError(f"alternatives need distinct names: got {', '.join(names[1:])}")
    return found


def main(argv: Sequence[str] | None = None) -> Path:
    """Check everything, run the options paired by seed (and the robust comparison), write the report."""
    started = time.perf_counter()
    args = parser().parse_args(argv)
    for flag, value, lo in (("--seeds", args.seeds, 2), ("--robust", args.robust, 0),
                            ("--robust-seeds", args.robust_seeds, 1), ("--tornado", args.tornado, 0),
                            ("--weeks", args.weeks, 1)):
        if value is not None and value < lo:
            raise ConfigError(f"{flag}={value} is not allowed: give {lo} or more"
                              + (" (paired runs: an interval needs two)" if flag == "--seeds" else ""))
    if args.scenario is not None and args.scenario not in group_options("scenario"):
        raise ConfigError(f"--scenario={args.scenario} is not a known scenario: choose one of "
                          f"{', '.join(group_options('scenario'))}")
    base_overrides = [*([f"scenario={args.scenario}"] if args.scenario else []), *args.set,
                      *([f"run.steps={args.weeks}"] if args.weeks else []), "run.progress=false"]
    base = load_config(base_overrides)
    opts = options(args, base_overrides, base)
    seed_list = seed_range(args.seeds)
    found = None
    if args.robust:
        has_plan = any(o.cfg.plan.changes for o in opts[1:])
        found = prior_set(args.priors, args.uncertain, has_plan)
        found.resolve(base)  # ranges checked against this business before any run
    out = args.out or cli.ROOT / "outputs" / "decide" / time.strftime("%Y-%m-%d/%H-%M-%S")
    out.mkdir(parents=True, exist_ok=True)

    runs = compare.run_options(opts, seed_list, args.jobs)
    verdicts = [compare.verdict(runs, o, base.market.discount_rate) for o in runs.alternatives]
    years = compare.years_table(runs)
    robust_result = None
    if found is not None:
        alternatives = [differences(base, o.cfg) for o in opts[1:]]
        robust_result = run_robust(base, alternatives, [o.name for o in opts[1:]], found, args.robust,
                                   seed_range(args.robust_seeds), args.tornado, args.jobs)
    extra = list(robust_result.tornadoes[0]["parameter"]) if robust_result and robust_result.tornadoes else []
    sources = sources_table(base, found or priors.load(priors.DEFAULT), extra)
    context = {"title": f"Decision report: {', '.join(o.name for o in opts[1:])} against the status quo"
                        + (f" ({args.scenario})" if args.scenario else ""),
               "currency": base.market.currency, "weeks": str(base.run.steps), "burn_in": str(base.run.burn_in),
               "discount_rate": str(base.market.discount_rate),
               "command": f"{PROG} {shlex.join(sys.argv[1:] if argv is None else list(argv))}"}
    built = report.build(runs, verdicts, years, compare.rolling_paths(runs), sources, robust_result, context)
    write(out, built, context["title"], runs, verdicts, years)
    cli.write_json(out / "run.json", {"tool": "decide", "seeds": seed_list, "options": {o.name: o.how for o in opts},
                                      "wall_seconds": round(time.perf_counter() - started, 2)})
    print(built.text.split("## Cash against")[0].strip())
    print(f"report: {out / 'report.html'}")
    return out


def write(out: Path, built: report.Report, title: str, runs: compare.Runs, verdicts: Sequence[compare.Verdict],
          years: pd.DataFrame) -> None:
    """report.md with its PNGs, report.html (self-contained), and the per-seed numbers behind them as CSV."""
    for name, fig in built.figures.items():
        cli.save_figure(fig, out / name)
    cli.write_text(out / "report.md", built.text)
    cli.write_text(out / "report.html", built.html(title))
    rows = [{"alternative": v.name, "seed": s, "payback_week": p, "npv": n, "cash_at_horizon": g, "roi": r,
             "cash_at_risk": k, "one_off": c, "customers_gain": cu}
            for v in verdicts for s, p, n, g, r, k, c, cu in zip(runs.seeds, v.paybacks, v.npv, v.gain, v.roi,
                                                                    v.at_risk, v.one_off, v.customers, strict=True)]
    cli.write_csv(out / "per_seed.csv", pd.DataFrame(rows))
    cli.write_csv(out / "years.csv", years)


def run(argv: Sequence[str] | None = None) -> int:
    """Entry point: a configuration error is one line on stderr and exit status 2."""
    try:
        main(argv)
    except ConfigError as err:
        print(f"decide: error: {err}", file=sys.stderr)
        return 2
    return 0
