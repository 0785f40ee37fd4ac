"""Wall time of a seed sweep through the Hydra multirun path, and what the launcher adds per run.

The sweep is the command a user types (`python -m sim -m seed='range(R)' ...`, joblib launcher),
run as a subprocess into a temporary sweep directory. Each run's own time is read from its
directory: Hydra writes `.hydra/config.yaml` when the job starts and sim writes `summary.json`
last, so the launcher's overhead per run is (wall - sum of run times / jobs) / runs.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from benchmarks import run_timed


def run_seconds(run_dir: Path) -> float:
    """Time from the job's start (Hydra saved its config) to its summary (sim's last write)."""
    return (run_dir / "summary.json").stat().st_mtime - (run_dir / ".hydra" / "config.yaml").stat().st_mtime


def time_sweep(runs: int, customers: int, steps: int, jobs: int) -> dict[str, float | int]:
    """Run `runs` seeds of the default scenario through Hydra's joblib launcher on `jobs` processes."""
    with tempfile.TemporaryDirectory(prefix="sim-bench-sweep-") as tmp:
        command = [sys.executable, "-m", "sim", "-m", f"seed=range({runs})", f"market.customers={customers}",
                   f"run.steps={steps}", "run.progress=false", f"hydra.sweep.dir={tmp}",
                   f"hydra.launcher.n_jobs={jobs}"]
        wall = run_timed(command, "the sweep")
        seconds = [run_seconds(d) for d in Path(tmp).iterdir() if (d / "summary.json").exists()]
    if len(seconds) != runs:
        raise RuntimeError(f"the sweep wrote {len(seconds)} results, expected {runs}")
    return {
        "runs": runs,
        "customers": customers,
        "steps": steps,
        "jobs": jobs,
        "wall_s": wall,
        "run_s_mean": sum(seconds) / runs,
        "launcher_overhead_per_run_s": (wall - sum(seconds) / jobs) / runs,
    }
