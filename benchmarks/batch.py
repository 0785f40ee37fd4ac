"""Batched replications: many seeds of a small market in a few processes, against one process per run.

A seed sweep through the Hydra multirun path (`python -m sim -m seed='range(R)' ...`, joblib
launcher) runs every seed in `jobs` long-lived worker processes: imports, compiled kernels and
config composition are paid once per worker, not once per run. The baseline starts one
`python -m sim seed=i ...` per run, `jobs` at a time, as a shell loop would. Both write their
runs' summaries; the figures of every run must be equal (everything but provenance).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import ROOT, run_timed

SAME = ("config", "firms", "units", "weeks", "seed", "complete")  # what two runs of one seed must share


def summaries(folder: Path) -> dict[int, dict[str, Any]]:
    """Every run's summary under `folder`, by seed, without provenance (which names the launch)."""
    out = {}
    for path in folder.rglob("summary.json"):
        summary = json.loads(path.read_text())
        out[summary["seed"]] = {key: summary[key] for key in SAME if key in summary}
    return out


def one_process_per_run(seeds: int, options: list[str], jobs: int, folder: Path) -> float:
    """Wall time of `seeds` separate `python -m sim` processes, `jobs` running at once."""
    pending = [[sys.executable, "-m", "sim", f"seed={s}", *options, f"hydra.run.dir={folder / str(s)}"]
               for s in range(seeds)]
    running: list[subprocess.Popen] = []
    start = time.perf_counter()
    while pending or running:
        while pending and len(running) < jobs:
            running.append(subprocess.Popen(pending.pop(0), cwd=ROOT, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.PIPE, text=True))
        done = running.pop(0)
        _, err = done.communicate()
        if done.returncode != 0:
            raise RuntimeError(f"a run failed (exit {done.returncode}): {(err.strip().splitlines() or [''])[-1]}")
    return time.perf_counter() - start


def time_batch(seeds: int, customers: int, steps: int, jobs: int) -> dict[str, Any]:
    """Time `seeds` seeds both ways and check that they give the same results."""
    options = [f"market.customers={customers}", f"run.steps={steps}", "run.progress=false"]
    with tempfile.TemporaryDirectory(prefix="sim-bench-batch-") as tmp:
        batched_dir, single_dir = Path(tmp) / "batched", Path(tmp) / "single"
        batched = run_timed([sys.executable, "-m", "sim", "-m", f"seed=range({seeds})", *options,
                             f"hydra.sweep.dir={batched_dir}", f"hydra.launcher.n_jobs={jobs}"], "the batched sweep")
        single = one_process_per_run(seeds, options, jobs, single_dir)
        a, b = summaries(batched_dir), summaries(single_dir)
    if sorted(a) != list(range(seeds)) or a != b:
        raise RuntimeError("batched and one-process-per-run results differ")
    return {"seeds": seeds, "customers": customers, "steps": steps, "jobs": jobs, "batched_wall_s": batched,
            "one_process_per_run_wall_s": single, "speedup": single / batched, "results_equal": True}
