"""Start-up: a tiny `python -m sim` run with the kernels compiled from nothing, then from the cache.

The first run of a version of the model on a machine compiles its kernels (sim.jit) and caches
them; later runs load them. Both are timed on a fresh cache folder, so the figures do not depend on
what earlier runs left behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from benchmarks import ROOT


def time_startup(repeats: int = 3) -> dict[str, float]:
    """Wall time of `python -m sim` at 1,000 customers for one week: compiling, then with the kernels cached."""
    with tempfile.TemporaryDirectory(prefix="sim-bench-startup-") as tmp:
        env = {**os.environ, "NUMBA_CACHE_DIR": tmp}
        runs = iter(range(repeats + 1))

        def wall() -> float:
            # a fresh output folder each time: a finished run's folder would be resumed, not run again
            command = [sys.executable, "-m", "sim", "market.customers=1000", "run.steps=1", "run.burn_in=0",
                       "run.progress=false", f"hydra.run.dir={tmp}/run{next(runs)}"]
            start = time.perf_counter()
            done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"the start-up run failed: {(done.stderr.strip().splitlines() or [''])[-1]}")
            if "results (complete)" not in done.stdout:
                raise RuntimeError(f"the start-up run did not run the model: {done.stdout.strip()[-200:]}")
            return time.perf_counter() - start

        compiling = wall()
        cached = min(wall() for _ in range(repeats))
    return {"compiling_s": compiling, "cached_s": cached}
