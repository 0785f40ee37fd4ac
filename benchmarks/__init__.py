"""Speed and memory of the model (compiled kernels) against a plain per-agent Mesa model of the same rules."""

import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the checkout: where `python -m sim` and `-m benchmarks.probe` run


def run_timed(command: list[str], what: str) -> float:
    """Run a user's command from the checkout, quietly; its wall time in seconds, or RuntimeError naming `what`."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise RuntimeError(f"{what} failed (exit {done.returncode}): {last}")
    return wall
