"""Regenerate a scenario's results: run its sweep, analyse it, write the tables into its narrative.

The sweep goes through the same path a user takes, `python -m sim -m scenario=<name> <sweep>`,
in a subprocess writing into `sweeps/<name>`; runs already complete there are skipped, so an
interrupted regeneration resumes where it stopped (`--fresh` starts over, e.g. after the model
changed). `python -m analysis` then ranks the strategies and writes its report, `scenarios.effect`
pairs the runs into the answer to the scenario's question, and both tables replace the
narrative's text between the results markers, with the commands, seeds, size and date.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from analysis.gather import AnalysisError
from analysis.report import label, markdown
from scenarios.effect import EffectError, effect_table, short
from scenarios.registry import SCENARIOS, Scenario
from sim.app import check_overrides, load_config
from sim.config import ConfigError, SimConfig
from sim.results import atomic_write

START, END = "<!-- results:start -->", "<!-- results:end -->"
SWEEPS = Path("sweeps")
DEFAULT_SEEDS = 5
NOT_IN_RUN_NAME = ("run.progress",)  # excluded from Hydra's run directory names (configs/config.yaml)


class ScenarioError(RuntimeError):
    """A user-facing problem, printed as one line."""


def situation(scenario: Scenario, customers: int | None) -> list[str]:
    """The overrides that set the scene: the scenario preset, and the market size if given."""
    return [f"scenario={scenario.name}", *([f"market.customers={customers}"] if customers is not None else [])]


def sweep_overrides(scenario: Scenario, seeds: int, customers: int | None) -> list[str]:
    """The `python -m sim -m` overrides of a scenario's sweep over `seeds` seeds (0..seeds-1)."""
    return [*situation(scenario, customers), *scenario.sweep, f"seed=range(0,{seeds})", "run.progress=false"]


def planned_runs(overrides: list[str]) -> set[frozenset]:
    """Each run of a sweep as the set of (key, value) overrides Hydra gives it."""
    axes = []
    for o in OverridesParser.create().parse_overrides(overrides):
        if o.key_or_group in NOT_IN_RUN_NAME:
            continue
        values = o.sweep_iterator() if o.is_sweep_override() else [o.value()]
        axes.append([(o.key_or_group, v) for v in values])
    return {frozenset(combo) for combo in itertools.product(*axes)}


def foreign_runs(sweep_dir: Path, planned: set[frozenset]) -> list[Path]:
    """Run directories in sweep_dir that another sweep made (other seeds, size or strategies)."""
    parser = OverridesParser.create()
    foreign = []
    for path in sorted(sweep_dir.glob("*/.hydra/overrides.yaml")):
        parsed = parser.parse_overrides([str(o) for o in OmegaConf.load(path)])
        run = frozenset((o.key_or_group, o.value()) for o in parsed if o.key_or_group not in NOT_IN_RUN_NAME)
        if run not in planned:
            foreign.append(path.parent.parent)
    return foreign


def run_sweep(overrides: list[str], sweep_dir: Path, jobs: int | None = None) -> None:
    """Run the sweep through Hydra's multirun path on `jobs` processes (default: all cores).

    Its output goes to sweep_dir/sweep.log. The number of processes does not change the results.
    """
    sweep_dir.mkdir(parents=True, exist_ok=True)
    log = sweep_dir / "sweep.log"
    launcher = [f"hydra.launcher.n_jobs={jobs}"] if jobs is not None else []
    command = [sys.executable, "-m", "sim", "-m", *overrides, f"hydra.sweep.dir={sweep_dir}", *launcher]
    with log.open("w", encoding="utf-8") as out:
        code = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT).returncode
    if code != 0:
        raise ScenarioError(f"the sweep failed (exit {code}): {last_line(log.read_text(encoding='utf-8'))} "
                            f"(whole output: {log})")


def last_line(output: str) -> str:
    """The last line a failed command printed: its one-line error."""
    return (output.strip().splitlines() or ["no message"])[-1]


def analyse(sweep_dir: Path) -> str:
    """Run `python -m analysis` on the sweep (tables, figures, report.html); return its ranking table."""
    out = sweep_dir / "analysis"
    done = subprocess.run([sys.executable, "-m", "analysis", str(sweep_dir), "--out", str(out)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise ScenarioError(f"the analysis failed (exit {done.returncode}): {last_line(done.stderr)}")
    return (out / "ranking.md").read_text(encoding="utf-8").strip()


def results_block(scenario: Scenario, seeds: int, base: SimConfig, commands: list[str], effect: str,
                  ranking: str) -> str:
    """The narrative's results section: how it was made, the answer (effect) table, the ranking.

    `commands` are the regeneration command, then the commands it ran.
    """
    today = datetime.date.today().isoformat()
    ran = "\n".join(f"    {c}" for c in commands[1:])
    choice = label(short(scenario.choice))
    return (
        f"Regenerated on {today} by `{commands[0]}`: seeds 0-{seeds - 1} "
        f"for each strategy, {base.market.customers:,} customers, {base.run.steps} weeks. It ran\n\n{ran}\n\n"
        f"**Effect of {choice}** on the focal business: runs with a higher {choice} minus the run with the lowest, "
        f"paired on the same seed (same customers, graph and shocks); mean ± 95% CI half-width over seeds; "
        f"▲ better, ▼ worse where the whole interval is on that side of zero.\n\n{effect}\n\n"
        f"**Ranking of strategies by profit** (focal business, mean ± 95% CI half-width over seeds; "
        f"`{SWEEPS / scenario.name / 'analysis' / 'report.html'}` has the figures):\n\n{ranking}"
    )


def write_results(narrative: Path, block: str) -> None:
    """Replace the text between the results markers of a narrative (atomically)."""
    text = narrative.read_text(encoding="utf-8")
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ScenarioError(f"{narrative}: no '{START}' ... '{END}' markers to write the results between")
    new = f"{text[: start + len(START)]}\n{block}\n{text[end:]}"
    atomic_write(narrative, lambda tmp: Path(tmp).write_text(new, encoding="utf-8"))


def regenerate(scenario: Scenario, seeds: int, customers: int | None, fresh: bool = False,
               jobs: int | None = None) -> None:
    """Run, analyse and write up one scenario."""
    overrides = sweep_overrides(scenario, seeds, customers)
    check_overrides(overrides)
    base = load_config(situation(scenario, customers))
    sweep_dir = SWEEPS / scenario.name
    if fresh:
        shutil.rmtree(sweep_dir, ignore_errors=True)
    planned = planned_runs(overrides)
    foreign = foreign_runs(sweep_dir, planned)
    if foreign:
        raise ScenarioError(f"{sweep_dir} holds {len(foreign)} runs of another sweep (e.g. {foreign[0].name}): "
                            "add --fresh to start over")
    size = ["--customers", str(customers)] if customers is not None else []
    commands = [
        shlex.join(["python", "-m", "scenarios", scenario.name, "--seeds", str(seeds), *size]),
        shlex.join(["python", "-m", "sim", "-m", *overrides, f"hydra.sweep.dir={sweep_dir}"]),
        shlex.join(["python", "-m", "analysis", str(sweep_dir), "--out", str(sweep_dir / "analysis")]),
    ]
    print(f"{scenario.name}: {len(planned)} runs into {sweep_dir} (log: {sweep_dir / 'sweep.log'})", flush=True)
    started = time.perf_counter()
    run_sweep(overrides, sweep_dir, jobs)
    ranking = analyse(sweep_dir)
    effect = markdown(effect_table(sweep_dir, scenario.choice, scenario.kpis)).strip()
    write_results(scenario.narrative, results_block(scenario, seeds, base, commands, effect, ranking))
    print(f"{scenario.name}: done in {time.perf_counter() - started:.0f} s, results in {scenario.narrative}")


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        fail(message)


def fail(message: str) -> None:
    """Print a one-line error and exit non-zero."""
    print(f"scenarios: error: {message}", file=sys.stderr)
    sys.exit(2)


def main(argv: list[str] | None = None) -> None:
    """`python -m scenarios <name>|all [--seeds N] [--customers N] [--fresh] [--jobs N]`."""
    parser = OneLineParser(prog="python -m scenarios", description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=[*SCENARIOS, "all"], help="scenario to regenerate, or all")
    parser.add_argument("--seeds", type=int, default=DEFAULT_SEEDS, help="seeds per strategy (0..N-1)")
    parser.add_argument("--customers", type=int, help="market size (default: the scenario's own)")
    parser.add_argument("--fresh", action="store_true", help=f"delete {SWEEPS}/<name> first")
    parser.add_argument("--jobs", type=int, help="processes to run on (default: all cores)")
    args = parser.parse_args(argv)
    for option in ("seeds", "jobs"):
        value = getattr(args, option)
        if value is not None and value < 1:
            fail(f"--{option}={value} is out of range: allowed --{option} >= 1")
    names = list(SCENARIOS) if args.name == "all" else [args.name]
    started = time.perf_counter()
    for name in names:
        try:
            regenerate(SCENARIOS[name], args.seeds, args.customers, args.fresh, args.jobs)
        except (ConfigError, ScenarioError, EffectError, AnalysisError) as err:
            fail(f"{name}: {err}")
    if len(names) > 1:
        print(f"all {len(names)} scenarios done in {time.perf_counter() - started:.0f} s")
