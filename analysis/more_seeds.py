"""More seeds until a target half-width: relaunch a sweep with more seeds, into the same folder.

The sweep's own launch command (from its manifest) is run again with `seed=range(n)`: the runs it
already holds are skipped (resume), only the new seeds run. The number of seeds is the one the
widest strategy's spread asks for (`aggregate.seeds_needed`); it is measured again after each round,
since the spread's estimate moves with the seeds, up to `max_seeds`.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from analysis import aggregate
from analysis.gather import AnalysisError, Sweep, gather

Runner = Callable[[list[str]], int]


def with_seeds(command: str, n: int) -> list[str]:
    """A `python -m sim -m ...` launch command, as arguments, with its seeds replaced by seed=range(n)."""
    args = shlex.split(command)
    if args[:4] != ["python", "-m", "sim", "-m"]:
        raise AnalysisError(f"cannot add seeds: the sweep was not launched by python -m sim -m ({command[:60]})")
    kept = [a for a in args[4:] if not a.startswith("seed=")]
    return [sys.executable, "-m", "sim", "-m", *kept, f"seed=range({n})"]


def widest(sweep: Sweep, kpi: str) -> tuple[float, int]:
    """The largest spread (sd over seeds) of the focal KPI over strategies, and the fewest seeds any strategy has."""
    stats = aggregate.mean_ci(aggregate.focal(sweep.runs), ["strategy"], [kpi], bounded=False)
    return float(stats["sd"].max()), int(stats["n"].min())


def run_command(args: list[str]) -> int:
    """Run a launch command in the foreground (its progress lines show); its exit status."""
    return subprocess.run(args, check=False).returncode


def until_target(root: Path, kpi: str, target: float, max_seeds: int, run: Runner = run_command) -> Sweep:
    """Relaunch the sweep with more seeds until every strategy's 95% half-width of `kpi` is at most `target`."""
    sweep = gather(root)
    if not sweep.commands:
        raise AnalysisError(f"{root}: no launch command recorded (manifest.jsonl): cannot add seeds")
    while True:
        sd, have = widest(sweep, kpi)
        needed = aggregate.seeds_needed(sd, target)
        if needed is None or needed <= have or have >= max_seeds:
            return sweep
        n = min(needed, max_seeds)
        print(f"analysis: {kpi} needs about {needed} seeds for ±{target:g}; running seeds {have}..{n - 1}",
              file=sys.stderr)
        if run(with_seeds(sweep.commands[-1], n)) != 0:
            raise AnalysisError(f"the sweep with {n} seeds failed: see its output above")
        sweep = gather(root)
