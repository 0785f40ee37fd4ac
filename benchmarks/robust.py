"""Wall time of a robust comparison (research.robust): strategies x draws of the priors x seeds.

Run as a user runs it, a subprocess into a temporary folder; the throughput it measures (runs per
second on the machine's cores) gives the time on N cores by extrapolation, said as such: runs are
independent, so they split over cores until the pool's start-up dominates.
"""

from __future__ import annotations

import os
import sys
import tempfile

from benchmarks import run_timed


def time_robust(draws: int, seeds: int, customers: int, steps: int, jobs: int,
                cores: tuple[int, ...] = (16, 64)) -> dict[str, float | int | dict[str, float]]:
    """Time `python -m research.robust` on 2 strategies (status quo, empathy 0.8) x draws x seeds."""
    with tempfile.TemporaryDirectory(prefix="sim-bench-robust-") as tmp:
        command = [sys.executable, "-m", "research.robust", "--alternative", "firm.empathy=0.8",
                   "--draws", str(draws), "--seeds", str(seeds), "--tornado", "0", "--jobs", str(jobs),
                   "--out", tmp, "--set", f"market.customers={customers}", f"run.steps={steps}"]
        wall = run_timed(command, "the robust comparison")
    runs = 2 * draws * seeds
    used = jobs if jobs > 0 else (os.cpu_count() or 1)
    per_core = runs / wall / used  # runs per second per core, start-up included
    return {"runs": runs, "draws": draws, "seeds": seeds, "customers": customers, "steps": steps, "jobs": used,
            "wall_s": wall, "runs_per_s": runs / wall,
            "extrapolated_wall_s": {str(n): runs / (per_core * n) for n in cores}}
