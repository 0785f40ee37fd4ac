"""Run results: simulate a config, and write summary.json and metrics.parquet atomically.

A file is written under a temporary name in the same directory and renamed into place, so a
reader (or a resumed sweep) never sees a half-written result. Each summary carries its
provenance: resolved config, seed, package and dependency versions, and the git commit.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

import sim
from sim import metrics
from sim.config import SimConfig, to_dict
from sim.model import EmpathyMarket

SUMMARY, METRICS, PARTIAL = "summary.json", "metrics.parquet", "PARTIAL"
KEY_PACKAGES = ("mesa", "numpy", "scipy", "networkx", "pandas", "hydra-core", "pyarrow")


@dataclass
class RunResult:
    """What one run produced."""

    summary: dict[str, Any]
    table: pd.DataFrame
    model: EmpathyMarket
    complete: bool = True


def simulate(cfg: SimConfig, progress: metrics.Progress | None = None) -> RunResult:
    """Run one simulation. Ctrl-C stops it early and returns a result marked incomplete."""
    model = EmpathyMarket(cfg)
    complete = True
    try:
        model.run(progress=progress)
    except KeyboardInterrupt:
        complete = False
    table = model.recorder.table()
    summary = {
        "seed": cfg.seed,
        "complete": complete,
        "weeks": model.week,
        "config": to_dict(cfg),
        "firms": metrics.summarise(model, table),
        "provenance": provenance(),
    }
    return RunResult(summary=summary, table=table, model=model, complete=complete)


def provenance() -> dict[str, Any]:
    """Package version, git commit (when run from a checkout) and key dependency versions."""
    versions = {}
    for name in KEY_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {"package": "sim", "version": sim.__version__, "git_commit": git_commit(), "dependencies": versions}


def git_commit() -> str | None:
    """The checkout's commit, or None outside a git checkout."""
    root = Path(sim.__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Call write(tmp_name), then rename tmp into path: readers see all of it or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def save(result: RunResult, out_dir: Path) -> None:
    """Write metrics.parquet, then summary.json last: a summary means the run's files are complete.

    An interrupted run writes its partial results plus a PARTIAL marker, and no summary.json
    under the final name, so a sweep treats it as not done.
    """
    out_dir = Path(out_dir)
    atomic_write(out_dir / METRICS, lambda tmp: result.table.to_parquet(tmp, index=False))
    text = json.dumps(result.summary, indent=2, sort_keys=True) + "\n"
    name = SUMMARY if result.complete else "summary.partial.json"

    def write_text(tmp: str) -> None:
        Path(tmp).write_text(text, encoding="utf-8")

    atomic_write(out_dir / name, write_text)
    marker = out_dir / PARTIAL
    if result.complete:
        marker.unlink(missing_ok=True)
    else:
        atomic_write(marker, lambda tmp: Path(tmp).write_text(f"stopped at week {result.summary['weeks']}\n"))


def is_done(out_dir: Path) -> bool:
    """A run directory holds a complete, readable result."""
    try:
        return json.loads((Path(out_dir) / SUMMARY).read_text()).get("complete", False)
    except (OSError, ValueError):
        return False
